//! `@noMatch`: never matches (the argument is ignored).
//!
//! ```text
//! SecRule ARGS "@noMatch" "id:1,phase:2,pass"
//! ```

use super::{MatchOutput, Operator, OperatorEnv};

#[derive(Debug)]
struct NoMatch;

impl Operator for NoMatch {
    fn matches(&self, _input: &[u8], _out: &mut MatchOutput) -> bool {
        false
    }
}

pub(crate) fn build(_arg: &str, _env: &OperatorEnv<'_>) -> Result<Box<dyn Operator>, String> {
    Ok(Box::new(NoMatch))
}

#[cfg(test)]
mod tests {
    use crate::operators::{build, test_env, MatchOutput};

    #[test]
    fn never() {
        let op = build("noMatch", "x", &test_env()).unwrap();
        assert!(!op.matches(b"x", &mut MatchOutput::default()));
    }
}
