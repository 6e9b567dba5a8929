//! `@detectSQLi`: matches when libinjection's SQL injection analysis (the pure-Rust
//! `sekisho-injection` crate) flags the value. Captures the token fingerprint (e.g. `s&1c`) as
//! `TX.0`. The argument is ignored.
//!
//! ```text
//! SecRule ARGS "@detectSQLi" "id:1,phase:2,capture,deny,logdata:'fingerprint %{TX.0}'"
//! ```

use super::{MatchOutput, Operator, OperatorEnv};

#[derive(Debug)]
struct DetectSqli;

impl Operator for DetectSqli {
    fn matches(&self, input: &[u8], out: &mut MatchOutput) -> bool {
        match sekisho_injection::detect_sqli(input) {
            Some(fingerprint) => {
                out.capture0(fingerprint.as_bytes());
                true
            }
            None => false,
        }
    }
}

pub(crate) fn build(_arg: &str, _env: &OperatorEnv<'_>) -> Result<Box<dyn Operator>, String> {
    Ok(Box::new(DetectSqli))
}

#[cfg(test)]
mod tests {
    use crate::operators::{build, test_env, MatchOutput};

    #[test]
    fn agrees_with_the_detector() {
        let op = build("detectSQLi", "", &test_env()).unwrap();
        for input in [&b"1' OR '1'='1"[..], b"hello world", b"", b"\xff\x00"] {
            let mut out = MatchOutput {
                want_captures: true,
                ..MatchOutput::default()
            };
            let want = sekisho_injection::detect_sqli(input);
            assert_eq!(op.matches(input, &mut out), want.is_some());
            if let Some(fp) = want {
                assert_eq!(out.captures, vec![fp.into_bytes()]);
            }
        }
    }
}
