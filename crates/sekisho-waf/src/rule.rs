//! A compiled rule: variables resolved to selectors, operator built, actions parsed,
//! default actions merged. Immutable once the rule set is built.

use crate::actions::ctl::TargetRef;
use crate::actions::{Actions, Disruptive};
use crate::collection::KeySel;
use crate::macros::Macro;
use crate::operators::Operator;
use crate::transformations::TransformFn;
use crate::variables::Var;
use std::path::Path;
use std::sync::Arc;

/// One entry of a rule's variable list (exclusions are kept apart).
#[derive(Debug, Clone)]
pub struct Target {
    pub var: Var,
    pub sel: KeySel,
    /// `&VAR`: the number of values instead of the values.
    pub count: bool,
}

#[derive(Debug)]
pub enum OpKind {
    /// Built at load.
    Static(Box<dyn Operator>),
    /// The argument holds macros: expanded and built per transaction (cached).
    Dynamic(Macro),
    /// `@unconditionalMatch` and `SecAction`.
    Always,
    /// `@noMatch`.
    Never,
}

#[derive(Debug)]
pub struct Op {
    pub negated: bool,
    /// Lower-case SecLang name (`rx`).
    pub name: String,
    /// ModSecurity's spelling in log lines (`Rx`).
    pub display: &'static str,
    pub arg: String,
    pub kind: OpKind,
}

/// The default actions of a phase (`SecDefaultAction`), as rules inherit them.
#[derive(Debug, Clone)]
pub struct Defaults {
    pub transforms: Vec<(&'static str, TransformFn)>,
    pub log: bool,
    pub disruptive: Disruptive,
    pub status: Option<u16>,
}

impl Default for Defaults {
    /// ModSecurity's built-in default: `phase:2,log,auditlog,pass`.
    fn default() -> Self {
        Defaults {
            transforms: Vec::new(),
            log: true,
            disruptive: Disruptive::Pass,
            status: None,
        }
    }
}

/// One entry of the rule set's table of transformation lists: the list without its last
/// transformation (`parent`), and that transformation. The empty list has none. Lists that
/// share a beginning share its entries, so a value transformed by one list is half-way
/// through every longer list that starts the same way.
#[derive(Debug, Clone, Copy)]
pub struct ChainStep {
    pub parent: u32,
    pub func: Option<TransformFn>,
    /// `func`'s index in the transformation registry.
    pub func_id: u32,
    /// The trigger bytes of every transformation of the list: a value holding none of them
    /// comes out of the list unchanged.
    pub triggers: crate::byteset::ByteSet,
    /// The trigger bytes of the list's transformations other than letter-case changes
    /// (`t:lowercase`): a value holding none of them in either case comes out of the list
    /// changed at most in letter case.
    pub case_blind_triggers: crate::byteset::ByteSet,
}

#[derive(Debug)]
pub struct Rule {
    /// 0 for chained links.
    pub id: u64,
    pub phase: u8,
    pub file: Arc<Path>,
    pub line: usize,
    pub targets: Vec<Target>,
    pub exclusions: Vec<TargetRef>,
    pub op: Op,
    /// Default transformations (unless `t:none`) followed by the rule's own.
    pub transforms: Vec<TransformFn>,
    /// The transformation list in the rule set's table ([`ChainStep`]); also the cache key.
    pub chain_idx: u32,
    pub actions: Actions,
    /// Resolved: the rule's `log`/`nolog`, else the default action's.
    pub log: bool,
    /// The disruptive action with `block` resolved through the default action.
    pub disruptive: Disruptive,
    /// `status:` of the rule, else of the default action.
    pub status: Option<u16>,
    pub chain: Option<Box<Rule>>,
    /// Whether anything of the rule reads `MATCHED_VARS` (a chain link, or a macro): only
    /// then are the matched values collected there.
    pub keeps_matched_vars: bool,
}

impl Rule {
    /// Every link of the chain, starter first.
    pub fn links(&self) -> impl Iterator<Item = &Rule> {
        std::iter::successors(Some(self), |r| r.chain.as_deref())
    }
}

/// ModSecurity's spelling of an operator name, for log lines.
pub fn display_name(name: &str) -> &'static str {
    const NAMES: &[&str] = &[
        "BeginsWith",
        "Contains",
        "ContainsWord",
        "DetectSQLi",
        "DetectXSS",
        "EndsWith",
        "Eq",
        "FuzzyHash",
        "Ge",
        "GeoLookup",
        "Gt",
        "InspectFile",
        "IpMatch",
        "IpMatchFromFile",
        "Le",
        "Lt",
        "NoMatch",
        "Pm",
        "PmFromFile",
        "Rbl",
        "Rsub",
        "Rx",
        "RxGlobal",
        "StrEq",
        "StrMatch",
        "UnconditionalMatch",
        "ValidateByteRange",
        "ValidateDTD",
        "ValidateHash",
        "ValidateSchema",
        "ValidateUrlEncoding",
        "ValidateUtf8Encoding",
        "VerifyCC",
        "VerifyCPF",
        "VerifySSN",
        "VerifySVNR",
        "Within",
    ];
    match name {
        "pmf" => "PmFromFile",
        "ipmatchf" => "IpMatchFromFile",
        _ => NAMES
            .iter()
            .find(|n| n.eq_ignore_ascii_case(name))
            .copied()
            .unwrap_or("Unknown"),
    }
}
