//! `@within LIST`: matches when the value occurs anywhere in `LIST` (a substring search of the
//! value in the argument, case-sensitive; an empty value always matches). Captures the value
//! as `TX.0`.
//!
//! ```text
//! SecRule REQUEST_METHOD "!@within GET HEAD POST OPTIONS" "id:1,phase:1,deny"
//! ```

use super::{MatchOutput, Operator, OperatorEnv};

#[derive(Debug)]
struct Within(Vec<u8>);

impl Operator for Within {
    fn matches(&self, input: &[u8], out: &mut MatchOutput) -> bool {
        let hit = memchr::memmem::find(&self.0, input).is_some();
        if hit {
            out.capture0(input);
        }
        hit
    }
}

pub(crate) fn build(arg: &str, _env: &OperatorEnv<'_>) -> Result<Box<dyn Operator>, String> {
    Ok(Box::new(Within(arg.as_bytes().to_vec())))
}

#[cfg(test)]
mod tests {
    use crate::operators::{build, test_env, MatchOutput};

    #[test]
    fn vectors() {
        let op = build("within", "GET HEAD POST", &test_env()).unwrap();
        let m = |v: &[u8]| op.matches(v, &mut MatchOutput::default());
        assert!(m(b"GET") && m(b"POST") && m(b"ET H") && m(b""));
        assert!(!m(b"PUT") && !m(b"get") && !m(b"GET HEAD POST PUT"));
    }
}
