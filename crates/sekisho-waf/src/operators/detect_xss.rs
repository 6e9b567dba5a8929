//! `@detectXSS`: matches when libinjection's XSS analysis (the pure-Rust `sekisho-injection`
//! crate) flags the value. Captures the value as `TX.0`. The argument is ignored.
//!
//! ```text
//! SecRule ARGS "@detectXSS" "id:1,phase:2,t:none,t:utf8toUnicode,t:urlDecodeUni,deny"
//! ```

use super::{MatchOutput, Operator, OperatorEnv};

#[derive(Debug)]
struct DetectXss;

impl Operator for DetectXss {
    fn matches(&self, input: &[u8], out: &mut MatchOutput) -> bool {
        let hit = sekisho_injection::detect_xss(input);
        if hit {
            out.capture0(input);
        }
        hit
    }
}

pub(crate) fn build(_arg: &str, _env: &OperatorEnv<'_>) -> Result<Box<dyn Operator>, String> {
    Ok(Box::new(DetectXss))
}

#[cfg(test)]
mod tests {
    use crate::operators::{build, test_env, MatchOutput};

    #[test]
    fn agrees_with_the_detector() {
        let op = build("detectXSS", "", &test_env()).unwrap();
        for input in [
            &b"<script>alert(1)</script>"[..],
            b"hello world",
            b"",
            b"\xff",
        ] {
            let want = sekisho_injection::detect_xss(input);
            assert_eq!(op.matches(input, &mut MatchOutput::default()), want);
        }
    }
}
