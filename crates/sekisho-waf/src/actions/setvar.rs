//! `setvar:tx.score=+5`, `setvar:!tx.flag`, `setvar:ip.x=1`: write a store variable.
//! Names and values are macro-expanded; `=+`/`=-` do integer arithmetic.

use crate::macros::Macro;

/// Which store a `setvar` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Store {
    Tx,
    Ip,
    Global,
    Session,
    User,
    Resource,
}

impl Store {
    pub fn parse(s: &str) -> Option<Store> {
        match s.to_ascii_lowercase().as_str() {
            "tx" => Some(Store::Tx),
            "ip" => Some(Store::Ip),
            "global" => Some(Store::Global),
            "session" => Some(Store::Session),
            "user" => Some(Store::User),
            "resource" => Some(Store::Resource),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub enum SetOp {
    Set(Macro),
    Add(Macro),
    Sub(Macro),
    Delete,
}

/// A compiled `setvar`.
#[derive(Debug, Clone)]
pub struct SetVar {
    pub store: Store,
    pub name: Macro,
    /// The name lower-cased, when it holds no macro (most do): no expansion per run.
    pub fixed_name: Option<String>,
    pub op: SetOp,
}

impl SetVar {
    /// Parses the value of `setvar:`.
    pub fn parse(v: &str) -> Result<SetVar, String> {
        let v = v.trim();
        let (delete, body) = match v.strip_prefix('!') {
            Some(b) => (true, b),
            None => (false, v),
        };
        let (lhs, rhs) = match body.find('=') {
            Some(i) => (
                body.get(..i).unwrap_or_default(),
                Some(body.get(i + 1..).unwrap_or_default()),
            ),
            None => (body, None),
        };
        let Some((store, name)) = lhs.split_once('.') else {
            return Err(format!("invalid setvar `{v}`: expected `collection.name`"));
        };
        let store = Store::parse(store.trim())
            .ok_or_else(|| format!("invalid setvar `{v}`: unknown collection `{store}`"))?;
        let name = Macro::parse(name.trim())?;
        let op = if delete {
            SetOp::Delete
        } else {
            match rhs {
                None => SetOp::Set(Macro::parse("1")?),
                Some(r) => {
                    if let Some(n) = r.strip_prefix('+') {
                        SetOp::Add(Macro::parse(n)?)
                    } else if let Some(n) = r.strip_prefix('-') {
                        SetOp::Sub(Macro::parse(n)?)
                    } else {
                        SetOp::Set(Macro::parse(r)?)
                    }
                }
            }
        };
        let fixed_name = name.literal().map(str::to_ascii_lowercase);
        Ok(SetVar {
            store,
            name,
            fixed_name,
            op,
        })
    }
}

/// ModSecurity's integer reading of a value: leading digits, else 0.
pub fn to_int(v: &[u8]) -> i64 {
    let s = std::str::from_utf8(v).unwrap_or("").trim();
    s.parse::<i64>().unwrap_or_else(|_| {
        let mut end = 0;
        for (i, c) in s.char_indices() {
            if c.is_ascii_digit() || (i == 0 && (c == '-' || c == '+')) {
                end = i + 1;
            } else {
                break;
            }
        }
        s.get(..end).and_then(|p| p.parse().ok()).unwrap_or(0)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_forms() {
        assert!(matches!(
            SetVar::parse("tx.a=+5").unwrap().op,
            SetOp::Add(_)
        ));
        assert!(matches!(
            SetVar::parse("tx.a=-%{tx.b}").unwrap().op,
            SetOp::Sub(_)
        ));
        assert!(matches!(SetVar::parse("!tx.a").unwrap().op, SetOp::Delete));
        assert!(matches!(SetVar::parse("tx.a").unwrap().op, SetOp::Set(_)));
        assert_eq!(SetVar::parse("ip.a=1").unwrap().store, Store::Ip);
        assert!(SetVar::parse("nope").is_err());
        assert!(SetVar::parse("foo.a=1").is_err());
    }

    #[test]
    fn ints() {
        assert_eq!(to_int(b"12"), 12);
        assert_eq!(to_int(b"-3"), -3);
        assert_eq!(to_int(b"7abc"), 7);
        assert_eq!(to_int(b"x"), 0);
    }
}
