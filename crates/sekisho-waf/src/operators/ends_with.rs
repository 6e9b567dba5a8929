//! `@endsWith TEXT`: matches when the value ends with `TEXT` (case-sensitive; an empty `TEXT`
//! always matches). Captures `TEXT` as `TX.0`.
//!
//! ```text
//! SecRule REQUEST_FILENAME "@endsWith .bak" "id:1,phase:1,deny"
//! ```

use super::{MatchOutput, Operator, OperatorEnv};

#[derive(Debug)]
struct EndsWith(Vec<u8>);

impl Operator for EndsWith {
    fn required_literals(&self) -> Option<Vec<Vec<u8>>> {
        (!self.0.is_empty()).then(|| vec![self.0.clone()])
    }

    fn matches(&self, input: &[u8], out: &mut MatchOutput) -> bool {
        let hit = input.ends_with(&self.0);
        if hit {
            out.capture0(&self.0);
        }
        hit
    }
}

pub(crate) fn build(arg: &str, _env: &OperatorEnv<'_>) -> Result<Box<dyn Operator>, String> {
    Ok(Box::new(EndsWith(arg.as_bytes().to_vec())))
}

#[cfg(test)]
mod tests {
    use crate::operators::{build, test_env, MatchOutput};

    #[test]
    fn vectors() {
        let op = build("endsWith", ".bak", &test_env()).unwrap();
        assert!(op.matches(b"/x.bak", &mut MatchOutput::default()));
        assert!(!op.matches(b"/x.BAK", &mut MatchOutput::default()));
        assert!(!op.matches(b"bak", &mut MatchOutput::default()));
    }
}
