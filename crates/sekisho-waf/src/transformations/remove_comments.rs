//! `t:removeComments`: deletes comments: `/* … */`, `<!-- … -->`, and everything from `--`
//! or `#` to the end of the input. An unterminated block comment becomes one space.
//!
//! ```text
//! SecRule ARGS "@rx unionselect" "id:1,phase:2,t:none,t:removeComments,deny"
//! ```

use super::util::changed;

pub(crate) fn remove_comments(input: &[u8]) -> Option<Vec<u8>> {
    if !input
        .iter()
        .any(|&b| matches!(b, b'/' | b'<' | b'-' | b'#'))
    {
        return None;
    }
    let mut out = Vec::with_capacity(input.len());
    let mut in_comment = false;
    let mut i = 0;
    while let Some(&b) = input.get(i) {
        let rest = input.get(i..).unwrap_or_default();
        if !in_comment {
            if rest.starts_with(b"/*") {
                in_comment = true;
                i += 2;
            } else if rest.starts_with(b"<!--") {
                in_comment = true;
                i += 4;
            } else if rest.starts_with(b"--") || b == b'#' {
                // A line comment runs to the end of the input.
                return Some(out);
            } else {
                out.push(b);
                i += 1;
            }
        } else {
            let end = if rest.starts_with(b"*/") {
                2
            } else if rest.starts_with(b"-->") {
                3
            } else {
                0
            };
            if end == 0 {
                i += 1;
                continue;
            }
            in_comment = false;
            i += end;
        }
    }
    if in_comment {
        out.push(b' ');
    }
    changed(input, out)
}

#[cfg(test)]
mod tests {
    use super::remove_comments as t;

    /// ModSecurity's own test vectors (secrules-language-tests).
    #[test]
    fn reference_vectors() {
        for (input, want) in [
            ("/* TestCase */", ""),
            ("Before/* TestCase */After", "BeforeAfter"),
            ("/*Before/* Test\r\nCase ", " "),
            ("Before /* Test\nCase ", "Before  "),
            (
                "Before/* T*/ /* e */ /* s */ /* t */\r\nCase ",
                "Before   \r\nCase ",
            ),
            (
                "Before /* */ ops */ Test\nCase ",
                "Before  ops */ Test\nCase ",
            ),
            ("Test/*\nCase */ After", "Test After"),
            ("SELECT/**//**/UNION", "SELECTUNION"),
            ("foo<!-- comment 1 --><!-- comment 2 -->bar", "foobar"),
        ] {
            assert_eq!(t(input.as_bytes()).unwrap(), want.as_bytes(), "{input:?}");
        }
        assert_eq!(t(b"Before TestCase */ After"), None);
    }

    #[test]
    fn vectors() {
        assert_eq!(t(b"abc"), None);
        assert_eq!(t(b"a-b/c"), None);
        assert_eq!(t(b"union/**/select").unwrap(), b"unionselect");
        assert_eq!(t(b"a<!-- x -->b").unwrap(), b"ab");
        assert_eq!(t(b"1 -- x").unwrap(), b"1 ");
        assert_eq!(t(b"1#x").unwrap(), b"1");
        assert_eq!(t(b"/*a*/#").unwrap(), b"");
        assert_eq!(t(b"a/* x").unwrap(), b"a ");
        assert_eq!(t(b"/* x */").unwrap(), b"");
    }
}
