//! `t:escapeSeqDecode`: decodes ANSI C escapes: `\a \b \f \n \r \t \v \\ \? \' \"`, `\xHH`
//! (`x` or `X`) and `\OOO` (1–3 octal digits, low byte kept). For any other `\c`, the
//! backslash is dropped and `c` kept; a trailing lone `\` stays.
//!
//! ```text
//! SecRule ARGS "@rx \x00" "id:1,phase:2,t:none,t:escapeSeqDecode,deny"
//! ```

use super::util::{changed, hex_pair};

pub(crate) fn escape_seq_decode(input: &[u8]) -> Option<Vec<u8>> {
    if !input.contains(&b'\\') {
        return None;
    }
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while let Some(&b) = input.get(i) {
        let Some(&next) = input.get(i + 1).filter(|_| b == b'\\') else {
            out.push(b);
            i += 1;
            continue;
        };
        let simple = match next {
            b'a' => Some(0x07),
            b'b' => Some(0x08),
            b'f' => Some(0x0c),
            b'n' => Some(b'\n'),
            b'r' => Some(b'\r'),
            b't' => Some(b'\t'),
            b'v' => Some(0x0b),
            b'\\' | b'?' | b'\'' | b'"' => Some(next),
            _ => None,
        };
        if let Some(c) = simple {
            out.push(c);
            i += 2;
        } else if let Some(c) =
            hex_pair(input.get(i + 2), input.get(i + 3)).filter(|_| matches!(next, b'x' | b'X'))
        {
            out.push(c);
            i += 4;
        } else if (b'0'..=b'7').contains(&next) {
            let digits = input
                .get(i + 1..)
                .unwrap_or_default()
                .iter()
                .take(3)
                .take_while(|c| (b'0'..=b'7').contains(*c))
                .fold((0u32, 0usize), |(v, n), &c| {
                    (v * 8 + u32::from(c - b'0'), n + 1)
                });
            out.push((digits.0 & 0xff) as u8);
            i += 1 + digits.1;
        } else {
            out.push(next);
            i += 2;
        }
    }
    changed(input, out)
}

#[cfg(test)]
mod tests {
    use super::escape_seq_decode as t;

    /// ModSecurity's own test vectors (secrules-language-tests).
    #[test]
    fn reference_vectors() {
        let input = b"\\a\\b\\f\\n\\r\\t\\v\\?\\'\\\"\\0\\12\\123\\x00\\xff";
        assert_eq!(
            t(input).unwrap(),
            b"\x07\x08\x0c\n\r\t\x0b?'\"\x00\nS\x00\xff"
        );
        assert_eq!(
            t(b"\\8\\9\\666\\xag\\xga\\0123").unwrap(),
            b"89\xb6xagxga\n3"
        );
        assert_eq!(t(b"\\x\\x0").unwrap(), b"xx0");
        assert_eq!(t(b"\\01").unwrap(), b"\x01");
        assert_eq!(t(b"\\012").unwrap(), b"\n");
        assert_eq!(t(b"\\"), None);
    }

    #[test]
    fn vectors() {
        assert_eq!(t(b"plain"), None);
        assert_eq!(t(b"\\n\\t\\\\\\?\\'\\\"").unwrap(), b"\n\t\\?'\"");
        assert_eq!(t(b"\\x41\\X42").unwrap(), b"AB");
        assert_eq!(t(b"\\101\\0\\1234").unwrap(), b"A\x00S4");
        assert_eq!(t(b"\\777").unwrap(), b"\xff");
        assert_eq!(t(b"\\z").unwrap(), b"z");
        assert_eq!(t(b"\\x4").unwrap(), b"x4");
        assert_eq!(t(b"a\\"), None);
    }
}
