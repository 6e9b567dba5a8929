//! `@gt N`: matches when the value, read as an integer, is greater than `N` (both parsed as
//! ModSecurity's `stoi`: leading integer, anything else counts as 0).
//!
//! ```text
//! SecRule &ARGS "@gt 255" "id:1,phase:2,deny"
//! ```

use super::{number::build_compare, Operator, OperatorEnv};

pub(crate) fn build(arg: &str, _env: &OperatorEnv<'_>) -> Result<Box<dyn Operator>, String> {
    build_compare(arg, super::number::comparison("gt").ok_or("no comparison")?)
}

#[cfg(test)]
mod tests {
    use crate::operators::{build, test_env, MatchOutput};

    #[test]
    fn compares() {
        let op = build("gt", "5", &test_env()).unwrap();
        let m = |v: &[u8]| op.matches(v, &mut MatchOutput::default());
        assert_eq!(
            [m(b"4"), m(b"5"), m(b"6"), m(b"x"), m(b"5abc")],
            [false, false, true, false, false]
        );
    }
}
