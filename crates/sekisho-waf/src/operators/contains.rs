//! `@contains TEXT`: matches when `TEXT` occurs anywhere in the value (case-sensitive; an
//! empty `TEXT` always matches). Captures `TEXT` as `TX.0`.
//!
//! ```text
//! SecRule REQUEST_URI "@contains /etc/passwd" "id:1,phase:1,deny"
//! ```

use super::{MatchOutput, Operator, OperatorEnv};
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

#[derive(Debug)]
pub(crate) struct Contains {
    needle: Vec<u8>,
    finder: Option<AhoCorasick>,
}

impl Contains {
    pub(crate) fn new(needle: &[u8]) -> Result<Self, String> {
        let finder = if needle.is_empty() {
            None
        } else {
            let ac = AhoCorasickBuilder::new()
                .match_kind(MatchKind::LeftmostFirst)
                .build([needle])
                .map_err(|e| format!("cannot build `@contains` matcher: {e}"))?;
            Some(ac)
        };
        Ok(Self {
            needle: needle.to_vec(),
            finder,
        })
    }

    pub(crate) fn find(&self, input: &[u8]) -> Option<usize> {
        match &self.finder {
            None => Some(0),
            Some(ac) => ac.find(input).map(|m| m.start()),
        }
    }
}

impl Operator for Contains {
    fn required_literals(&self) -> Option<Vec<Vec<u8>>> {
        (!self.needle.is_empty()).then(|| vec![self.needle.clone()])
    }

    fn matches(&self, input: &[u8], out: &mut MatchOutput) -> bool {
        let hit = self.find(input).is_some();
        if hit {
            out.capture0(&self.needle);
        }
        hit
    }
}

pub(crate) fn build(arg: &str, _env: &OperatorEnv<'_>) -> Result<Box<dyn Operator>, String> {
    Ok(Box::new(Contains::new(arg.as_bytes())?))
}

#[cfg(test)]
mod tests {
    use crate::operators::{build, test_env, MatchOutput};

    #[test]
    fn vectors() {
        let op = build("contains", "passwd", &test_env()).unwrap();
        let mut out = MatchOutput {
            want_captures: true,
            ..MatchOutput::default()
        };
        assert!(op.matches(b"/etc/passwd", &mut out));
        assert_eq!(out.captures, vec![b"passwd".to_vec()]);
        assert!(!op.matches(b"/etc/PASSWD", &mut MatchOutput::default()));
        assert!(build("contains", "", &test_env())
            .unwrap()
            .matches(b"", &mut MatchOutput::default()));
    }
}
