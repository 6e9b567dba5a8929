//! Rule operators (`"!@eq 0"`, `"@rx ^a"`, `"^a"`) and the registry of ModSecurity v3
//! operator names.

use crate::ast::OperatorSpec;
use crate::suggest;

/// Whether an operator takes an argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Arg {
    /// The argument is required (`@rx`, `@eq`, …).
    Required,
    /// No argument (`@detectSQLi`, `@unconditionalMatch`, …).
    None,
}

/// Every ModSecurity v3 operator: (name as documented, argument, canonical lower-case name).
/// Aliases map to their canonical operator (`@pmf` → `pmfromfile`).
const OPERATORS: &[(&str, Arg, &str)] = &[
    ("beginsWith", Arg::Required, "beginswith"),
    ("contains", Arg::Required, "contains"),
    ("containsWord", Arg::Required, "containsword"),
    ("detectSQLi", Arg::None, "detectsqli"),
    ("detectXSS", Arg::None, "detectxss"),
    ("endsWith", Arg::Required, "endswith"),
    ("eq", Arg::Required, "eq"),
    ("fuzzyHash", Arg::Required, "fuzzyhash"),
    ("ge", Arg::Required, "ge"),
    ("geoLookup", Arg::None, "geolookup"),
    ("gsbLookup", Arg::Required, "gsblookup"),
    ("gt", Arg::Required, "gt"),
    ("inspectFile", Arg::Required, "inspectfile"),
    ("ipMatch", Arg::Required, "ipmatch"),
    ("ipMatchF", Arg::Required, "ipmatchfromfile"),
    ("ipMatchFromFile", Arg::Required, "ipmatchfromfile"),
    ("le", Arg::Required, "le"),
    ("lt", Arg::Required, "lt"),
    ("noMatch", Arg::None, "nomatch"),
    ("pm", Arg::Required, "pm"),
    ("pmf", Arg::Required, "pmfromfile"),
    ("pmFromFile", Arg::Required, "pmfromfile"),
    ("rbl", Arg::Required, "rbl"),
    ("rsub", Arg::Required, "rsub"),
    ("rx", Arg::Required, "rx"),
    ("rxGlobal", Arg::Required, "rxglobal"),
    ("streq", Arg::Required, "streq"),
    ("strmatch", Arg::Required, "strmatch"),
    ("unconditionalMatch", Arg::None, "unconditionalmatch"),
    ("validateByteRange", Arg::Required, "validatebyterange"),
    ("validateDTD", Arg::Required, "validatedtd"),
    ("validateHash", Arg::Required, "validatehash"),
    ("validateSchema", Arg::Required, "validateschema"),
    ("validateUrlEncoding", Arg::None, "validateurlencoding"),
    ("validateUtf8Encoding", Arg::None, "validateutf8encoding"),
    ("verifyCC", Arg::Required, "verifycc"),
    ("verifyCPF", Arg::Required, "verifycpf"),
    ("verifySSN", Arg::Required, "verifyssn"),
    ("verifySVNR", Arg::Required, "verifysvnr"),
    ("within", Arg::Required, "within"),
];

/// Every canonical operator name (lower case, aliases resolved).
pub fn operator_names() -> impl Iterator<Item = &'static str> {
    let mut names: Vec<&'static str> = OPERATORS.iter().map(|(_, _, canon)| *canon).collect();
    names.sort_unstable();
    names.dedup();
    names.into_iter()
}

/// Parses a rule's operator argument.
///
/// `!` negates; without `@` the whole text is an `@rx` regex; after `@name` exactly one blank
/// separates the argument, whose further blanks are kept (ModSecurity v3 does the same).
pub(crate) fn parse_operator(text: &str) -> Result<OperatorSpec, String> {
    let (negated, rest) = match text.strip_prefix('!') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let Some(after_at) = rest.strip_prefix('@') else {
        return Ok(OperatorSpec {
            negated,
            name: "rx".to_owned(),
            arg: rest.to_owned(),
        });
    };
    let name_end = after_at.find(char::is_whitespace).unwrap_or(after_at.len());
    let (written, tail) = after_at.split_at(name_end);
    let arg = match tail.chars().next() {
        Some(blank) => tail.get(blank.len_utf8()..).unwrap_or_default(),
        None => "",
    };
    let Some((doc_name, kind, canon)) = OPERATORS
        .iter()
        .find(|(doc_name, _, _)| doc_name.eq_ignore_ascii_case(written))
    else {
        let names = OPERATORS.iter().map(|(doc_name, _, _)| *doc_name);
        return Err(match suggest::closest(written, names) {
            Some(near) => format!("unknown operator `@{written}` (did you mean `@{near}`?)"),
            None => format!("unknown operator `@{written}`"),
        });
    };
    match kind {
        Arg::Required if arg.trim().is_empty() => {
            return Err(format!(
                "operator `@{doc_name}` needs an argument, got `{text}`"
            ));
        }
        Arg::None if !arg.trim().is_empty() => {
            return Err(format!(
                "operator `@{doc_name}` takes no argument, got `{text}`"
            ));
        }
        _ => {}
    }
    Ok(OperatorSpec {
        negated,
        name: (*canon).to_owned(),
        arg: if *kind == Arg::None {
            String::new()
        } else {
            arg.to_owned()
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(negated: bool, name: &str, arg: &str) -> OperatorSpec {
        OperatorSpec {
            negated,
            name: name.into(),
            arg: arg.into(),
        }
    }

    #[test]
    fn parses_named_negated_and_implicit_rx() {
        assert_eq!(parse_operator("!@eq 0").unwrap(), op(true, "eq", "0"));
        assert_eq!(
            parse_operator("@rx ^(?:foo)$").unwrap(),
            op(false, "rx", "^(?:foo)$")
        );
        assert_eq!(parse_operator("^a b$").unwrap(), op(false, "rx", "^a b$"));
        assert_eq!(parse_operator("!^$").unwrap(), op(true, "rx", "^$"));
        assert_eq!(
            parse_operator("@detectSQLi").unwrap(),
            op(false, "detectsqli", "")
        );
        assert_eq!(
            parse_operator("@pmf x.data").unwrap(),
            op(false, "pmfromfile", "x.data")
        );
        assert_eq!(parse_operator("@RX a").unwrap(), op(false, "rx", "a"));
    }

    #[test]
    fn keeps_blanks_after_the_separator() {
        assert_eq!(parse_operator("@rx  a ").unwrap(), op(false, "rx", " a "));
        assert_eq!(parse_operator("@pm\ta b").unwrap(), op(false, "pm", "a b"));
    }

    #[test]
    fn rejects_unknown_and_bad_arity() {
        assert_eq!(
            parse_operator("@rxx a").unwrap_err(),
            "unknown operator `@rxx` (did you mean `@rx`?)"
        );
        assert!(parse_operator("@eq")
            .unwrap_err()
            .contains("needs an argument"));
        assert!(parse_operator("@detectXSS x")
            .unwrap_err()
            .contains("takes no argument"));
    }
}
