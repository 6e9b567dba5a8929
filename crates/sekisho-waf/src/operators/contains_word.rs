//! `@containsWord WORD`: matches when `WORD` occurs in the value with no ASCII letter right
//! before or after it (ModSecurity treats digits and `_` as boundaries too). An empty `WORD`
//! always matches. Captures `WORD` as `TX.0`.
//!
//! ```text
//! SecRule ARGS "@containsWord select" "id:1,phase:2,t:lowercase,deny"
//! ```

use super::{MatchOutput, Operator, OperatorEnv};

#[derive(Debug)]
struct ContainsWord(Vec<u8>);

fn is_boundary(b: Option<&u8>) -> bool {
    !b.is_some_and(u8::is_ascii_alphabetic)
}

impl Operator for ContainsWord {
    fn required_literals(&self) -> Option<Vec<Vec<u8>>> {
        (!self.0.is_empty()).then(|| vec![self.0.clone()])
    }

    fn matches(&self, input: &[u8], out: &mut MatchOutput) -> bool {
        let word = self.0.as_slice();
        let hit = word.is_empty()
            || input.windows(word.len()).enumerate().any(|(i, w)| {
                w == word
                    && (i == 0 || is_boundary(input.get(i - 1)))
                    && is_boundary(input.get(i + word.len()))
            });
        if hit {
            out.capture0(word);
        }
        hit
    }
}

pub(crate) fn build(arg: &str, _env: &OperatorEnv<'_>) -> Result<Box<dyn Operator>, String> {
    Ok(Box::new(ContainsWord(arg.as_bytes().to_vec())))
}

#[cfg(test)]
mod tests {
    use crate::operators::{build, test_env, MatchOutput};

    #[test]
    fn vectors() {
        let op = build("containsWord", "select", &test_env()).unwrap();
        let m = |v: &[u8]| op.matches(v, &mut MatchOutput::default());
        assert!(m(b"select") && m(b"1 select 2") && m(b"(select)") && m(b"1select_"));
        assert!(m(b"selected select"));
        assert!(!m(b"selected") && !m(b"unselect") && !m(b"SELECT") && !m(b""));
    }
}
