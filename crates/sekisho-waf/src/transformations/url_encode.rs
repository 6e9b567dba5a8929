//! `t:urlEncode`: URL-encodes the value: letters, digits and `*` stay, a space becomes `+`,
//! every other byte `%xx` (lower-case hex).
//!
//! ```text
//! SecRule ARGS "@contains %3cscript" "id:1,phase:2,t:none,t:urlEncode,deny"
//! ```

use super::util::{changed, hex_digit};

pub(crate) fn url_encode(input: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(input.len() * 3);
    for &b in input {
        match b {
            b'*' | b'0'..=b'9' | b'A'..=b'Z' | b'a'..=b'z' => out.push(b),
            b' ' => out.push(b'+'),
            _ => out.extend_from_slice(&[b'%', hex_digit(b >> 4), hex_digit(b)]),
        }
    }
    changed(input, out)
}

#[cfg(test)]
mod tests {
    use super::url_encode as t;

    #[test]
    fn vectors() {
        assert_eq!(t(b"abc*123"), None);
        assert_eq!(t(b"a b<\xff-").unwrap(), b"a+b%3c%ff%2d");
    }
}
