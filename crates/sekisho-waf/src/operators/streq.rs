//! `@streq TEXT`: matches when the value equals `TEXT` exactly (case-sensitive). Captures the
//! value as `TX.0`.
//!
//! ```text
//! SecRule REQUEST_METHOD "@streq POST" "id:1,phase:1,pass"
//! ```

use super::{MatchOutput, Operator, OperatorEnv};

#[derive(Debug)]
struct Streq(Vec<u8>);

impl Operator for Streq {
    fn required_literals(&self) -> Option<Vec<Vec<u8>>> {
        (!self.0.is_empty()).then(|| vec![self.0.clone()])
    }

    fn matches(&self, input: &[u8], out: &mut MatchOutput) -> bool {
        let hit = input == self.0.as_slice();
        if hit {
            out.capture0(input);
        }
        hit
    }
}

pub(crate) fn build(arg: &str, _env: &OperatorEnv<'_>) -> Result<Box<dyn Operator>, String> {
    Ok(Box::new(Streq(arg.as_bytes().to_vec())))
}

#[cfg(test)]
mod tests {
    use crate::operators::{build, test_env, MatchOutput};

    #[test]
    fn vectors() {
        let op = build("streq", "POST", &test_env()).unwrap();
        assert!(op.matches(b"POST", &mut MatchOutput::default()));
        assert!(!op.matches(b"post", &mut MatchOutput::default()));
        assert!(!op.matches(b"POST ", &mut MatchOutput::default()));
        let empty = build("streq", "", &test_env()).unwrap();
        assert!(empty.matches(b"", &mut MatchOutput::default()));
    }
}
