//! False-positive filters for short fingerprints: two- and three-token fingerprints also
//! match plenty of ordinary text (`1--`, `foo' + 'bar`, `sexy and 17`), so libinjection
//! only reports them with extra evidence from the tokens or the raw input.

use super::token::Kind;
use super::Analysis;

/// True when the listed fingerprint of `a` should be reported for `input`.
pub(super) fn is_plausible(a: &Analysis, input: &[u8]) -> bool {
    let fp = a.fingerprint();
    // SQL Server's audit log hides statements mentioning sp_password.
    if fp.len() > 1
        && fp.last() == Some(&Kind::Comment.code())
        && input.windows(11).any(|w| w == b"sp_password")
    {
        return true;
    }
    match fp.len() {
        2 => two_tokens(a, input),
        3 => three_tokens(a),
        _ => true,
    }
}

fn two_tokens(a: &Analysis, input: &[u8]) -> bool {
    let (first, second) = (a.token(0), a.token(1));
    if second.kind == Kind::Union {
        // "1 union" alone is common text; only report it with folding or comments.
        return a.stats_tokens != 2;
    }
    if second.byte(0) == b'#' {
        return false;
    }
    if first.kind == Kind::Bareword && second.kind == Kind::Comment && second.byte(0) != b'/' {
        // `foo--` or `foo#`: only C-style comments count after a word.
        return false;
    }
    if first.kind == Kind::Number && second.kind == Kind::Comment {
        if second.byte(0) == b'/' || a.stats_tokens > 2 {
            return true;
        }
        // `1234--` is SQLi but `1234-ABCDEF--` (base64-like) is not: the number must be
        // followed directly by whitespace or a comment in the raw input.
        let at = |i: usize| input.get(i).copied().unwrap_or(0);
        let next = at(first.len());
        // Bytes >= 0x80 count as whitespace (libinjection compares a signed char).
        return next <= 32
            || next >= 0x80
            || (next == b'/' && at(first.len() + 1) == b'*')
            || (next == b'-' && at(first.len() + 1) == b'-');
    }
    // `--` in text is common: report `x--` only when the comment is just the dashes.
    !(second.len() > 2 && second.byte(0) == b'-')
}

fn three_tokens(a: &Analysis) -> bool {
    let fp = a.fingerprint();
    if fp == b"sos" || fp == b"s&s" {
        // `…foo' + 'bar…`: both ends open and the quotes agree.
        let (first, last) = (a.token(0), a.token(2));
        return first.str_open == 0 && last.str_close == 0 && first.str_close == last.str_open;
    }
    if matches!(fp, b"s&n" | b"n&1" | b"1&1" | b"1&v" | b"1&s") {
        // `sexy and 17` is text; `sexy and 17<18` (more tokens before folding) is not.
        return a.stats_tokens != 3;
    }
    let middle = a.token(1);
    if middle.kind == Kind::Keyword {
        // Only MySQL's `INTO OUTFILE` / `INTO DUMPFILE` keep a keyword in the middle.
        return middle.len() >= 5
            && middle
                .value()
                .get(..4)
                .is_some_and(|w| w.eq_ignore_ascii_case(b"INTO"));
    }
    true
}

#[cfg(test)]
mod tests {
    use crate::sqli::detect;

    #[test]
    fn number_then_comment_needs_a_separator() {
        assert_eq!(detect(b"1234 --").as_deref(), Some("1c"));
        assert_eq!(detect(b"1234--").as_deref(), Some("1c"));
    }

    #[test]
    fn union_alone_is_text() {
        assert_eq!(detect(b"1 union"), None);
    }

    #[test]
    fn concatenated_strings_need_open_ends() {
        assert_eq!(detect(b"foo' + 'bar").as_deref(), Some("sos"));
        assert_eq!(detect(b"'foo' + 'bar'"), None);
    }

    #[test]
    fn short_and_expressions_are_text() {
        assert_eq!(detect(b"sexy and 17"), None);
        assert!(detect(b"sexy and 17<18").is_some());
    }

    #[test]
    fn sp_password_comment() {
        assert!(detect(b"foo -- sp_password").is_some());
    }
}
