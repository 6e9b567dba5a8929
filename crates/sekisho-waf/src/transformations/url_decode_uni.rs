//! `t:urlDecodeUni`: URL decoding with IIS's `%uXXXX` escapes.
//!
//! `%XX` becomes one byte, `+` a space. `%uXXXX` becomes the code's low byte, except the
//! full-width ASCII range `U+FF01`–`U+FF5E`, which maps to ASCII (`%uFF1C` → `<`). Invalid or
//! truncated escapes stay as they are (for `%u`, both `%` and `u` are kept and decoding
//! resumes after them). No `SecUnicodeMapFile` table is applied.
//!
//! ```text
//! SecRule ARGS "@rx <script" "id:1,phase:2,t:none,t:urlDecodeUni,deny"
//! ```

use super::util::{changed, full_width_low_byte, hex_pair, is_f};

pub(crate) fn url_decode_uni(input: &[u8]) -> Option<Vec<u8>> {
    if !input.iter().any(|&b| b == b'%' || b == b'+') {
        return None;
    }
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while let Some(rest) = input.get(i..).filter(|r| !r.is_empty()) {
        // Copy the run of plain bytes at once.
        let run = rest
            .iter()
            .position(|&b| b == b'%' || b == b'+')
            .unwrap_or(rest.len());
        out.extend_from_slice(rest.get(..run).unwrap_or_default());
        i += run;
        let Some(&b) = input.get(i) else { break };
        match b {
            b'%' => match input.get(i + 1) {
                Some(&u @ (b'u' | b'U')) => {
                    let code = input
                        .get(i + 2..i + 6)
                        .filter(|d| d.iter().all(|c| c.is_ascii_hexdigit()));
                    match code {
                        Some(d) => {
                            let low = hex_pair(d.get(2), d.get(3)).unwrap_or(0);
                            let ff = is_f(d.first()) && is_f(d.get(1));
                            out.push(full_width_low_byte(ff, low));
                            i += 6;
                        }
                        None => {
                            out.extend_from_slice(&[b'%', u]);
                            i += 2;
                        }
                    }
                }
                _ => match hex_pair(input.get(i + 1), input.get(i + 2)) {
                    Some(c) => {
                        out.push(c);
                        i += 3;
                    }
                    None => {
                        out.push(b'%');
                        i += 1;
                    }
                },
            },
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    changed(input, out)
}

#[cfg(test)]
mod tests {
    use super::url_decode_uni as t;

    /// ModSecurity's own test vectors (secrules-language-tests).
    #[test]
    fn reference_vectors() {
        let all: Vec<u8> = (0..=255u8).collect();
        let percent: String = (0..=255u8).map(|b| format!("%{b:02x}")).collect();
        let unicode: String = (0..=255u8).map(|b| format!("%u00{b:02x}")).collect();
        let high: String = (0..=255u8).map(|b| format!("%u11{b:02x}")).collect();
        for input in [percent, unicode, high] {
            assert_eq!(
                t(format!("+{input}").as_bytes()).unwrap(),
                [&b" "[..], &all].concat()
            );
        }
        let full: String = (1..=0x5eu8).map(|b| format!("%uff{b:02x}")).collect();
        let ascii: Vec<u8> = (0x21..=0x7eu8).collect();
        assert_eq!(t(full.as_bytes()).unwrap(), ascii);
        assert_eq!(t(b"%uff00%uff7f%uff80%uffff").unwrap(), b"\x00\x7f\x80\xff");
        for (input, want) in [
            ("%+", "% "),
            ("%%20", "% "),
            ("%0g%20", "%0g "),
            ("%0%20", "%0 "),
            ("%g0%20", "%g0 "),
            ("%%u0020", "% "),
            ("%u%u0020", "%u "),
            ("%u0%u0020", "%u0 "),
            ("%u00%u0020", "%u00 "),
            ("%u000%u0020", "%u000 "),
            ("%u000g%u0020", "%u000g "),
        ] {
            assert_eq!(t(input.as_bytes()).unwrap(), want.as_bytes(), "{input}");
        }
        for same in ["%0%1%2%a%f", "%g0%gf", "%0g%fg", "%", "%0", "%%", "%gg"] {
            assert_eq!(t(same.as_bytes()), None, "{same}");
        }
    }

    #[test]
    fn vectors() {
        assert_eq!(t(b"abc"), None);
        assert_eq!(t(b"a%20b+c").unwrap(), b"a b c");
        assert_eq!(t(b"%u0041%U0042").unwrap(), b"AB");
        // Full-width `<` and `>` (U+FF1C, U+FF1E) map to ASCII.
        assert_eq!(t(b"%uff1cscript%uFF1E").unwrap(), b"<script>");
        // Outside the full-width range only the low byte is kept.
        assert_eq!(t(b"%u1234").unwrap(), b"\x34");
        assert_eq!(t(b"%uff00").unwrap(), b"\x00");
        assert_eq!(t(b"%uff5f").unwrap(), b"\x5f");
        assert_eq!(t(b"%c0%AF").unwrap(), b"\xc0\xaf");
    }

    #[test]
    fn invalid_escapes_stay() {
        assert_eq!(t(b"%"), None);
        assert_eq!(t(b"%4"), None);
        assert_eq!(t(b"%zz%"), None);
        assert_eq!(t(b"%u12"), None);
        // `%u` with bad digits keeps `%u`, then the rest is decoded normally.
        assert_eq!(t(b"%u%41zz").unwrap(), b"%uAzz");
        assert_eq!(t(b"%%41").unwrap(), b"%A");
        assert_eq!(t(b"100%+").unwrap(), b"100% ");
    }
}
