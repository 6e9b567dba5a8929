//! `t:sqlHexDecode`: decodes SQL hex literals: `0x` (or `0X`) followed by pairs of hex digits
//! becomes the bytes; an odd final digit stays, and `0x` without a full pair stays as is.
//!
//! ```text
//! SecRule ARGS "@rx union" "id:1,phase:2,t:none,t:sqlHexDecode,t:lowercase,deny"
//! ```

use super::util::{changed, hex_pair};

pub(crate) fn sql_hex_decode(input: &[u8]) -> Option<Vec<u8>> {
    if !input.windows(2).any(|w| w.eq_ignore_ascii_case(b"0x")) {
        return None;
    }
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while let Some(&b) = input.get(i) {
        let is_prefix = b == b'0' && matches!(input.get(i + 1), Some(b'x' | b'X'));
        if is_prefix && hex_pair(input.get(i + 2), input.get(i + 3)).is_some() {
            i += 2;
            while let Some(c) = hex_pair(input.get(i), input.get(i + 1)) {
                out.push(c);
                i += 2;
            }
        } else {
            out.push(b);
            i += 1;
        }
    }
    changed(input, out)
}

#[cfg(test)]
mod tests {
    use super::sql_hex_decode as t;

    #[test]
    fn vectors() {
        assert_eq!(t(b"select 1"), None);
        assert_eq!(t(b"0x616263").unwrap(), b"abc");
        assert_eq!(t(b"x=0X41424").unwrap(), b"x=AB4");
        assert_eq!(t(b"0x"), None);
        assert_eq!(t(b"0xg1"), None);
        assert_eq!(t(b"00x41").unwrap(), b"0A");
    }
}
