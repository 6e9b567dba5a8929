//! `@within LIST`: matches when the value occurs anywhere in `LIST` (a substring search of the
//! value in the argument, case-sensitive; an empty value always matches). Captures the value
//! as `TX.0`.
//!
//! ```text
//! SecRule REQUEST_METHOD "!@within GET HEAD POST OPTIONS" "id:1,phase:1,deny"
//! ```

use super::{MatchOutput, Operator, OperatorEnv};

#[derive(Debug)]
struct Within {
    list: Vec<u8>,
    /// Every two bytes side by side in the list (big-endian) with where they start, sorted:
    /// a needle is compared only where its first two bytes occur. CRS lists are a few
    /// hundred bytes of `/name/` words, and a search through them for every header name of
    /// every request (920450) compared at each `/` before.
    pairs: Vec<(u16, u32)>,
}

impl Within {
    fn new(list: &[u8]) -> Within {
        let mut pairs: Vec<(u16, u32)> = list
            .windows(2)
            .zip(0u32..)
            .filter_map(|(w, at)| match w {
                [a, b] => Some((u16::from_be_bytes([*a, *b]), at)),
                _ => None,
            })
            .collect();
        pairs.sort_unstable();
        Within {
            list: list.to_vec(),
            pairs,
        }
    }

    /// Whether `needle` occurs in the list.
    fn holds(&self, needle: &[u8]) -> bool {
        let (a, b) = match needle {
            [] => return true,
            [a] => return memchr::memchr(*a, &self.list).is_some(),
            [a, b, ..] => (*a, *b),
        };
        let key = u16::from_be_bytes([a, b]);
        let from = self.pairs.partition_point(|&(k, _)| k < key);
        self.pairs
            .get(from..)
            .unwrap_or_default()
            .iter()
            .take_while(|&&(k, _)| k == key)
            .any(|&(_, at)| {
                let at = at as usize;
                self.list.get(at..at + needle.len()) == Some(needle)
            })
    }
}

impl Operator for Within {
    fn matches(&self, input: &[u8], out: &mut MatchOutput) -> bool {
        let hit = self.holds(input);
        if hit {
            out.capture0(input);
        }
        hit
    }
}

pub(crate) fn build(arg: &str, _env: &OperatorEnv<'_>) -> Result<Box<dyn Operator>, String> {
    Ok(Box::new(Within::new(arg.as_bytes())))
}

#[cfg(test)]
mod tests {
    use crate::operators::{build, test_env, MatchOutput};

    #[test]
    fn vectors() {
        let op = build("within", "GET HEAD POST", &test_env()).unwrap();
        let m = |v: &[u8]| op.matches(v, &mut MatchOutput::default());
        assert!(m(b"GET") && m(b"POST") && m(b"ET H") && m(b""));
        assert!(!m(b"PUT") && !m(b"get") && !m(b"GET HEAD POST PUT"));
        assert!(m(b"POS") && m(b"T") && !m(b"POST "));
    }

    /// The search by byte pairs agrees with a plain substring search.
    #[test]
    fn needles_agree_with_memmem() {
        let list = b"/content-encoding/ /proxy/ /lock-token/ /if/ aab aaab";
        let within = super::Within::new(list);
        for a in 0..list.len() {
            for b in a..=list.len() {
                for needle in [&list[a..b], b"/proxy/x", b"aaaab", b"b/", b"z", b"\xff"] {
                    let want = memchr::memmem::find(list, needle).is_some();
                    assert_eq!(within.holds(needle), want, "{needle:?}");
                }
            }
        }
        assert!(super::Within::new(b"").holds(b"") && !super::Within::new(b"").holds(b"a"));
    }
}
