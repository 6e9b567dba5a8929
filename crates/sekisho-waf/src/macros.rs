//! Macro expansion (`%{TX.anomaly_score}`, `%{MATCHED_VAR}`, `%{REQUEST_HEADERS.host}`):
//! parsed once at load, expanded per transaction.

use crate::collection::KeySel;
use crate::transaction::data::TxData;
use crate::variables::{self, RuleInfo, Var};

#[derive(Debug, Clone)]
enum Part {
    Lit(String),
    Var { var: Var, sel: KeySel },
}

/// A string that may contain macros.
#[derive(Debug, Clone)]
pub struct Macro {
    parts: Vec<Part>,
    /// The text as written, for error messages and logs.
    pub text: String,
}

impl Macro {
    /// Parses `text`; `%{NAME}`, `%{NAME.key}` and `%{NAME:key}` refer to variables.
    /// Unknown variable names are an error.
    pub fn parse(text: &str) -> Result<Macro, String> {
        let mut parts = Vec::new();
        let mut rest = text;
        let mut lit = String::new();
        while let Some(start) = rest.find("%{") {
            let after = rest.get(start + 2..).unwrap_or_default();
            let Some(end) = after.find('}') else {
                break;
            };
            lit.push_str(rest.get(..start).unwrap_or_default());
            let inner = after.get(..end).unwrap_or_default();
            let (name, key) = match inner.find(['.', ':']) {
                Some(i) => (inner.get(..i).unwrap_or_default(), inner.get(i + 1..)),
                None => (inner, None),
            };
            let def = variables::lookup(name.trim())
                .ok_or_else(|| format!("unknown variable `{name}` in macro `%{{{inner}}}`"))?;
            let sel = match key {
                Some(k) => KeySel::Exact(k.to_ascii_lowercase().into()),
                None => KeySel::All,
            };
            if !lit.is_empty() {
                parts.push(Part::Lit(std::mem::take(&mut lit)));
            }
            parts.push(Part::Var { var: def.var, sel });
            rest = after.get(end + 1..).unwrap_or_default();
        }
        lit.push_str(rest);
        if !lit.is_empty() {
            parts.push(Part::Lit(lit));
        }
        Ok(Macro {
            parts,
            text: text.to_string(),
        })
    }

    /// The variables the macro reads.
    pub(crate) fn refs(&self) -> impl Iterator<Item = (Var, &KeySel)> {
        self.parts.iter().filter_map(|p| match p {
            Part::Var { var, sel } => Some((*var, sel)),
            Part::Lit(_) => None,
        })
    }

    /// The text before the first `%{…}` (all of it for a literal).
    pub(crate) fn literal_prefix(&self) -> &str {
        match self.parts.first() {
            Some(Part::Lit(s)) => s,
            _ => "",
        }
    }

    /// A macro without any `%{…}`.
    pub fn is_literal(&self) -> bool {
        self.parts.iter().all(|p| matches!(p, Part::Lit(_)))
    }

    /// Expands every macro; a missing variable expands to the empty string.
    /// The text, when it holds no macro (nothing to expand).
    pub fn literal(&self) -> Option<&str> {
        match self.parts.as_slice() {
            [] => Some(""),
            [Part::Lit(s)] => Some(s),
            _ => None,
        }
    }

    pub fn expand(&self, data: &TxData, rule: &RuleInfo<'_>) -> Vec<u8> {
        // Sized for the usual case (short values) up front: growing it cost more than the
        // expansion itself.
        let guess: usize = self
            .parts
            .iter()
            .map(|p| match p {
                Part::Lit(s) => s.len(),
                Part::Var { .. } => 16,
            })
            .sum();
        let mut out = Vec::with_capacity(guess);
        self.expand_into(data, rule, &mut out);
        out
    }

    pub fn expand_string(&self, data: &TxData, rule: &RuleInfo<'_>) -> String {
        match self.parts.as_slice() {
            [] => String::new(),
            [Part::Lit(s)] => s.clone(),
            _ => String::from_utf8_lossy(&self.expand(data, rule)).into_owned(),
        }
    }

    pub fn expand_into(&self, data: &TxData, rule: &RuleInfo<'_>, out: &mut Vec<u8>) {
        for p in &self.parts {
            match p {
                Part::Lit(s) => out.extend_from_slice(s.as_bytes()),
                // Fast path for the store CRS reads most: no copy in between.
                Part::Var {
                    var: Var::Tx,
                    sel: KeySel::Exact(k),
                } => {
                    if let Some(v) = data.tx.get(k) {
                        out.extend_from_slice(v);
                    }
                }
                Part::Var { var, sel } => {
                    if let Some(v) = variables::first_value(*var, sel, data, rule) {
                        out.extend_from_slice(&v);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info() -> RuleInfo<'static> {
        RuleInfo {
            id: 7,
            msg: "hello",
            severity: Some(2),
            rev: "",
            ver: "",
            phase: 2,
        }
    }

    #[test]
    fn expands_tx_and_matched_var() {
        let mut d = TxData::default();
        d.tx.set("score", b"5".to_vec());
        d.matched_var = b"abc".to_vec();
        let m = Macro::parse("s=%{TX.Score} v=%{MATCHED_VAR} id=%{rule.id} x=%{tx.none}").unwrap();
        assert_eq!(m.expand_string(&d, &info()), "s=5 v=abc id=7 x=");
    }

    #[test]
    fn header_key_and_literal() {
        let mut d = TxData::default();
        d.request_headers.add(b"Host", b"example.com");
        let m = Macro::parse("%{REQUEST_HEADERS.host}").unwrap();
        assert_eq!(m.expand_string(&d, &info()), "example.com");
        assert!(Macro::parse("plain %{").unwrap().is_literal());
        assert!(Macro::parse("%{NOPE}").is_err());
    }
}
