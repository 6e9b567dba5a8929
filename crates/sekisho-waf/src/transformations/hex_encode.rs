//! `t:hexEncode`: encodes every byte as two lower-case hex digits.
//!
//! ```text
//! SecRule ARGS "@streq 3c736372697074" "id:1,phase:2,t:none,t:hexEncode,deny"
//! ```

use super::util::hex_digit;

pub(crate) fn hex_encode(input: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(input.len() * 2);
    for &b in input {
        out.extend_from_slice(&[hex_digit(b >> 4), hex_digit(b)]);
    }
    super::util::changed(input, out)
}

#[cfg(test)]
mod tests {
    use super::hex_encode as t;

    #[test]
    fn vectors() {
        assert_eq!(t(b""), None);
        assert_eq!(t(b"<a\x00\xff").unwrap(), b"3c6100ff");
    }
}
