//! Match state: `MATCHED_VAR(S)`, `MATCHED_VAR(S)_NAME(S)`, `HIGHEST_SEVERITY`, `RULE`.

use super::{push, push_members, push_num, RuleInfo, Values, Var, VarValue};
use crate::collection::KeySel;
use crate::transaction::data::TxData;
use std::borrow::Cow;

pub(super) fn collect<'a>(
    var: Var,
    sel: &'a KeySel,
    d: &'a TxData,
    rule: &RuleInfo<'_>,
    out: &mut Values<'a>,
) -> bool {
    match var {
        Var::MatchedVar => push(out, var, Cow::Borrowed(&d.matched_var)),
        Var::MatchedVarName => push(out, var, Cow::Borrowed(&d.matched_var_name)),
        Var::MatchedVars => push_members(out, var, false, d.matched_vars.select(sel)),
        Var::MatchedVarsNames => push_members(out, var, true, d.matched_vars.select(sel)),
        Var::HighestSeverity => {
            if d.highest_severity <= 7 {
                push_num(out, var, d.highest_severity);
            }
        }
        Var::Rule => {
            let key = match sel {
                KeySel::Exact(k) => k.as_ref(),
                _ => return true,
            };
            let value = match key {
                "id" => rule.id.to_string(),
                "msg" => rule.msg.to_string(),
                "severity" => rule.severity.map(|s| s.to_string()).unwrap_or_default(),
                "rev" => rule.rev.to_string(),
                "ver" => rule.ver.to_string(),
                "phase" => rule.phase.to_string(),
                _ => return true,
            };
            out.push(VarValue {
                var,
                key: Cow::Owned(key.as_bytes().to_vec()),
                value: Cow::Owned(value.into_bytes()),
            });
        }
        _ => return false,
    }
    true
}
