//! `t:replaceComments`: replaces each C comment `/* … */` with one space; an unterminated
//! comment is replaced up to the end of the input. A lone `*/` stays.
//!
//! ```text
//! SecRule ARGS "@rx union select" "id:1,phase:2,t:none,t:replaceComments,deny"
//! ```

pub(crate) fn replace_comments(input: &[u8]) -> Option<Vec<u8>> {
    if !input.windows(2).any(|w| w == b"/*") {
        return None;
    }
    let mut out = Vec::with_capacity(input.len());
    let mut in_comment = false;
    let mut i = 0;
    while let Some(&b) = input.get(i) {
        let next = input.get(i + 1);
        if !in_comment {
            if b == b'/' && next == Some(&b'*') {
                in_comment = true;
                i += 2;
            } else {
                out.push(b);
                i += 1;
            }
        } else if b == b'*' && next == Some(&b'/') {
            in_comment = false;
            out.push(b' ');
            i += 2;
        } else {
            i += 1;
        }
    }
    if in_comment {
        out.push(b' ');
    }
    super::util::changed(input, out)
}

#[cfg(test)]
mod tests {
    use super::replace_comments as t;

    #[test]
    fn vectors() {
        assert_eq!(t(b"a */ b"), None);
        assert_eq!(t(b"union/**/select").unwrap(), b"union select");
        assert_eq!(t(b"a/* x */b/*").unwrap(), b"a b ");
        assert_eq!(t(b"/*/").unwrap(), b" ");
        assert_eq!(t(b"/**/").unwrap(), b" ");
    }
}
