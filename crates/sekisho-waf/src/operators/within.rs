//! `@within LIST`: matches when the value occurs anywhere in `LIST` (a substring search of the
//! value in the argument, case-sensitive; an empty value always matches). Captures the value
//! as `TX.0`.
//!
//! ```text
//! SecRule REQUEST_METHOD "!@within GET HEAD POST OPTIONS" "id:1,phase:1,deny"
//! ```

use super::{MatchOutput, Operator, OperatorEnv};

#[derive(Debug)]
struct Within(Vec<u8>);

impl Operator for Within {
    fn matches(&self, input: &[u8], out: &mut MatchOutput) -> bool {
        let hit = occurs_in(&self.0, input);
        if hit {
            out.capture0(input);
        }
        hit
    }
}

/// Whether `needle` occurs in `list`. The needle (the value) changes with every call: a
/// memmem searcher built for it cost more than searching the short lists rules give, so a
/// short one is looked for at each occurrence of its first byte.
fn occurs_in(list: &[u8], needle: &[u8]) -> bool {
    let Some((&first, rest)) = needle.split_first() else {
        return true;
    };
    if needle.len() > 16 {
        return memchr::memmem::find(list, needle).is_some();
    }
    memchr::memchr_iter(first, list).any(|at| {
        list.get(at + 1..at + needle.len())
            .is_some_and(|w| w == rest)
    })
}

pub(crate) fn build(arg: &str, _env: &OperatorEnv<'_>) -> Result<Box<dyn Operator>, String> {
    Ok(Box::new(Within(arg.as_bytes().to_vec())))
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

    /// The first-byte search agrees with a plain substring search.
    #[test]
    fn short_needles_agree_with_memmem() {
        let list = b"/content-encoding/ /proxy/ /lock-token/ /if/ aab aaab";
        for a in 0..list.len() {
            for b in a..=list.len().min(a + 20) {
                for needle in [&list[a..b], b"/proxy/x", b"aaaab", b"b/"] {
                    let want = memchr::memmem::find(list, needle).is_some();
                    assert_eq!(super::occurs_in(list, needle), want, "{needle:?}");
                }
            }
        }
    }
}
