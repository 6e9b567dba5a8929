//! `@verifyCC REGEX`: matches when a substring found by `REGEX` passes the Luhn check (non-
//! digits inside the match are ignored). Captures that substring as `TX.0`.
//!
//! ```text
//! SecRule ARGS "@verifyCC \d{13,16}" "id:1,phase:2,deny,msg:'card number'"
//! ```

use super::{rx::compile, MatchOutput, Operator, OperatorEnv};
use regex::bytes::Regex;

/// The Luhn checksum over the ASCII digits of `s`; false when there are none.
pub(crate) fn luhn(s: &[u8]) -> bool {
    let mut sum = 0u32;
    let mut count = 0usize;
    for d in s
        .iter()
        .rev()
        .filter(|b| b.is_ascii_digit())
        .map(|b| u32::from(b - b'0'))
    {
        sum += if count % 2 == 1 {
            if d * 2 > 9 {
                d * 2 - 9
            } else {
                d * 2
            }
        } else {
            d
        };
        count += 1;
    }
    count > 0 && sum % 10 == 0
}

/// Runs `re` over `input` and returns the first match accepted by `check`.
pub(crate) fn first_valid<'a>(
    re: &Regex,
    input: &'a [u8],
    check: fn(&[u8]) -> bool,
) -> Option<&'a [u8]> {
    re.find_iter(input).map(|m| m.as_bytes()).find(|m| check(m))
}

#[derive(Debug)]
pub(crate) struct Verify {
    pub(crate) re: Regex,
    pub(crate) check: fn(&[u8]) -> bool,
}

impl Operator for Verify {
    fn matches(&self, input: &[u8], out: &mut MatchOutput) -> bool {
        match first_valid(&self.re, input, self.check) {
            Some(m) => {
                out.capture0(m);
                true
            }
            None => false,
        }
    }
}

pub(crate) fn build(arg: &str, _env: &OperatorEnv<'_>) -> Result<Box<dyn Operator>, String> {
    Ok(Box::new(Verify {
        re: compile(arg)?,
        check: luhn,
    }))
}

#[cfg(test)]
mod tests {
    use super::luhn;
    use crate::operators::{build, test_env, MatchOutput};

    #[test]
    fn luhn_vectors() {
        assert!(luhn(b"4111111111111111") && luhn(b"4111-1111-1111-1111") && luhn(b"79927398713"));
        assert!(!luhn(b"4111111111111112") && !luhn(b"") && !luhn(b"abc"));
    }

    #[test]
    fn finds_a_valid_number() {
        let op = build("verifyCC", r"(?:\d[ -]?){12,15}\d", &test_env()).unwrap();
        let mut out = MatchOutput {
            want_captures: true,
            ..MatchOutput::default()
        };
        assert!(op.matches(b"card=4111 1111 1111 1111&x=1", &mut out));
        assert_eq!(out.captures, vec![b"4111 1111 1111 1111".to_vec()]);
        assert!(!op.matches(b"card=4111111111111112", &mut MatchOutput::default()));
        assert!(!op.matches(b"none", &mut MatchOutput::default()));
    }
}
