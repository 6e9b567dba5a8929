//! `t:utf8toUnicode`: rewrites UTF-8 sequences as `%uHHHH` (at least 4 lower-case hex digits).
//!
//! Follows ModSecurity byte for byte: ASCII is kept; a lead byte whose continuation bytes are
//! missing or invalid is dropped; stray continuation bytes and `0xF8`–`0xFF` are kept;
//! overlong forms and surrogates are encoded and then followed by their raw lead byte; a lead
//! byte `0xF5`–`0xF7` is kept before its encoding; a NUL byte other than the last is dropped.
//!
//! ```text
//! SecRule ARGS "@rx %u0430" "id:1,phase:2,t:none,t:utf8toUnicode,deny"
//! ```

use super::util::{changed, hex_digit};

fn is_cont(b: Option<&u8>) -> bool {
    b.is_some_and(|&c| c & 0xc0 == 0x80)
}

fn push_code(out: &mut Vec<u8>, code: u32) {
    out.extend_from_slice(b"%u");
    let digits = (32 - code.leading_zeros()).div_ceil(4).max(4);
    for k in (0..digits).rev() {
        out.push(hex_digit(((code >> (4 * k)) & 0xf) as u8));
    }
}

pub(crate) fn utf8_to_unicode(input: &[u8]) -> Option<Vec<u8>> {
    if input.iter().all(|&b| b != 0 && b < 0x80) {
        return None;
    }
    let mut out = Vec::with_capacity(input.len() * 2);
    let mut i = 0;
    while let Some(&c) = input.get(i) {
        let len = match c {
            0x00..=0x7f => {
                // A NUL followed by more input is dropped (ModSecurity overwrites it).
                if c != 0 || i + 1 == input.len() {
                    out.push(c);
                }
                i += 1;
                continue;
            }
            0xc0..=0xdf => 2,
            0xe0..=0xef => 3,
            0xf0..=0xf7 => 4,
            _ => {
                out.push(c);
                i += 1;
                continue;
            }
        };
        if len == 4 && c >= 0xf5 {
            out.push(c);
        }
        if !(1..len).all(|k| is_cont(input.get(i + k))) {
            i += 1;
            continue;
        }
        let lead_bits = u32::from(c) & (0x7f >> len);
        let code = (1..len).fold(lead_bits, |acc, k| {
            (acc << 6) | u32::from(input.get(i + k).copied().unwrap_or(0) & 0x3f)
        });
        push_code(&mut out, code);
        if (0xd800..=0xdfff).contains(&code) {
            out.push(c);
        }
        let overlong = match len {
            2 => code < 0x80,
            3 => code < 0x800,
            _ => code < 0x1_0000,
        };
        if overlong {
            out.push(c);
        }
        i += len;
    }
    changed(input, out)
}

#[cfg(test)]
mod tests {
    use super::utf8_to_unicode as t;

    #[test]
    fn vectors() {
        assert_eq!(t(b"ascii only"), None);
        assert_eq!(t("é".as_bytes()).unwrap(), b"%u00e9");
        assert_eq!(t("aзb".as_bytes()).unwrap(), b"a%u0437b");
        assert_eq!(t("€".as_bytes()).unwrap(), b"%u20ac");
        assert_eq!(t("😀".as_bytes()).unwrap(), b"%u1f600");
        assert_eq!(t("\u{ff1c}".as_bytes()).unwrap(), b"%uff1c");
    }

    #[test]
    fn invalid_sequences() {
        // Lead byte with a bad or missing continuation: the lead byte is dropped.
        assert_eq!(t(b"a\xc3b").unwrap(), b"ab");
        assert_eq!(t(b"\xe2\x82").unwrap(), b"\x82");
        // Stray continuation and 0xF8+ bytes are kept.
        assert_eq!(t(b"\x80\xff"), None);
        // Overlong `/` (C0 AF) is encoded, then its lead byte follows.
        assert_eq!(t(b"\xc0\xaf").unwrap(), b"%u002f\xc0");
        // Surrogate D800.
        assert_eq!(t(b"\xed\xa0\x80").unwrap(), b"%ud800\xed");
        // 0xF5 lead byte: kept before its encoding.
        assert_eq!(t(b"\xf5\x80\x80\x80").unwrap(), b"\xf5%u140000");
        assert_eq!(t(b"a\x00b").unwrap(), b"ab");
        assert_eq!(t(b"a\x00"), None);
    }
}
