//! `@verifyCPF REGEX`: matches when a substring found by `REGEX` is a valid Brazilian CPF
//! number: 11 digits (other bytes ignored), not all the same, with both check digits right.
//! Captures that substring as `TX.0`.
//!
//! ```text
//! SecRule ARGS "@verifyCPF \d{3}\.?\d{3}\.?\d{3}-?\d{2}" "id:1,phase:2,deny"
//! ```

use super::verify_cc::Verify;
use super::{rx::compile, Operator, OperatorEnv};

/// Check digit over `digits` with weights `len+1` down to 2.
fn check_digit(digits: &[u32]) -> u32 {
    let n = digits.len() as u32;
    let sum: u32 = digits
        .iter()
        .enumerate()
        .map(|(i, d)| d * (n + 1 - i as u32))
        .sum();
    match sum % 11 {
        r if r < 2 => 0,
        r => 11 - r,
    }
}

pub(crate) fn cpf(s: &[u8]) -> bool {
    let d: Vec<u32> = s
        .iter()
        .filter(|b| b.is_ascii_digit())
        .map(|b| u32::from(b - b'0'))
        .collect();
    let (Some(body), Some(&c1), Some(&c2)) = (d.get(..9), d.get(9), d.get(10)) else {
        return false;
    };
    if d.len() != 11 || d.iter().all(|&x| Some(&x) == d.first()) {
        return false;
    }
    check_digit(body) == c1 && d.get(..10).is_some_and(|b| check_digit(b) == c2)
}

pub(crate) fn build(arg: &str, _env: &OperatorEnv<'_>) -> Result<Box<dyn Operator>, String> {
    Ok(Box::new(Verify {
        re: compile(arg)?,
        check: cpf,
    }))
}

#[cfg(test)]
mod tests {
    use super::cpf;
    use crate::operators::{build, test_env, MatchOutput};

    #[test]
    fn vectors() {
        assert!(cpf(b"529.982.247-25") && cpf(b"52998224725") && cpf(b"111.444.777-35"));
        assert!(!cpf(b"529.982.247-26") && !cpf(b"111.111.111-11") && !cpf(b"5299822472"));
        let op = build("verifyCPF", r"\d{3}\.?\d{3}\.?\d{3}-?\d{2}", &test_env()).unwrap();
        assert!(op.matches(b"cpf=529.982.247-25", &mut MatchOutput::default()));
        assert!(!op.matches(b"cpf=529.982.247-24", &mut MatchOutput::default()));
    }
}
