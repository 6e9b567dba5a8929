//! ModSecurity v3-style error-log lines for matched rules (what CRS tests' `match_regex`
//! runs over).

use crate::outcome::{Disruptive, Interruption, MatchedRule};
use crate::rule::Rule;
use crate::transaction::data::TxData;
use std::fmt::Write;

/// Escapes a field as ModSecurity's error log does: `"` and `\` get a backslash, control
/// bytes become `\xHH`, so that one match is always one line.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_ascii_control() => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// `ModSecurity: Warning. Matched "Operator `Rx' with parameter `…' against variable
/// `ARGS:x' (Value: `…' ) [file "…"] [line "…"] [id "…"] … [unique_id "…"] [ref ""]`.
pub(crate) fn line(
    rule: &Rule,
    m: &MatchedRule,
    last_link: Option<&Rule>,
    d: &TxData,
    intr: Option<&Interruption>,
) -> String {
    let mut s = String::from("ModSecurity: ");
    match intr {
        Some(i) => {
            let what = match &i.action {
                Disruptive::Deny => format!("Access denied with code {}", i.status),
                Disruptive::Drop => "Access denied with connection close".to_string(),
                Disruptive::Redirect(url) => format!(
                    "Access denied with redirection to {url} using status {}",
                    i.status
                ),
            };
            let _ = write!(s, "{what} (phase {}). ", i.phase);
        }
        None => s.push_str("Warning. "),
    }
    match last_link {
        Some(link) if !link.targets.is_empty() => {
            let _ = write!(
                s,
                "Matched \"Operator `{}' with parameter `{}' against variable `{}' (Value: `{}' ) ",
                link.op.display,
                link.op.arg,
                m.matched_var_name,
                String::from_utf8_lossy(&m.matched_var)
            );
        }
        _ => s.push_str("Unconditional match in SecAction. "),
    }
    let _ = write!(
        s,
        "[file \"{}\"] [line \"{}\"] [id \"{}\"] [rev \"{}\"] [msg \"{}\"] [data \"{}\"] [severity \"{}\"] [ver \"{}\"] [maturity \"{}\"] [accuracy \"{}\"]",
        rule.file.display(),
        rule.line,
        rule.id,
        esc(&rule.actions.rev),
        esc(&m.msg),
        esc(&m.logdata),
        m.severity.map_or(String::new(), |v| v.to_string()),
        esc(&rule.actions.ver),
        rule.actions.maturity.unwrap_or(0),
        rule.actions.accuracy.unwrap_or(0),
    );
    for t in m.tags.iter() {
        let _ = write!(s, " [tag \"{}\"]", esc(t));
    }
    let host = d
        .request_headers
        .get(b"host")
        .map(|h| String::from_utf8_lossy(h).into_owned())
        .unwrap_or_else(|| d.server_addr.clone());
    let _ = write!(
        s,
        " [hostname \"{}\"] [uri \"{}\"] [unique_id \"{}\"] [ref \"\"]",
        esc(&host),
        esc(&String::from_utf8_lossy(&d.request_uri)),
        d.unique_id
    );
    s
}
