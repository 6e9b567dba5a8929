//! `t:base64Encode`: encodes the value in standard padded Base64.
//!
//! ```text
//! SecRule ARGS "@streq YWRtaW4=" "id:1,phase:2,t:none,t:base64Encode,deny"
//! ```

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn sym(v: u32) -> u8 {
    ALPHABET.get((v & 63) as usize).copied().unwrap_or(b'=')
}

pub(crate) fn base64_encode(input: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b = |k: usize| u32::from(chunk.get(k).copied().unwrap_or(0));
        let v = (b(0) << 16) | (b(1) << 8) | b(2);
        out.push(sym(v >> 18));
        out.push(sym(v >> 12));
        out.push(if chunk.len() > 1 { sym(v >> 6) } else { b'=' });
        out.push(if chunk.len() > 2 { sym(v) } else { b'=' });
    }
    super::util::changed(input, out)
}

#[cfg(test)]
mod tests {
    use super::base64_encode as t;

    #[test]
    fn vectors() {
        assert_eq!(t(b""), None);
        assert_eq!(t(b"f").unwrap(), b"Zg==");
        assert_eq!(t(b"fo").unwrap(), b"Zm8=");
        assert_eq!(t(b"foo").unwrap(), b"Zm9v");
        assert_eq!(t(b"TestCase\xff").unwrap(), b"VGVzdENhc2X/");
    }
}
