//! `t:removeCommentsChar`: deletes the comment markers `/*`, `*/`, `<!--`, `-->`, `--` and `#`
//! (but not the text between them).
//!
//! ```text
//! SecRule ARGS "@rx union select" "id:1,phase:2,t:none,t:removeCommentsChar,deny"
//! ```

use super::util::changed;

pub(crate) fn remove_comments_char(input: &[u8]) -> Option<Vec<u8>> {
    if !input
        .iter()
        .any(|&b| matches!(b, b'/' | b'*' | b'<' | b'-' | b'#'))
    {
        return None;
    }
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while let Some(&b) = input.get(i) {
        let rest = input.get(i..).unwrap_or_default();
        let marker = [&b"/*"[..], b"*/", b"<!--", b"-->", b"--", b"#"]
            .iter()
            .find(|m| rest.starts_with(m))
            .map_or(0, |m| m.len());
        if marker == 0 {
            out.push(b);
            i += 1;
        } else {
            // ModSecurity erases the marker and looks again at the same position, never
            // back: `-#-` leaves `--`.
            i += marker;
        }
    }
    changed(input, out)
}

#[cfg(test)]
mod tests {
    use super::remove_comments_char as t;

    #[test]
    fn vectors() {
        assert_eq!(t(b"abc"), None);
        assert_eq!(t(b"a-b"), None);
        assert_eq!(t(b"union/**/select").unwrap(), b"unionselect");
        assert_eq!(t(b"/*!50000select*/").unwrap(), b"!50000select");
        assert_eq!(t(b"<!--x-->").unwrap(), b"x");
        assert_eq!(t(b"a--b#c").unwrap(), b"abc");
        // After erasing `#`, the two `-` meet but are not looked at again.
        assert_eq!(t(b"-#-x").unwrap(), b"--x");
    }
}
