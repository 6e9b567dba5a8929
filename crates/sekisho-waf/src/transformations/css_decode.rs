//! `t:cssDecode`: decodes CSS 2 escapes.
//!
//! `\` + 1–6 hex digits gives one byte: one digit its value, more digits the last two (a
//! 4-digit code `FFxx`, or a 5/6-digit one with leading zeros, in the full-width ASCII range
//! maps to ASCII; other codes over 0xFFFF keep their low byte). One whitespace after a hex
//! escape is consumed. `\` + newline is removed, `\` + any other byte gives that byte, and a
//! trailing lone `\` is dropped.
//!
//! ```text
//! SecRule ARGS "@rx expression\(" "id:1,phase:2,t:none,t:cssDecode,deny"
//! ```

use super::util::{changed, full_width_low_byte, hex_pair, hex_val, is_c_space, is_f};

pub(crate) fn css_decode(input: &[u8]) -> Option<Vec<u8>> {
    if !input.contains(&b'\\') {
        return None;
    }
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while let Some(&b) = input.get(i) {
        if b != b'\\' {
            out.push(b);
            i += 1;
            continue;
        }
        i += 1; // the backslash itself is never kept
        let Some(&next) = input.get(i) else { break };
        let digits = input
            .get(i..)
            .unwrap_or_default()
            .iter()
            .take(6)
            .take_while(|c| c.is_ascii_hexdigit())
            .count();
        if digits == 0 {
            if next != b'\n' {
                out.push(next);
            }
            i += 1;
            continue;
        }
        let hex = input.get(i..i + digits).unwrap_or_default();
        let byte = if digits == 1 {
            hex.first().and_then(|&c| hex_val(c)).unwrap_or(0)
        } else {
            hex_pair(hex.get(digits - 2), hex.get(digits - 1)).unwrap_or(0)
        };
        // A full-width check applies to 4-digit codes and to longer ones padded with zeros.
        let full_width_candidate = match digits {
            4 => true,
            5 => hex.first() == Some(&b'0'),
            6 => hex.first() == Some(&b'0') && hex.get(1) == Some(&b'0'),
            _ => false,
        };
        if full_width_candidate {
            let ff = is_f(hex.get(digits - 4)) && is_f(hex.get(digits - 3));
            out.push(full_width_low_byte(ff, byte));
        } else {
            out.push(byte);
        }
        i += digits;
        if input.get(i).copied().is_some_and(is_c_space) {
            i += 1;
        }
    }
    changed(input, out)
}

#[cfg(test)]
mod tests {
    use super::css_decode as t;

    /// ModSecurity's own test vectors (secrules-language-tests).
    #[test]
    fn reference_vectors() {
        let input = b"test\\a\\b\\f\\n\\r\\t\\v\\?\\'\\\"\\0\\12\\123\\1234\\12345\\123456\\ff01\\ff5e\\\n\\0  string";
        let want = b"test\n\x0b\x0fnrtv?'\"\x00\x12#4EV!~\x00 string";
        assert_eq!(t(input).unwrap(), want);
        let input = b"\\1A\\1 A\\1234567\\123456 7\\1x\\1 x";
        assert_eq!(t(input).unwrap(), b"\x1a\x01AV7V7\x01x\x01x");
        assert_eq!(t(b"test\\").unwrap(), b"test");
        assert_eq!(t(b"Test\x00Case"), None);
    }

    #[test]
    fn vectors() {
        assert_eq!(t(b"plain"), None);
        assert_eq!(t(b"\\41\\042 C").unwrap(), b"ABC");
        assert_eq!(t(b"\\a").unwrap(), b"\x0a");
        assert_eq!(t(b"\\ff1c").unwrap(), b"<");
        assert_eq!(t(b"\\0ff1c\\00FF1E").unwrap(), b"<>");
        assert_eq!(t(b"\\1ff1c").unwrap(), b"\x1c");
        assert_eq!(t(b"\\1234567").unwrap(), b"\x567");
        // `\e` is a hex escape (0x0E), not an `e`.
        assert_eq!(t(b"e\\x\\p\\r\\e\\s\\s").unwrap(), b"expr\x0ess");
        assert_eq!(t(b"a\\\nb").unwrap(), b"ab");
        assert_eq!(t(b"ab\\").unwrap(), b"ab");
        assert_eq!(t(b"\\\\").unwrap(), b"\\");
        // Only one whitespace after an escape is consumed.
        assert_eq!(t(b"\\41  B").unwrap(), b"A B");
    }
}
