//! Apache-style configuration text handling: logical lines (comments, blank lines, trailing
//! backslash continuations) and the splitting of a line into quoted or bare arguments.

/// One directive's text after continuations are joined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LogicalLine {
    /// 1-based number of the first physical line.
    pub line: usize,
    /// The joined text, without the continuation backslashes.
    pub text: String,
}

/// Splits `text` into logical lines, dropping blank lines and `#` comments.
///
/// A physical line whose last non-blank character is `\` continues on the next line; the
/// backslash is removed and the next line appended as is (Apache keeps its leading blanks).
/// Like Apache and ModSecurity, a comment ending in `\` swallows the next line too.
pub(crate) fn logical_lines(text: &str) -> Vec<LogicalLine> {
    let mut out = Vec::new();
    let mut current: Option<LogicalLine> = None;
    for (index, raw) in text.split('\n').enumerate() {
        let trimmed = raw.trim_end_matches(['\r', ' ', '\t']);
        let (content, continues) = match trimmed.strip_suffix('\\') {
            Some(rest) => (rest, true),
            None => (trimmed, false),
        };
        let logical = current.get_or_insert_with(|| LogicalLine {
            line: index + 1,
            text: String::new(),
        });
        logical.text.push_str(content);
        if !continues {
            if let Some(done) = current.take() {
                push_unless_blank(&mut out, done);
            }
        }
    }
    // A continuation on the very last line has nothing to join: keep what we have.
    if let Some(done) = current.take() {
        push_unless_blank(&mut out, done);
    }
    out
}

fn push_unless_blank(out: &mut Vec<LogicalLine>, mut line: LogicalLine) {
    let start = line.text.trim_start();
    if start.is_empty() || start.starts_with('#') {
        return;
    }
    line.text = start.to_owned();
    out.push(line);
}

/// An error splitting arguments: the quote character that was never closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct UnclosedQuote(pub char);

/// Splits a logical line into arguments.
///
/// Bare arguments end at whitespace. An argument starting with `"` or `'` ends at the matching
/// unescaped quote; inside it, `\<quote>` becomes the quote and every other backslash is kept
/// as written (a `\\` pair is kept too, and never escapes the quote after it), so regexes come
/// out exactly as in the file.
pub(crate) fn split_args(text: &str) -> Result<Vec<String>, UnclosedQuote> {
    let mut args = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let Some(&first) = chars.peek() else {
            return Ok(args);
        };
        let mut arg = String::new();
        if first == '"' || first == '\'' {
            chars.next();
            let mut closed = false;
            while let Some(c) = chars.next() {
                if c == first {
                    closed = true;
                    break;
                }
                if c == '\\' {
                    match chars.peek() {
                        Some(&next) if next == first => {
                            arg.push(next);
                            chars.next();
                        }
                        Some(&'\\') => {
                            arg.push_str("\\\\");
                            chars.next();
                        }
                        _ => arg.push(c),
                    }
                } else {
                    arg.push(c);
                }
            }
            if !closed {
                return Err(UnclosedQuote(first));
            }
        } else {
            while let Some(c) = chars.next_if(|c| !c.is_whitespace()) {
                arg.push(c);
            }
        }
        args.push(arg);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_continuations_and_keeps_first_line_number() {
        let text =
            "# comment\n\nSecRule ARGS \"@rx a\" \\\n    \"id:1,\\\n    pass\"\nSecMarker X\r\n";
        let lines = logical_lines(text);
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].line, 3);
        assert_eq!(
            lines[0].text,
            "SecRule ARGS \"@rx a\"     \"id:1,    pass\""
        );
        assert_eq!(lines[1].line, 6);
        assert_eq!(lines[1].text, "SecMarker X");
    }

    #[test]
    fn comment_with_trailing_backslash_swallows_next_line() {
        let lines = logical_lines("#SecAction \\\n  \"id:1\"\nSecMarker A");
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0].text, "SecMarker A");
    }

    #[test]
    fn splits_quoted_and_bare_args() {
        let args = split_args(r#"SecRule ARGS:a "@rx \"x\\y\d" 'id:1,msg:\'q\''"#).unwrap();
        assert_eq!(
            args,
            vec!["SecRule", "ARGS:a", r#"@rx "x\\y\d"#, "id:1,msg:'q'"]
        );
    }

    #[test]
    fn escaped_backslash_does_not_escape_the_quote() {
        let args = split_args(r#""a\\" b"#).unwrap();
        assert_eq!(args, vec![r"a\\", "b"]);
    }

    #[test]
    fn reports_unclosed_quote() {
        assert_eq!(
            split_args(r#"SecRule ARGS "@rx a"#),
            Err(UnclosedQuote('"'))
        );
        assert_eq!(split_args(r#"a "b\""#), Err(UnclosedQuote('"')));
    }

    #[test]
    fn odd_bytes_do_not_panic() {
        let _ = logical_lines("\u{feff}\\\n\\\\\n\"\u{0}é\\");
        let _ = split_args("\"\\");
        let _ = split_args("'\\'");
    }
}
