//! SecLang actions: parsed once per rule into [`Actions`]. [`ACTIONS`] lists every action
//! name the engine accepts and what kind it is; anything else is a load error.

pub mod ctl;
pub mod setvar;

use crate::macros::Macro;
use crate::transformations::{self, TransformFn};
use ctl::Ctl;
use setvar::{SetVar, Store};

/// ModSecurity's action groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Disruptive,
    Flow,
    Meta,
    Data,
    NonDisruptive,
    /// Valid SecLang that sekisho does not run: a load error naming the reason.
    Unsupported(&'static str),
}

/// Every action name (lower case) and its kind.
pub static ACTIONS: &[(&str, Kind)] = &[
    ("accuracy", Kind::Meta),
    ("allow", Kind::Disruptive),
    (
        "append",
        Kind::Unsupported("response body rewriting is not supported"),
    ),
    ("auditlog", Kind::NonDisruptive),
    ("block", Kind::Disruptive),
    ("capture", Kind::NonDisruptive),
    ("chain", Kind::Flow),
    ("ctl", Kind::NonDisruptive),
    ("deny", Kind::Disruptive),
    ("deprecatevar", Kind::NonDisruptive),
    ("drop", Kind::Disruptive),
    (
        "exec",
        Kind::Unsupported("running external programs or Lua scripts is not supported"),
    ),
    ("expirevar", Kind::NonDisruptive),
    ("id", Kind::Meta),
    ("initcol", Kind::NonDisruptive),
    ("log", Kind::NonDisruptive),
    ("logdata", Kind::NonDisruptive),
    ("maturity", Kind::Meta),
    ("msg", Kind::Meta),
    ("multimatch", Kind::NonDisruptive),
    ("noauditlog", Kind::NonDisruptive),
    ("nolog", Kind::NonDisruptive),
    ("pass", Kind::Disruptive),
    (
        "pause",
        Kind::Unsupported("`pause` would stall the gateway; not supported"),
    ),
    ("phase", Kind::Meta),
    (
        "prepend",
        Kind::Unsupported("response body rewriting is not supported"),
    ),
    (
        "proxy",
        Kind::Unsupported("proxying from a rule is not supported"),
    ),
    ("redirect", Kind::Disruptive),
    ("rev", Kind::Meta),
    ("sanitisearg", Kind::NonDisruptive),
    ("sanitisematched", Kind::NonDisruptive),
    ("sanitisematchedbytes", Kind::NonDisruptive),
    ("sanitiserequestheader", Kind::NonDisruptive),
    ("sanitiseresponseheader", Kind::NonDisruptive),
    ("setenv", Kind::NonDisruptive),
    ("setrsc", Kind::NonDisruptive),
    ("setsid", Kind::NonDisruptive),
    ("setuid", Kind::NonDisruptive),
    ("setvar", Kind::NonDisruptive),
    ("severity", Kind::Meta),
    ("skip", Kind::Flow),
    ("skipafter", Kind::Flow),
    ("status", Kind::Data),
    ("t", Kind::NonDisruptive),
    ("tag", Kind::Meta),
    ("ver", Kind::Meta),
    ("xmlns", Kind::Data),
];

/// Looks an action name up (any case).
pub fn kind(name: &str) -> Option<Kind> {
    ACTIONS
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, k)| *k)
}

/// What `allow` lets through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AllowScope {
    /// `allow`: skip every remaining rule of the transaction (phases 1–4).
    All,
    /// `allow:phase`: skip the rest of the current phase.
    Phase,
    /// `allow:request`: skip the rest of the request phases (1–2).
    Request,
}

/// A rule's disruptive action.
#[derive(Debug, Clone)]
pub enum Disruptive {
    Pass,
    Deny,
    Drop,
    Block,
    Allow(AllowScope),
    Redirect(Macro),
}

/// Non-disruptive actions that run, in rule order, when the rule (chain) matched.
#[derive(Debug, Clone)]
pub enum Exec {
    SetVar(SetVar),
    Ctl(Ctl),
    SetEnv(Macro, Macro),
    /// `initcol:ip=%{REMOTE_ADDR}`: the store is per transaction, so this only records the key.
    InitCol(Store, Macro),
    SetUid(Macro),
    SetSid(Macro),
}

/// The actions of one rule (one chain link), parsed.
#[derive(Debug, Clone, Default)]
pub struct Actions {
    pub id: Option<u64>,
    pub phase: Option<u8>,
    pub msg: Option<Macro>,
    pub logdata: Option<Macro>,
    /// Shared: every match of the rule hands them out without copying.
    pub tags: std::sync::Arc<[String]>,
    pub severity: Option<u8>,
    pub ver: String,
    pub rev: String,
    pub maturity: Option<u8>,
    pub accuracy: Option<u8>,
    pub log: Option<bool>,
    pub auditlog: Option<bool>,
    pub capture: bool,
    pub multi_match: bool,
    pub chain: bool,
    pub disruptive: Option<Disruptive>,
    pub status: Option<u16>,
    /// Transformations in order; `t_none` says the list started with a reset.
    pub transforms: Vec<(&'static str, TransformFn)>,
    pub t_none: bool,
    pub exec: Vec<Exec>,
    pub skip: u32,
    pub skip_after: Option<String>,
}

/// `1`…`5`, `request` (2), `response` (4), `logging` (5).
pub fn parse_phase(v: &str) -> Option<u8> {
    match v.trim().to_ascii_lowercase().as_str() {
        "request" => Some(2),
        "response" => Some(4),
        "logging" => Some(5),
        n => n.parse().ok().filter(|p| (1..=5).contains(p)),
    }
}

/// `CRITICAL` or `2`.
pub fn parse_severity(v: &str) -> Option<u8> {
    const NAMES: [&str; 8] = [
        "EMERGENCY",
        "ALERT",
        "CRITICAL",
        "ERROR",
        "WARNING",
        "NOTICE",
        "INFO",
        "DEBUG",
    ];
    let v = v.trim();
    if let Ok(n) = v.parse::<u8>() {
        return (n <= 7).then_some(n);
    }
    NAMES
        .iter()
        .position(|n| n.eq_ignore_ascii_case(v))
        .and_then(|p| u8::try_from(p).ok())
}

impl Actions {
    /// Parses a rule's action list; every problem is returned, not just the first.
    pub fn parse(list: &[sekisho_seclang::Action]) -> Result<Actions, Vec<String>> {
        let mut a = Actions::default();
        let mut errors = Vec::new();
        for act in list {
            if let Err(e) = a.apply(&act.name, act.value.as_deref()) {
                errors.push(e);
            }
        }
        if errors.is_empty() {
            Ok(a)
        } else {
            Err(errors)
        }
    }

    fn apply(&mut self, name: &str, value: Option<&str>) -> Result<(), String> {
        let name = name.to_ascii_lowercase();
        let kind = kind(&name).ok_or_else(|| format!("unknown action `{name}`"))?;
        if let Kind::Unsupported(why) = kind {
            return Err(format!("unsupported action `{name}`: {why}"));
        }
        let need = || value.ok_or_else(|| format!("action `{name}` needs a value"));
        match name.as_str() {
            "id" => {
                let v = need()?;
                self.id = Some(
                    v.trim()
                        .parse()
                        .map_err(|_| format!("invalid rule id `{v}`"))?,
                );
            }
            "phase" => {
                let v = need()?;
                self.phase = Some(parse_phase(v).ok_or_else(|| format!("invalid phase `{v}`"))?);
            }
            "msg" => self.msg = Some(Macro::parse(need()?)?),
            "logdata" => self.logdata = Some(Macro::parse(need()?)?),
            "tag" => {
                let mut tags = self.tags.to_vec();
                tags.push(need()?.to_string());
                self.tags = tags.into();
            }
            "severity" => {
                let v = need()?;
                self.severity =
                    Some(parse_severity(v).ok_or_else(|| format!("invalid severity `{v}`"))?);
            }
            "ver" => self.ver = need()?.to_string(),
            "rev" => self.rev = need()?.to_string(),
            "maturity" => self.maturity = need()?.trim().parse().ok(),
            "accuracy" => self.accuracy = need()?.trim().parse().ok(),
            "log" => self.log = Some(true),
            "nolog" => {
                self.log = Some(false);
                // ModSecurity: nolog implies noauditlog.
                self.auditlog = Some(false);
            }
            "auditlog" => self.auditlog = Some(true),
            "noauditlog" => self.auditlog = Some(false),
            "capture" => self.capture = true,
            "multimatch" => self.multi_match = true,
            "chain" => self.chain = true,
            "pass" => self.disruptive = Some(Disruptive::Pass),
            "deny" => self.disruptive = Some(Disruptive::Deny),
            "drop" => self.disruptive = Some(Disruptive::Drop),
            "block" => self.disruptive = Some(Disruptive::Block),
            "allow" => {
                let scope = match value.map(|v| v.trim().to_ascii_lowercase()).as_deref() {
                    None | Some("") => AllowScope::All,
                    Some("phase") => AllowScope::Phase,
                    Some("request") => AllowScope::Request,
                    Some(v) => return Err(format!("invalid allow scope `{v}`")),
                };
                self.disruptive = Some(Disruptive::Allow(scope));
            }
            "redirect" => self.disruptive = Some(Disruptive::Redirect(Macro::parse(need()?)?)),
            "status" => {
                let v = need()?;
                self.status = Some(
                    v.trim()
                        .parse()
                        .map_err(|_| format!("invalid status `{v}`"))?,
                );
            }
            "t" => {
                let v = need()?;
                if v.trim().eq_ignore_ascii_case("none") {
                    self.transforms.clear();
                    self.t_none = true;
                } else {
                    let t = transformations::lookup(v.trim())
                        .ok_or_else(|| format!("unknown transformation `{v}`"))?;
                    self.transforms.push((t.name, t.func));
                }
            }
            "setvar" => self.exec.push(Exec::SetVar(SetVar::parse(need()?)?)),
            "ctl" => self.exec.push(Exec::Ctl(Ctl::parse(need()?)?)),
            "setenv" => {
                let v = need()?;
                let (k, val) = v.split_once('=').unwrap_or((v, "1"));
                self.exec
                    .push(Exec::SetEnv(Macro::parse(k.trim())?, Macro::parse(val)?));
            }
            "initcol" => {
                let v = need()?;
                let (k, val) = v
                    .split_once('=')
                    .ok_or_else(|| format!("invalid initcol `{v}`"))?;
                let store = Store::parse(k.trim())
                    .ok_or_else(|| format!("invalid initcol collection `{k}`"))?;
                self.exec.push(Exec::InitCol(store, Macro::parse(val)?));
            }
            "setuid" => self.exec.push(Exec::SetUid(Macro::parse(need()?)?)),
            "setsid" => self.exec.push(Exec::SetSid(Macro::parse(need()?)?)),
            "skip" => {
                let v = need()?;
                self.skip = v
                    .trim()
                    .parse()
                    .map_err(|_| format!("invalid skip count `{v}`"))?;
            }
            "skipafter" => self.skip_after = Some(need()?.trim().to_string()),
            // Persistence, sanitising and XML namespaces have no effect here (no persistent
            // collections, no audit log bodies); accepted so CRS and user files load.
            "expirevar"
            | "deprecatevar"
            | "setrsc"
            | "xmlns"
            | "sanitisearg"
            | "sanitisematched"
            | "sanitisematchedbytes"
            | "sanitiserequestheader"
            | "sanitiseresponseheader" => {}
            other => return Err(format!("unknown action `{other}`")),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sekisho_seclang::Action;

    fn act(name: &str, value: Option<&str>) -> Action {
        Action {
            name: name.into(),
            value: value.map(Into::into),
        }
    }

    #[test]
    fn parses_common_actions() {
        let a = Actions::parse(&[
            act("id", Some("1")),
            act("phase", Some("request")),
            act("severity", Some("CRITICAL")),
            act("block", None),
            act("setvar", Some("tx.a=+1")),
            act("skipafter", Some("END")),
            act("nolog", None),
        ])
        .unwrap();
        assert_eq!(a.id, Some(1));
        assert_eq!(a.phase, Some(2));
        assert_eq!(a.severity, Some(2));
        assert!(matches!(a.disruptive, Some(Disruptive::Block)));
        assert_eq!(a.exec.len(), 1);
        assert_eq!(a.skip_after.as_deref(), Some("END"));
        assert_eq!(a.log, Some(false));
    }

    #[test]
    fn rejects_unknown_and_unsupported() {
        let e = Actions::parse(&[act("mgs", Some("x")), act("exec", Some("/bin/x"))]).unwrap_err();
        assert_eq!(e.len(), 2);
        assert!(e[1].contains("unsupported action `exec`"));
    }
}
