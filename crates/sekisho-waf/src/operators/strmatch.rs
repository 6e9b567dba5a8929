//! `@strmatch TEXT`: matches when `TEXT` occurs in the value (case-sensitive); ModSecurity's
//! Boyer-Moore-Horspool substring search, identical in result to `@contains`.
//!
//! ```text
//! SecRule REQUEST_HEADERS:User-Agent "@strmatch WebZIP" "id:1,phase:1,deny"
//! ```

use super::{contains::Contains, Operator, OperatorEnv};

pub(crate) fn build(arg: &str, _env: &OperatorEnv<'_>) -> Result<Box<dyn Operator>, String> {
    Ok(Box::new(Contains::new(arg.as_bytes())?))
}

#[cfg(test)]
mod tests {
    use crate::operators::{build, test_env, MatchOutput};

    #[test]
    fn vectors() {
        let op = build("strmatch", "WebZIP", &test_env()).unwrap();
        assert!(op.matches(b"Mozilla WebZIP/4", &mut MatchOutput::default()));
        assert!(!op.matches(b"webzip", &mut MatchOutput::default()));
    }
}
