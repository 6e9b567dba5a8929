//! `t:base64DecodeExt`: forgiving Base64 decoding. Bytes outside the alphabet (standard or
//! URL-safe `-`/`_`) are skipped instead of ending the decoding; `=` is skipped too.
//!
//! ```text
//! SecRule ARGS:token "@rx ^admin" "id:1,phase:2,t:none,t:base64DecodeExt,deny"
//! ```

use super::base64_decode::{sextet, Decoder};

pub(crate) fn base64_decode_ext(input: &[u8]) -> Option<Vec<u8>> {
    let mut d = Decoder::default();
    for &b in input {
        let v = match b {
            b'-' => Some(62),
            b'_' => Some(63),
            _ => sextet(b),
        };
        if let Some(v) = v {
            d.push(v);
        }
    }
    super::util::changed(input, d.finish())
}

#[cfg(test)]
mod tests {
    use super::base64_decode_ext as t;

    #[test]
    fn vectors() {
        assert_eq!(t(b"VGVzdENhc2U=").unwrap(), b"TestCase");
        assert_eq!(t(b"VG.Vz dE\nNh*c2U").unwrap(), b"TestCase");
        assert_eq!(t(b"-_-_").unwrap(), b"\xfb\xff\xbf");
        assert_eq!(t(b"!!").unwrap(), b"");
    }
}
