//! `@verifySVNR REGEX`: matches when a substring found by `REGEX` is a valid Austrian social
//! security number (Sozialversicherungsnummer): 10 digits (other bytes ignored) whose fourth
//! digit is the check digit, `(3,7,9,_,5,8,4,2,1,6) · digits mod 11`; a remainder of 10 is
//! never issued. Captures that substring as `TX.0`.
//!
//! ```text
//! SecRule RESPONSE_BODY "@verifySVNR \b\d{4} ?\d{6}\b" "id:1,phase:4,deny"
//! ```

use super::verify_cc::Verify;
use super::{rx::compile, Operator, OperatorEnv};

const WEIGHTS: [u32; 10] = [3, 7, 9, 0, 5, 8, 4, 2, 1, 6];

pub(crate) fn svnr(s: &[u8]) -> bool {
    let d: Vec<u32> = s
        .iter()
        .filter(|b| b.is_ascii_digit())
        .map(|b| u32::from(b - b'0'))
        .collect();
    if d.len() != 10 || d.iter().all(|&x| Some(&x) == d.first()) {
        return false;
    }
    let sum: u32 = d.iter().zip(WEIGHTS).map(|(x, w)| x * w).sum();
    let check = sum % 11;
    check != 10 && d.get(3) == Some(&check)
}

pub(crate) fn build(arg: &str, _env: &OperatorEnv<'_>) -> Result<Box<dyn Operator>, String> {
    Ok(Box::new(Verify {
        re: compile(arg)?,
        check: svnr,
    }))
}

#[cfg(test)]
mod tests {
    use super::svnr;
    use crate::operators::{build, test_env, MatchOutput};

    #[test]
    fn vectors() {
        // 1237 010180: 3·1+7·2+9·3+5·0+8·1+4·0+2·1+1·8+6·0 = 62, 62 mod 11 = 7.
        assert!(svnr(b"1237010180") && svnr(b"1237 010180"));
        assert!(!svnr(b"1234010180") && !svnr(b"123701018") && !svnr(b"0000000000"));
        let op = build("verifySVNR", r"\d{4} ?\d{6}", &test_env()).unwrap();
        assert!(op.matches(b"svnr=1237 010180", &mut MatchOutput::default()));
        assert!(!op.matches(b"svnr=1234 010180", &mut MatchOutput::default()));
    }
}
