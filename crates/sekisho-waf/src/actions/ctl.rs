//! `ctl:name=value`: change the engine's configuration for the current transaction only.

use crate::collection::KeySel;
use crate::config::{BodyProcessor, EngineMode};
use crate::variables::{self, Var};
use sekisho_seclang::IdRange;

/// A target to remove from rules: `ARGS:foo`, `REQUEST_COOKIES:/__utm/`, `ARGS`.
#[derive(Debug, Clone)]
pub struct TargetRef {
    pub var: Var,
    pub sel: KeySel,
}

impl TargetRef {
    pub fn parse(s: &str) -> Result<TargetRef, String> {
        let s = s.trim();
        let (name, key) = match s.split_once(':') {
            Some((n, k)) => (n, Some(k)),
            None => (s, None),
        };
        let def =
            variables::lookup(name.trim()).ok_or_else(|| format!("unknown variable `{name}`"))?;
        Ok(TargetRef {
            var: def.var,
            sel: KeySel::parse(key)?,
        })
    }
}

#[derive(Debug, Clone)]
pub enum Ctl {
    RuleEngine(EngineMode),
    RuleRemoveById(Vec<IdRange>),
    RuleRemoveByTag(String),
    RuleRemoveByMsg(String),
    RuleRemoveTargetById(Vec<IdRange>, TargetRef),
    RuleRemoveTargetByTag(String, TargetRef),
    RuleRemoveTargetByMsg(String, TargetRef),
    RequestBodyProcessor(BodyProcessor),
    ForceRequestBodyVariable(bool),
    RequestBodyAccess(bool),
    RequestBodyLimit(usize),
    ResponseBodyAccess(bool),
    ResponseBodyLimit(usize),
    AuditEngine(String),
    AuditLogParts(String),
    /// Accepted and ignored: sekisho has no debug log.
    DebugLogLevel,
}

fn on_off(v: &str) -> Result<bool, String> {
    match v.trim().to_ascii_lowercase().as_str() {
        "on" => Ok(true),
        "off" => Ok(false),
        _ => Err(format!("expected `On` or `Off`, got `{v}`")),
    }
}

/// `12`, `900000-900999`, or a space/comma separated list of them.
pub fn parse_ranges(s: &str) -> Result<Vec<IdRange>, String> {
    let mut out = Vec::new();
    for part in s.split([' ', ',']).filter(|p| !p.is_empty()) {
        let (a, b) = part.split_once('-').unwrap_or((part, part));
        let start = a
            .trim()
            .parse()
            .map_err(|_| format!("invalid rule id `{part}`"))?;
        let end = b
            .trim()
            .parse()
            .map_err(|_| format!("invalid rule id `{part}`"))?;
        out.push(IdRange { start, end });
    }
    if out.is_empty() {
        return Err("missing rule id".into());
    }
    Ok(out)
}

impl Ctl {
    pub fn parse(v: &str) -> Result<Ctl, String> {
        let (name, value) = v
            .split_once('=')
            .ok_or_else(|| format!("invalid ctl `{v}`: expected `name=value`"))?;
        let value = value.trim();
        let target = |value: &str| -> Result<(String, TargetRef), String> {
            let (sel, target) = value
                .split_once(';')
                .ok_or_else(|| format!("invalid ctl `{v}`: expected `rule;TARGET`"))?;
            Ok((sel.trim().to_string(), TargetRef::parse(target)?))
        };
        Ok(match name.trim().to_ascii_lowercase().as_str() {
            "ruleengine" => Ctl::RuleEngine(
                EngineMode::parse(value)
                    .ok_or_else(|| format!("invalid ctl:ruleEngine value `{value}`"))?,
            ),
            "ruleremovebyid" => Ctl::RuleRemoveById(parse_ranges(value)?),
            "ruleremovebytag" => Ctl::RuleRemoveByTag(value.to_string()),
            "ruleremovebymsg" => Ctl::RuleRemoveByMsg(value.to_string()),
            "ruleremovetargetbyid" => {
                let (ids, t) = target(value)?;
                Ctl::RuleRemoveTargetById(parse_ranges(&ids)?, t)
            }
            "ruleremovetargetbytag" => {
                let (tag, t) = target(value)?;
                Ctl::RuleRemoveTargetByTag(tag, t)
            }
            "ruleremovetargetbymsg" => {
                let (msg, t) = target(value)?;
                Ctl::RuleRemoveTargetByMsg(msg, t)
            }
            "requestbodyprocessor" => Ctl::RequestBodyProcessor(
                BodyProcessor::parse(value)
                    .ok_or_else(|| format!("unknown request body processor `{value}`"))?,
            ),
            "forcerequestbodyvariable" => Ctl::ForceRequestBodyVariable(on_off(value)?),
            "requestbodyaccess" => Ctl::RequestBodyAccess(on_off(value)?),
            "requestbodylimit" => Ctl::RequestBodyLimit(
                value
                    .parse()
                    .map_err(|_| format!("invalid limit `{value}`"))?,
            ),
            "responsebodyaccess" => Ctl::ResponseBodyAccess(on_off(value)?),
            "responsebodylimit" => Ctl::ResponseBodyLimit(
                value
                    .parse()
                    .map_err(|_| format!("invalid limit `{value}`"))?,
            ),
            "auditengine" => Ctl::AuditEngine(value.to_string()),
            "auditlogparts" => Ctl::AuditLogParts(value.to_string()),
            "debugloglevel" => Ctl::DebugLogLevel,
            other => return Err(format!("unsupported ctl `{other}`")),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ctls() {
        assert!(matches!(
            Ctl::parse("ruleEngine=DetectionOnly").unwrap(),
            Ctl::RuleEngine(EngineMode::DetectionOnly)
        ));
        match Ctl::parse("ruleRemoveTargetById=942100;ARGS:password").unwrap() {
            Ctl::RuleRemoveTargetById(ids, t) => {
                assert_eq!(ids[0].start, 942100);
                assert_eq!(t.var, Var::Args);
            }
            other => panic!("{other:?}"),
        }
        match Ctl::parse("ruleRemoveById=900000-900999").unwrap() {
            Ctl::RuleRemoveById(r) => assert_eq!((r[0].start, r[0].end), (900000, 900999)),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            Ctl::parse("requestBodyProcessor=JSON").unwrap(),
            Ctl::RequestBodyProcessor(BodyProcessor::Json)
        ));
        assert!(Ctl::parse("bogus=1").is_err());
    }
}
