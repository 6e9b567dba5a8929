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
    /// `<` or `=`: without either no value is XSS, so the prefilter skips the rule for
    /// most values (CRS 941100 reads every cookie and argument).
    fn required_literals(&self) -> Option<Vec<Vec<u8>>> {
        Some(
            sekisho_injection::xss_needs_one_of()
                .iter()
                .map(|&b| vec![b])
                .collect(),
        )
    }

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

    /// The prefilter may pass over a value without `<` or `=`: it is never XSS.
    #[test]
    fn needs_a_less_than_or_an_equals_sign() {
        let op = build("detectXSS", "", &test_env()).unwrap();
        assert_eq!(
            op.required_literals(),
            Some(vec![b"<".to_vec(), b"=".to_vec()])
        );
        assert!(op.matches(b"<script>alert(1)</script>", &mut MatchOutput::default()));
        assert!(!op.matches(b"script alert(1) onerror", &mut MatchOutput::default()));
    }
}
