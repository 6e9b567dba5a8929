//! `@verifySSN REGEX`: matches when a substring found by `REGEX` is a plausible US social
//! security number: 9 digits (other bytes ignored); area not 000, 666 or 740 and above; group
//! not 00; serial not 0000; not one repeated digit nor the sequence `123456789`. Captures that
//! substring as `TX.0`.
//!
//! ```text
//! SecRule ARGS "@verifySSN \d{3}-?\d{2}-?\d{4}" "id:1,phase:2,deny"
//! ```

use super::verify_cc::Verify;
use super::{rx::compile, Operator, OperatorEnv};

pub(crate) fn ssn(s: &[u8]) -> bool {
    let d: Vec<u32> = s
        .iter()
        .filter(|b| b.is_ascii_digit())
        .map(|b| u32::from(b - b'0'))
        .collect();
    if d.len() != 9 {
        return false;
    }
    let num = |r: std::ops::Range<usize>| {
        d.get(r)
            .unwrap_or_default()
            .iter()
            .fold(0, |a, x| a * 10 + x)
    };
    let (area, group, serial) = (num(0..3), num(3..5), num(5..9));
    let repeated = d.iter().all(|&x| Some(&x) == d.first());
    let sequential = d
        .windows(2)
        .all(|w| w.get(1) == w.first().map(|x| x + 1).as_ref());
    area != 0 && area != 666 && area < 740 && group != 0 && serial != 0 && !repeated && !sequential
}

pub(crate) fn build(arg: &str, _env: &OperatorEnv<'_>) -> Result<Box<dyn Operator>, String> {
    Ok(Box::new(Verify {
        re: compile(arg)?,
        check: ssn,
    }))
}

#[cfg(test)]
mod tests {
    use super::ssn;
    use crate::operators::{build, test_env, MatchOutput};

    #[test]
    fn vectors() {
        assert!(ssn(b"078-05-1120") && ssn(b"219099999"));
        for bad in [
            "000-12-3456",
            "666-12-3456",
            "740-12-3456",
            "123-00-4567",
            "123-45-0000",
            "111-11-1111",
            "123-45-6789",
            "12345678",
        ] {
            assert!(!ssn(bad.as_bytes()), "{bad}");
        }
        let op = build("verifySSN", r"\d{3}-?\d{2}-?\d{4}", &test_env()).unwrap();
        assert!(op.matches(b"ssn=078-05-1120", &mut MatchOutput::default()));
        assert!(!op.matches(b"ssn=000-05-1120", &mut MatchOutput::default()));
    }
}
