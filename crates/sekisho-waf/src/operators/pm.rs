//! `@pm PHRASE…`: matches when any of the space-separated phrases occurs in the value, ASCII
//! case-insensitively (Aho-Corasick, one pass). Captures the phrase found as `TX.0`.
//!
//! The argument is read as ModSecurity does: one pair of surrounding `"` is dropped, `|41 42|`
//! stands for the bytes `AB`, and `\` makes the next byte literal; then it is split on
//! whitespace.
//!
//! ```text
//! SecRule REQUEST_HEADERS:User-Agent "@pm nikto sqlmap" "id:1,phase:1,t:lowercase,deny"
//! ```

use super::{MatchOutput, Operator, OperatorEnv};
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

/// A compiled phrase set, shared with `@pmFromFile`.
#[derive(Debug)]
pub(crate) struct Pm {
    phrases: Vec<Vec<u8>>,
    ac: AhoCorasick,
}

impl Pm {
    pub(crate) fn new(phrases: Vec<Vec<u8>>, op: &str) -> Result<Self, String> {
        let phrases: Vec<Vec<u8>> = phrases.into_iter().filter(|p| !p.is_empty()).collect();
        let ac = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            // Reports the match that ends first, as ModSecurity's own Aho-Corasick does.
            .match_kind(MatchKind::Standard)
            .build(&phrases)
            .map_err(|e| format!("cannot build `@{op}` matcher: {e}"))?;
        Ok(Self { phrases, ac })
    }
}

impl Operator for Pm {
    fn required_literals(&self) -> Option<Vec<Vec<u8>>> {
        Some(self.phrases.clone())
    }

    fn matches(&self, input: &[u8], out: &mut MatchOutput) -> bool {
        if !out.want_captures {
            return self.ac.is_match(input);
        }
        match self.ac.find(input) {
            Some(m) => {
                let phrase = self.phrases.get(m.pattern().as_usize());
                out.capture0(phrase.map_or(&[][..], Vec::as_slice));
                true
            }
            None => false,
        }
    }
}

fn hex_val(b: u8) -> Option<u8> {
    char::from(b)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

/// Decodes `@pm`'s argument syntax (quotes, `|hex|`, `\` escapes) and splits it into phrases.
pub(crate) fn parse_phrases(arg: &str) -> Vec<Vec<u8>> {
    let mut s = arg.trim_ascii().as_bytes();
    if s.len() >= 2 && s.first() == Some(&b'"') && s.last() == Some(&b'"') {
        s = s.get(1..s.len() - 1).unwrap_or_default();
    }
    let mut content = Vec::with_capacity(s.len());
    let mut hex_mode = false;
    let mut i = 0;
    while let Some(&b) = s.get(i) {
        i += 1;
        match b {
            b'|' => hex_mode = !hex_mode,
            b'\\' if !hex_mode => {
                if let Some(&n) = s.get(i) {
                    content.push(n);
                    i += 1;
                }
            }
            _ if hex_mode => {
                // Hex pairs; whitespace between them is ignored.
                if let (Some(h), Some(l)) = (hex_val(b), s.get(i).and_then(|&c| hex_val(c))) {
                    content.push((h << 4) | l);
                    i += 1;
                }
            }
            _ => content.push(b),
        }
    }
    content
        .split(|b| b.is_ascii_whitespace() || *b == 0x0b)
        .filter(|p| !p.is_empty())
        .map(<[u8]>::to_vec)
        .collect()
}

pub(crate) fn build(arg: &str, _env: &OperatorEnv<'_>) -> Result<Box<dyn Operator>, String> {
    Ok(Box::new(Pm::new(parse_phrases(arg), "pm")?))
}

#[cfg(test)]
mod tests {
    use super::parse_phrases;
    use crate::operators::{build, test_env, MatchOutput};

    #[test]
    fn vectors() {
        let op = build("pm", "nikto sqlmap <!--", &test_env()).unwrap();
        let mut out = MatchOutput {
            want_captures: true,
            ..MatchOutput::default()
        };
        assert!(op.matches(b"Mozilla SQLMap/1.0", &mut out));
        assert_eq!(out.captures, vec![b"sqlmap".to_vec()]);
        assert!(op.matches(b"a<!--b", &mut MatchOutput::default()));
        assert!(!op.matches(b"curl", &mut MatchOutput::default()));
        assert!(!op.matches(b"", &mut MatchOutput::default()));
    }

    #[test]
    fn argument_syntax() {
        assert_eq!(
            parse_phrases("a  b\tc"),
            vec![b"a".to_vec(), b"b".to_vec(), b"c".to_vec()]
        );
        assert_eq!(parse_phrases("\"x y\""), vec![b"x".to_vec(), b"y".to_vec()]);
        assert_eq!(
            parse_phrases("|41 42|c \\|d"),
            vec![b"ABc".to_vec(), b"|d".to_vec()]
        );
        assert_eq!(parse_phrases("|00|"), vec![b"\x00".to_vec()]);
        assert!(parse_phrases("").is_empty());
        assert!(parse_phrases("|4").is_empty());
        let empty = build("pm", "", &test_env()).unwrap();
        assert!(!empty.matches(b"x", &mut MatchOutput::default()));
    }
}
