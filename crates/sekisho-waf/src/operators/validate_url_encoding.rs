//! `@validateUrlEncoding`: matches when the value holds an invalid URL encoding: a `%` not
//! followed by two hex digits (also at the end of the value).
//!
//! ```text
//! SecRule REQUEST_URI "@validateUrlEncoding" "id:1,phase:1,deny"
//! ```

use super::{MatchOutput, Operator, OperatorEnv};

#[derive(Debug)]
struct ValidateUrlEncoding;

impl Operator for ValidateUrlEncoding {
    /// Only a `%` can start an invalid encoding.
    fn required_literals(&self) -> Option<Vec<Vec<u8>>> {
        Some(vec![b"%".to_vec()])
    }

    fn matches(&self, input: &[u8], _out: &mut MatchOutput) -> bool {
        input.iter().enumerate().any(|(i, &b)| {
            b == b'%'
                && !(input.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                    && input.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
        })
    }
}

pub(crate) fn build(_arg: &str, _env: &OperatorEnv<'_>) -> Result<Box<dyn Operator>, String> {
    Ok(Box::new(ValidateUrlEncoding))
}

#[cfg(test)]
mod tests {
    use crate::operators::{build, test_env, MatchOutput};

    #[test]
    fn vectors() {
        let op = build("validateUrlEncoding", "", &test_env()).unwrap();
        let m = |v: &[u8]| op.matches(v, &mut MatchOutput::default());
        assert!(!m(b"a%20b%Ff") && !m(b"plain") && !m(b""));
        assert!(m(b"%") && m(b"%2") && m(b"%zz") && m(b"a%2g"));
        // `%25` is a valid escape; what it decodes to is not looked at again.
        assert!(!m(b"%25zz"));
    }
}
