//! Argument parsers shared by the directive registry: counts, `On`/`Off`, numbers, file
//! modes and rule id ranges. Each returns a message without location.

use crate::ast::{AuditEngineMode, BodyLimitAction, IdRange, VariableSpec};
use crate::variables::parse_variables;

pub(crate) fn one(args: &[String]) -> Result<&str, String> {
    match args {
        [only] => Ok(only),
        _ => Err(format!("expected 1 argument, got {}", args.len())),
    }
}

pub(crate) fn none(args: &[String]) -> Result<(), String> {
    match args {
        [] => Ok(()),
        _ => Err(format!("expected no argument, got {}", args.len())),
    }
}

pub(crate) fn on_off(args: &[String]) -> Result<bool, String> {
    let text = one(args)?;
    match text.to_ascii_lowercase().as_str() {
        "on" => Ok(true),
        "off" => Ok(false),
        _ => Err(format!("expected `On` or `Off`, got `{text}`")),
    }
}

pub(crate) fn relevant_mode(args: &[String]) -> Result<AuditEngineMode, String> {
    let text = one(args)?;
    match text.to_ascii_lowercase().as_str() {
        "on" => Ok(AuditEngineMode::On),
        "off" => Ok(AuditEngineMode::Off),
        "relevantonly" => Ok(AuditEngineMode::RelevantOnly),
        _ => Err(format!(
            "expected `On`, `Off` or `RelevantOnly`, got `{text}`"
        )),
    }
}

pub(crate) fn limit_action(args: &[String]) -> Result<BodyLimitAction, String> {
    let text = one(args)?;
    match text.to_ascii_lowercase().as_str() {
        "reject" => Ok(BodyLimitAction::Reject),
        "processpartial" => Ok(BodyLimitAction::ProcessPartial),
        _ => Err(format!(
            "expected `Reject` or `ProcessPartial`, got `{text}`"
        )),
    }
}

pub(crate) fn number(args: &[String]) -> Result<u64, String> {
    let text = one(args)?;
    text.parse()
        .map_err(|_| format!("expected a non-negative whole number, got `{text}`"))
}

pub(crate) fn file_mode(args: &[String]) -> Result<Option<u32>, String> {
    let text = one(args)?;
    if text.eq_ignore_ascii_case("default") {
        return Ok(None);
    }
    match u32::from_str_radix(text, 8) {
        Ok(mode) if mode <= 0o7777 => Ok(Some(mode)),
        _ => Err(format!(
            "expected an octal file mode such as `0600` or `default`, got `{text}`"
        )),
    }
}

pub(crate) fn parse_id(text: &str) -> Result<u64, String> {
    match text.trim().parse::<u64>() {
        Ok(id) if id > 0 => Ok(id),
        _ => Err(format!("expected a positive rule id, got `{text}`")),
    }
}

/// Parses rule ids and inclusive ranges (`1 2 100-199`), blank- or comma-separated.
pub(crate) fn id_ranges(args: &[String]) -> Result<Vec<IdRange>, String> {
    let mut out = Vec::new();
    for item in args
        .iter()
        .flat_map(|a| a.split(|c: char| c.is_whitespace() || c == ','))
    {
        if item.is_empty() {
            continue;
        }
        let range = match item.split_once('-') {
            Some((start, end)) => {
                let (start, end) = (parse_id(start)?, parse_id(end)?);
                if start > end {
                    return Err(format!("id range `{item}` ends before it starts"));
                }
                IdRange { start, end }
            }
            None => {
                let id = parse_id(item)?;
                IdRange { start: id, end: id }
            }
        };
        out.push(range);
    }
    if out.is_empty() {
        return Err("expected at least one rule id or range".to_owned());
    }
    Ok(out)
}

/// Splits `SecRuleUpdateTarget*` arguments: selector, targets, optional replaced target.
pub(crate) fn update_target_args(
    args: &[String],
) -> Result<(&str, Vec<VariableSpec>, Option<&str>), String> {
    match args {
        [sel, targets] => Ok((sel, parse_variables(targets)?, None)),
        [sel, targets, replace] => Ok((sel, parse_variables(targets)?, Some(replace.as_str()))),
        _ => Err(format!(
            "expected a rule selector and a target list, got {} arguments",
            args.len()
        )),
    }
}

pub(crate) fn no_replace(replace: Option<&str>) -> Result<(), String> {
    match replace {
        None => Ok(()),
        Some(r) => Err(format!(
            "a replaced target (`{r}`) is only supported by `SecRuleUpdateTargetById`"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(args: &[&str]) -> Vec<String> {
        args.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn parses_values_and_reports_bad_ones() {
        assert_eq!(on_off(&strings(&["oN"])), Ok(true));
        assert!(on_off(&strings(&["yes"])).unwrap_err().contains("`yes`"));
        assert_eq!(file_mode(&strings(&["default"])), Ok(None));
        assert_eq!(file_mode(&strings(&["0600"])), Ok(Some(0o600)));
        assert!(file_mode(&strings(&["0999"])).is_err());
        assert_eq!(number(&strings(&["42"])), Ok(42));
        assert!(number(&strings(&["-1"])).is_err());
        assert_eq!(
            one(&strings(&[])),
            Err("expected 1 argument, got 0".to_owned())
        );
        assert!(parse_id("0").is_err());
    }
}
