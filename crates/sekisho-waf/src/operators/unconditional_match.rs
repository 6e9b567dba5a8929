//! `@unconditionalMatch`: always matches (the argument is ignored).
//!
//! ```text
//! SecRule REMOTE_ADDR "@unconditionalMatch" "id:1,phase:1,pass,setvar:tx.seen=1"
//! ```

use super::{MatchOutput, Operator, OperatorEnv};

#[derive(Debug)]
struct UnconditionalMatch;

impl Operator for UnconditionalMatch {
    fn matches(&self, input: &[u8], out: &mut MatchOutput) -> bool {
        out.capture0(input);
        true
    }
}

pub(crate) fn build(_arg: &str, _env: &OperatorEnv<'_>) -> Result<Box<dyn Operator>, String> {
    Ok(Box::new(UnconditionalMatch))
}

#[cfg(test)]
mod tests {
    use crate::operators::{build, test_env, MatchOutput};

    #[test]
    fn always() {
        let op = build("unconditionalMatch", "", &test_env()).unwrap();
        assert!(op.matches(b"", &mut MatchOutput::default()));
    }
}
