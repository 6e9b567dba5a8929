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
    /// The bytes not allowed: the literals a matching value holds (see `required_literals`).
    forbidden: Vec<u8>,
}

impl Operator for ValidateByteRange {
    /// Each byte not allowed: a value holding none of them cannot match, so the prefilter
    /// skips the rule for it (CRS 920270 reads every header and argument of every request).
    fn required_literals(&self) -> Option<Vec<Vec<u8>>> {
        (!self.forbidden.is_empty()).then(|| self.forbidden.iter().map(|&b| vec![b]).collect())
    }

    fn matches(&self, input: &[u8], out: &mut MatchOutput) -> bool {
        // Up to three forbidden bytes (`1-255` forbids only NUL) are found with `memchr`,
        // many bytes at a time.
        let at = match self.forbidden.as_slice() {
            [] => None,
            [a] => memchr::memchr(*a, input),
            [a, b] => memchr::memchr2(*a, *b, input),
            [a, b, c] => memchr::memchr3(*a, *b, *c, input),
            _ => input
                .iter()
                .position(|&b| !self.allowed.get(usize::from(b)).copied().unwrap_or(false)),
        };
        match at.and_then(|i| input.get(i)) {
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
    let forbidden: Vec<u8> = (0..=255u8)
        .filter(|&b| !allowed.get(usize::from(b)).copied().unwrap_or(false))
        .collect();
    Ok(Box::new(ValidateByteRange { allowed, forbidden }))
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

    /// Sets that forbid at most three bytes (searched with `memchr`) and larger ones agree
    /// with a byte-by-byte check, and capture the first byte not allowed.
    #[test]
    fn few_forbidden_bytes() {
        for arg in [
            "1-255",
            "0-9,11-255",
            "1-9,11-12,14-255",
            "2-254",
            "0-255",
            "32-126",
        ] {
            let op = build("validateByteRange", arg, &test_env()).unwrap();
            let allowed = |b: u8| {
                arg.split(',').any(|p| {
                    let (lo, hi) = p.split_once('-').unwrap_or((p, p));
                    (lo.parse::<u8>().unwrap()..=hi.parse::<u8>().unwrap()).contains(&b)
                })
            };
            for input in [&b"abc"[..], b"a\x00b\nc", b"\xff\x01", b"\r\n\x00", b""] {
                let mut out = MatchOutput {
                    want_captures: true,
                    ..MatchOutput::default()
                };
                let first = input.iter().copied().find(|&b| !allowed(b));
                assert_eq!(
                    op.matches(input, &mut out),
                    first.is_some(),
                    "{arg} {input:?}"
                );
                if let Some(b) = first {
                    assert_eq!(out.captures.first().map(Vec::as_slice), Some(&[b][..]));
                }
            }
        }
    }

    #[test]
    fn bad_ranges_are_errors() {
        assert!(build("validateByteRange", "1-256", &test_env()).is_err());
        assert!(build("validateByteRange", "20-10", &test_env()).is_err());
        assert!(build("validateByteRange", "x", &test_env()).is_err());
    }
}
