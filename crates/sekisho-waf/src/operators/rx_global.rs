//! `@rxGlobal REGEX`: `@rx`, but with `capture` every match of the value is captured, not only
//! the first: the whole text of each match in turn goes to `TX.0`, `TX.1`, … (at most 10), as
//! ModSecurity v3 does. Without `capture` it is exactly `@rx`.
//!
//! ```text
//! SecRule ARGS "@rxGlobal \d{4}" "id:1,phase:2,pass,capture,log,logdata:'%{TX.0} %{TX.1}'"
//! ```

use super::rx::compile;
use super::{MatchOutput, Operator, OperatorEnv};
use regex::bytes::Regex;

#[derive(Debug)]
struct RxGlobal {
    re: Regex,
}

impl Operator for RxGlobal {
    fn matches(&self, input: &[u8], out: &mut MatchOutput) -> bool {
        if !out.want_captures {
            return self.re.is_match(input);
        }
        out.captures.clear();
        for m in self.re.find_iter(input).take(10) {
            out.captures.push(m.as_bytes().to_vec());
        }
        !out.captures.is_empty()
    }
}

pub(crate) fn build(arg: &str, _env: &OperatorEnv<'_>) -> Result<Box<dyn Operator>, String> {
    Ok(Box::new(RxGlobal { re: compile(arg)? }))
}

#[cfg(test)]
mod tests {
    use crate::operators::{build, test_env, MatchOutput};

    #[test]
    fn captures_every_match() {
        let op = build("rxGlobal", r"\d+", &test_env()).unwrap();
        let mut out = MatchOutput {
            want_captures: true,
            ..MatchOutput::default()
        };
        assert!(op.matches(b"a1b22c333", &mut out));
        let got: Vec<&[u8]> = out.captures.iter().map(Vec::as_slice).collect();
        assert_eq!(got, [&b"1"[..], b"22", b"333"]);
        assert!(!op.matches(b"none", &mut MatchOutput::default()));
        assert!(op.matches(b"x9", &mut MatchOutput::default()));
    }
}
