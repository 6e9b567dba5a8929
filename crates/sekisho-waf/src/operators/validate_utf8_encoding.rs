//! `@validateUtf8Encoding`: matches when the value is not valid UTF-8 (truncated or invalid
//! sequences, overlong forms, surrogates, code points above U+10FFFF).
//!
//! ```text
//! SecRule ARGS "@validateUtf8Encoding" "id:1,phase:2,deny"
//! ```

use super::{MatchOutput, Operator, OperatorEnv};

#[derive(Debug)]
struct ValidateUtf8Encoding;

impl Operator for ValidateUtf8Encoding {
    /// ASCII is valid UTF-8: an invalid value holds a byte above 0x7F.
    fn required_literals(&self) -> Option<Vec<Vec<u8>>> {
        Some((0x80..=0xFFu8).map(|b| vec![b]).collect())
    }

    fn matches(&self, input: &[u8], _out: &mut MatchOutput) -> bool {
        // The standard library's validation rejects exactly what RFC 3629 forbids.
        std::str::from_utf8(input).is_err()
    }
}

pub(crate) fn build(_arg: &str, _env: &OperatorEnv<'_>) -> Result<Box<dyn Operator>, String> {
    Ok(Box::new(ValidateUtf8Encoding))
}

#[cfg(test)]
mod tests {
    use crate::operators::{build, test_env, MatchOutput};

    #[test]
    fn vectors() {
        let op = build("validateUtf8Encoding", "", &test_env()).unwrap();
        let m = |v: &[u8]| op.matches(v, &mut MatchOutput::default());
        assert!(!m("plain é € 😀".as_bytes()) && !m(b""));
        assert!(m(b"\xc3") && m(b"\xc0\xaf") && m(b"\xed\xa0\x80") && m(b"\xf4\x90\x80\x80"));
        assert!(m(b"\x80") && m(b"\xff") && m(b"a\xe2\x82"));
    }
}
