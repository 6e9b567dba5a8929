//! `@beginsWith TEXT`: matches when the value starts with `TEXT` (case-sensitive; an empty
//! `TEXT` always matches). Captures `TEXT` as `TX.0`.
//!
//! ```text
//! SecRule REQUEST_LINE "!@beginsWith GET /" "id:1,phase:1,deny"
//! ```

use super::{MatchOutput, Operator, OperatorEnv};

#[derive(Debug)]
struct BeginsWith(Vec<u8>);

impl Operator for BeginsWith {
    fn required_literals(&self) -> Option<Vec<Vec<u8>>> {
        (!self.0.is_empty()).then(|| vec![self.0.clone()])
    }

    fn matches(&self, input: &[u8], out: &mut MatchOutput) -> bool {
        let hit = input.starts_with(&self.0);
        if hit {
            out.capture0(&self.0);
        }
        hit
    }
}

pub(crate) fn build(arg: &str, _env: &OperatorEnv<'_>) -> Result<Box<dyn Operator>, String> {
    Ok(Box::new(BeginsWith(arg.as_bytes().to_vec())))
}

#[cfg(test)]
mod tests {
    use crate::operators::{build, test_env, MatchOutput};

    #[test]
    fn vectors() {
        let op = build("beginsWith", "GET", &test_env()).unwrap();
        let mut out = MatchOutput {
            want_captures: true,
            ..MatchOutput::default()
        };
        assert!(op.matches(b"GET /", &mut out));
        assert_eq!(out.captures, vec![b"GET".to_vec()]);
        assert!(!op.matches(b"get /", &mut MatchOutput::default()));
        assert!(!op.matches(b"GE", &mut MatchOutput::default()));
        let empty = build("beginsWith", "", &test_env()).unwrap();
        assert!(empty.matches(b"", &mut MatchOutput::default()));
    }
}
