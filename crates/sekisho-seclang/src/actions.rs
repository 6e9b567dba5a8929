//! Action lists (`"id:1,phase:2,msg:'a, b',t:none"`) and the registry of ModSecurity v3
//! action names.

use crate::ast::Action;
use crate::suggest;
use crate::variables::split_unquoted;

/// Whether an action takes a value after `:`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Value {
    /// `name:value` only.
    Required,
    /// `name` or `name:value`.
    Optional,
    /// `name` only.
    None,
}

/// Every ModSecurity v3 action: (name as documented, value). Sorted by lower-case name.
const ACTIONS: &[(&str, Value)] = &[
    ("accuracy", Value::Required),
    ("allow", Value::Optional),
    ("append", Value::Required),
    ("auditlog", Value::None),
    ("block", Value::None),
    ("capture", Value::None),
    ("chain", Value::None),
    ("ctl", Value::Required),
    ("deny", Value::None),
    ("deprecatevar", Value::Required),
    ("drop", Value::None),
    ("exec", Value::Required),
    ("expirevar", Value::Required),
    ("id", Value::Required),
    ("initcol", Value::Required),
    ("log", Value::None),
    ("logdata", Value::Required),
    ("maturity", Value::Required),
    ("msg", Value::Required),
    ("multiMatch", Value::None),
    ("noauditlog", Value::None),
    ("nolog", Value::None),
    ("pass", Value::None),
    ("pause", Value::Required),
    ("phase", Value::Required),
    ("prepend", Value::Required),
    ("proxy", Value::Required),
    ("redirect", Value::Required),
    ("rev", Value::Required),
    ("sanitiseArg", Value::Required),
    ("sanitiseMatched", Value::None),
    ("sanitiseMatchedBytes", Value::Optional),
    ("sanitiseRequestHeader", Value::Required),
    ("sanitiseResponseHeader", Value::Required),
    ("setenv", Value::Required),
    ("setrsc", Value::Required),
    ("setsid", Value::Required),
    ("setuid", Value::Required),
    ("setvar", Value::Required),
    ("severity", Value::Required),
    ("skip", Value::Required),
    ("skipAfter", Value::Required),
    ("status", Value::Required),
    ("t", Value::Required),
    ("tag", Value::Required),
    ("ver", Value::Required),
    ("xmlns", Value::Required),
];

/// Disruptive actions (canonical names): only a chain starter may carry one.
pub const DISRUPTIVE: &[&str] = &[
    "allow", "block", "deny", "drop", "pass", "pause", "proxy", "redirect",
];

/// The `ctl:` options ModSecurity v3 knows.
const CTL_OPTIONS: &[&str] = &[
    "auditEngine",
    "auditLogParts",
    "debugLogLevel",
    "forceRequestBodyVariable",
    "hashEnforcement",
    "hashEngine",
    "parseXmlIntoArgs",
    "requestBodyAccess",
    "requestBodyLimit",
    "requestBodyProcessor",
    "responseBodyAccess",
    "responseBodyLimit",
    "ruleEngine",
    "ruleRemoveById",
    "ruleRemoveByMsg",
    "ruleRemoveByTag",
    "ruleRemoveTargetById",
    "ruleRemoveTargetByMsg",
    "ruleRemoveTargetByTag",
];

/// `severity` names in ModSecurity order (index = numeric severity).
const SEVERITIES: &[&str] = &[
    "EMERGENCY",
    "ALERT",
    "CRITICAL",
    "ERROR",
    "WARNING",
    "NOTICE",
    "INFO",
    "DEBUG",
];

/// Every canonical action name (lower case).
pub fn action_names() -> impl Iterator<Item = String> {
    ACTIONS.iter().map(|(name, _)| name.to_ascii_lowercase())
}

/// Parses a comma-separated action list, keeping source order. Blanks around actions, names
/// and values are ignored; commas inside single quotes do not separate.
pub(crate) fn parse_actions(text: &str) -> Result<Vec<Action>, String> {
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    split_unquoted(text, ',')
        .into_iter()
        .map(|part| parse_action(part.trim()))
        .collect()
}

/// Parses one `name[:value]` action and validates it.
fn parse_action(text: &str) -> Result<Action, String> {
    if text.is_empty() {
        return Err("empty action (stray `,`?)".to_owned());
    }
    let (written, raw_value) = match text.split_once(':') {
        Some((name, value)) => (name.trim_end(), Some(value.trim_start())),
        None => (text, None),
    };
    let Some((doc_name, kind)) = ACTIONS
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(written))
    else {
        return Err(format!(
            "unknown action `{written}`{}",
            suggest::hint(written, ACTIONS.iter().map(|(n, _)| *n))
        ));
    };
    let name = doc_name.to_ascii_lowercase();
    let value = raw_value.map(unquote).transpose()?;
    match (kind, &value) {
        (Value::Required, None) => {
            return Err(format!(
                "action `{doc_name}` needs a value (`{doc_name}:...`)"
            ));
        }
        (Value::Required, Some(v)) if v.is_empty() => {
            return Err(format!("action `{doc_name}` needs a value, got `{text}`"));
        }
        (Value::None, Some(_)) => {
            return Err(format!("action `{doc_name}` takes no value, got `{text}`"));
        }
        _ => {}
    }
    if let Some(v) = &value {
        check_value(doc_name, v)?;
    }
    Ok(Action { name, value })
}

/// Removes single quotes around a value: `'a \'b\''` → `a 'b'` (`\\` → `\` inside quotes,
/// as ModSecurity does). Unquoted values are kept as written.
fn unquote(value: &str) -> Result<String, String> {
    let Some(inner) = value.strip_prefix('\'') else {
        return Ok(value.to_owned());
    };
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.clone().next() {
                Some(next @ ('\'' | '\\')) => {
                    out.push(next);
                    chars.next();
                }
                _ => out.push(c),
            },
            '\'' => {
                let rest = chars.as_str();
                if !rest.trim().is_empty() {
                    return Err(format!(
                        "unexpected `{}` after quoted value `{value}`",
                        rest.trim()
                    ));
                }
                return Ok(out);
            }
            _ => out.push(c),
        }
    }
    Err(format!("unclosed `'` in action value `{value}`"))
}

/// Checks values whose syntax is fixed, so mistakes surface with their location.
fn check_value(name: &str, value: &str) -> Result<(), String> {
    let is_number = |v: &str| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit());
    match name {
        "id" if !is_number(value) || value.bytes().all(|b| b == b'0') => Err(format!(
            "action `id` needs a positive number, got `{value}`"
        )),
        "phase"
            if !matches!(value, "1" | "2" | "3" | "4" | "5")
                && !["request", "response", "logging"]
                    .iter()
                    .any(|p| p.eq_ignore_ascii_case(value)) =>
        {
            Err(format!(
                "action `phase` needs 1 to 5, `request`, `response` or `logging`, got `{value}`"
            ))
        }
        "severity"
            if !matches!(value, "0" | "1" | "2" | "3" | "4" | "5" | "6" | "7")
                && !SEVERITIES.iter().any(|s| s.eq_ignore_ascii_case(value)) =>
        {
            Err(format!(
                "action `severity` needs 0 to 7 or a name like `CRITICAL`, got `{value}`"
            ))
        }
        "status" | "skip" if !is_number(value) => {
            Err(format!("action `{name}` needs a number, got `{value}`"))
        }
        "ctl" => {
            let option = value.split_once('=').map(|(o, _)| o.trim());
            match option {
                None => Err(format!("action `ctl` needs `option=value`, got `{value}`")),
                Some(o) if CTL_OPTIONS.iter().any(|c| c.eq_ignore_ascii_case(o)) => Ok(()),
                Some(o) => Err(format!(
                    "unknown `ctl` option `{o}`{}",
                    suggest::hint(o, CTL_OPTIONS.iter().copied())
                )),
            }
        }
        _ => Ok(()),
    }
}

/// The numeric severity (0 = EMERGENCY … 7 = DEBUG) of a `severity` value, if valid.
pub fn severity_number(value: &str) -> Option<u8> {
    if let Ok(n) = value.parse::<u8>() {
        return (n <= 7).then_some(n);
    }
    SEVERITIES
        .iter()
        .position(|s| s.eq_ignore_ascii_case(value))
        .and_then(|i| u8::try_from(i).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(name: &str, value: Option<&str>) -> Action {
        Action {
            name: name.into(),
            value: value.map(Into::into),
        }
    }

    #[test]
    fn parses_crs_style_lists_in_order() {
        let text = "id:911100, phase:1,block,msg:'Method is not allowed by policy',\
                    logdata:'Matched Data: %{TX.0} found within %{MATCHED_VAR_NAME}: %{MATCHED_VAR}',\
                    setvar:'tx.x=%{tx.y}',t:none,multiMatch";
        let actions = parse_actions(text).unwrap();
        assert_eq!(
            actions,
            vec![
                a("id", Some("911100")),
                a("phase", Some("1")),
                a("block", None),
                a("msg", Some("Method is not allowed by policy")),
                a(
                    "logdata",
                    Some("Matched Data: %{TX.0} found within %{MATCHED_VAR_NAME}: %{MATCHED_VAR}")
                ),
                a("setvar", Some("tx.x=%{tx.y}")),
                a("t", Some("none")),
                a("multimatch", None),
            ]
        );
    }

    #[test]
    fn unescapes_quotes_in_values() {
        let actions =
            parse_actions(r"msg:'lama\'s\'hell web shell',ctl:ruleRemoveTargetById=1;ARGS:x")
                .unwrap();
        assert_eq!(actions[0], a("msg", Some("lama's'hell web shell")));
        assert_eq!(actions[1], a("ctl", Some("ruleRemoveTargetById=1;ARGS:x")));
    }

    #[test]
    fn empty_list_is_fine() {
        assert_eq!(parse_actions("  ").unwrap(), vec![]);
    }

    #[test]
    fn rejects_bad_actions_with_clear_messages() {
        assert_eq!(
            parse_actions("id:1,mgs:'x'").unwrap_err(),
            "unknown action `mgs` (did you mean `msg`?)"
        );
        assert!(parse_actions("id:1,,pass")
            .unwrap_err()
            .contains("empty action"));
        assert!(parse_actions("id:x")
            .unwrap_err()
            .contains("positive number"));
        assert!(parse_actions("phase:9").unwrap_err().contains("`phase`"));
        assert!(parse_actions("severity:HUGE")
            .unwrap_err()
            .contains("`severity`"));
        assert!(parse_actions("msg").unwrap_err().contains("needs a value"));
        assert!(parse_actions("pass:1")
            .unwrap_err()
            .contains("takes no value"));
        assert!(parse_actions("msg:'a'b")
            .unwrap_err()
            .contains("after quoted value"));
        assert!(parse_actions("msg:'abc").unwrap_err().contains("unclosed"));
        assert!(parse_actions("ctl:ruleEngin=Off")
            .unwrap_err()
            .contains("did you mean `ruleEngine`"));
    }

    #[test]
    fn severity_numbers() {
        assert_eq!(severity_number("CRITICAL"), Some(2));
        assert_eq!(severity_number("5"), Some(5));
        assert_eq!(severity_number("9"), None);
    }
}
