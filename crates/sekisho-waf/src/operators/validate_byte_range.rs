//! `@validateByteRange RANGES`: matches when the value holds a byte outside the allowed
//! ranges, given as comma-separated bytes or `from-to` ranges in decimal (`9,10,13,32-126`).
//!
//! ```text
//! SecRule ARGS "@validateByteRange 1-255" "id:1,phase:2,deny"
//! ```

use super::{MatchOutput, Operator, OperatorEnv};

#[derive(Debug)]
struct ValidateByteRange {
    allowed: [bool; 256],
}

impl Operator for ValidateByteRange {
    fn matches(&self, input: &[u8], out: &mut MatchOutput) -> bool {
        match input
            .iter()
            .find(|&&b| !self.allowed.get(usize::from(b)).copied().unwrap_or(false))
        {
            Some(&b) => {
                out.capture0(&[b]);
                true
            }
            None => false,
        }
    }
}

fn byte(s: &str, arg: &str) -> Result<u8, String> {
    s.trim().parse::<u8>().map_err(|_| {
        format!(
            "`@validateByteRange {arg}`: invalid byte value `{}`",
            s.trim()
        )
    })
}

pub(crate) fn build(arg: &str, _env: &OperatorEnv<'_>) -> Result<Box<dyn Operator>, String> {
    let mut allowed = [false; 256];
    for part in arg.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (from, to) = match part.split_once('-') {
            Some((a, b)) => (byte(a, arg)?, byte(b, arg)?),
            None => {
                let b = byte(part, arg)?;
                (b, b)
            }
        };
        if from > to {
            return Err(format!(
                "`@validateByteRange {arg}`: invalid range `{part}`"
            ));
        }
        for b in from..=to {
            if let Some(slot) = allowed.get_mut(usize::from(b)) {
                *slot = true;
            }
        }
    }
    Ok(Box::new(ValidateByteRange { allowed }))
}

#[cfg(test)]
mod tests {
    use crate::operators::{build, test_env, MatchOutput};

    #[test]
    fn vectors() {
        let op = build("validateByteRange", "9,10,13, 32-126", &test_env()).unwrap();
        let m = |v: &[u8]| op.matches(v, &mut MatchOutput::default());
        assert!(!m(b"hello world\r\n\t") && !m(b""));
        assert!(m(b"\x00") && m(b"a\x7f") && m(b"\xff"));
        let all = build("validateByteRange", "1-255", &test_env()).unwrap();
        assert!(all.matches(b"x\x00", &mut MatchOutput::default()));
        assert!(!all.matches(b"\x01\xff", &mut MatchOutput::default()));
    }

    #[test]
    fn bad_ranges_are_errors() {
        assert!(build("validateByteRange", "1-256", &test_env()).is_err());
        assert!(build("validateByteRange", "20-10", &test_env()).is_err());
        assert!(build("validateByteRange", "x", &test_env()).is_err());
    }
}
