//! `t:jsDecode`: decodes JavaScript escapes.
//!
//! `\uHHHH` gives the low byte (full-width ASCII `\uFF01`–`\uFF5E` maps to ASCII), `\xHH` one
//! byte, `\OOO` an octal byte (at most 3 digits, only 2 when the first is above `3`), `\a \b
//! \f \n \r \t \v` their control characters, and `\` before any other byte that byte. A
//! trailing lone `\` stays.
//!
//! ```text
//! SecRule ARGS "@rx alert\(" "id:1,phase:2,t:none,t:jsDecode,deny"
//! ```

use super::util::{changed, full_width_low_byte, hex_pair, is_f};

fn is_octal(b: Option<&u8>) -> bool {
    matches!(b, Some(b'0'..=b'7'))
}

pub(crate) fn js_decode(input: &[u8]) -> Option<Vec<u8>> {
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
        let next = input.get(i + 1);
        let unicode = input
            .get(i + 2..i + 6)
            .filter(|d| next == Some(&b'u') && d.iter().all(u8::is_ascii_hexdigit));
        if let Some(d) = unicode {
            let low = hex_pair(d.get(2), d.get(3)).unwrap_or(0);
            out.push(full_width_low_byte(is_f(d.first()) && is_f(d.get(1)), low));
            i += 6;
        } else if let Some(c) =
            hex_pair(input.get(i + 2), input.get(i + 3)).filter(|_| next == Some(&b'x'))
        {
            out.push(c);
            i += 4;
        } else if is_octal(next) {
            // Up to three octal digits, but only two when three would not fit in a byte.
            let mut n = 1;
            while n < 3 && is_octal(input.get(i + 1 + n)) {
                n += 1;
            }
            if n == 3 && next.is_some_and(|&c| c > b'3') {
                n = 2;
            }
            let value = input
                .get(i + 1..i + 1 + n)
                .unwrap_or_default()
                .iter()
                .fold(0u32, |acc, &c| acc * 8 + u32::from(c - b'0'));
            out.push((value & 0xff) as u8);
            i += 1 + n;
        } else if let Some(&c) = next {
            out.push(match c {
                b'a' => 0x07,
                b'b' => 0x08,
                b'f' => 0x0c,
                b'n' => b'\n',
                b'r' => b'\r',
                b't' => b'\t',
                b'v' => 0x0b,
                other => other,
            });
            i += 2;
        } else {
            out.push(b);
            i += 1;
        }
    }
    changed(input, out)
}

#[cfg(test)]
mod tests {
    use super::js_decode as t;

    /// ModSecurity's own test vectors (secrules-language-tests).
    #[test]
    fn reference_vectors() {
        let input = b"\\a\\b\\f\\n\\r\\t\\v\\?\\'\\\"\\0\\12\\123\\x00\\xff\\u0021\\uff01";
        let want = b"\x07\x08\x0c\n\r\t\x0b?'\"\x00\nS\x00\xff!!";
        assert_eq!(t(input).unwrap(), want);
        let input = b"\\8\\9\\666\\u00ag\\u00ga\\u0zaa\\uz0aa\\xag\\xga\\0123\\u00a";
        assert_eq!(t(input).unwrap(), b"8966u00agu00gau0zaauz0aaxagxga\n3u00a");
        assert_eq!(t(b"\\x\\x0\x00").unwrap(), b"xx0\x00");
        assert_eq!(t(b"\\u\\u0\\u01\\u012").unwrap(), b"uu0u01u012");
        assert_eq!(t(b"\\\\0").unwrap(), b"\\0");
    }

    #[test]
    fn vectors() {
        assert_eq!(t(b"plain"), None);
        assert_eq!(t(b"\\x41\\u0042\\103").unwrap(), b"ABC");
        assert_eq!(t(b"\\uff1cscript\\uFF1e").unwrap(), b"<script>");
        assert_eq!(t(b"\\u1234").unwrap(), b"\x34");
        assert_eq!(t(b"\\n\\t\\'\\\"\\\\").unwrap(), b"\n\t'\"\\");
        assert_eq!(t(b"\\a\\b\\f\\r\\v").unwrap(), b"\x07\x08\x0c\r\x0b");
        // Octal: three digits only when the first is 0-3.
        assert_eq!(t(b"\\377\\477").unwrap(), b"\xff\x277");
        assert_eq!(t(b"\\0").unwrap(), b"\x00");
        assert_eq!(t(b"\\12x").unwrap(), b"\nx");
    }

    #[test]
    fn invalid_escapes() {
        assert_eq!(t(b"\\"), None);
        assert_eq!(t(b"abc\\"), None);
        assert_eq!(t(b"\\x4").unwrap(), b"x4");
        assert_eq!(t(b"\\xzz").unwrap(), b"xzz");
        assert_eq!(t(b"\\u12").unwrap(), b"u12");
        // Only lower-case `u` and `x` introduce escapes.
        assert_eq!(t(b"\\U0041").unwrap(), b"U0041");
        assert_eq!(t(b"\\X41").unwrap(), b"X41");
    }
}
