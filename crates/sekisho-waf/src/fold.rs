//! What the configuration decides on its own: rules whose outcome is the same for every
//! request, and the rules no request can reach because of them.
//!
//! The CRS fills in its settings with rules like `SecRule &TX:blocking_paranoia_level "@eq 0"
//! "setvar:tx.blocking_paranoia_level=1"`, and gates each paranoia level of each file with
//! `SecRule TX:DETECTION_PARANOIA_LEVEL "@lt 2" "skipAfter:END-…"`. These read only `TX`
//! variables that the configuration set, so their outcome is known at load: at paranoia
//! level 1, every rule of levels 2–4 is jumped over by every request.
//!
//! The analysis runs the phases once at load over an abstract `TX` store, where each variable
//! is known (a value, or absent) or unknown (a rule that reads request data may have written
//! it). A rule whose condition reads only known `TX` variables is run on a scratch transaction
//! holding them: its outcome is then decided, and what it writes is known. Any other rule is
//! assumed to both match and not match: both of its paths are followed, and whatever it may
//! write becomes unknown. Where paths join (a `skipAfter` target, the next phase), a variable
//! stays known only if every path agrees on it; a rule that may `allow`, interrupt or turn
//! the engine off also joins every later phase.
//!
//! What it is used for, both sound only while the findings hold:
//! - rules no path reaches are left out of the prefilter's search (less to search, fewer
//!   literals reported); a rule the search leaves out is evaluated in full if ever reached;
//! - a one-link rule decided never to match is not evaluated, nor a chain whose first link
//!   reads only known variables and matches none of them;
//! - an operator whose argument's macros read only known variables (`@within
//!   %{tx.allowed_methods}`) is built at load, not per transaction;
//! - a one-link rule decided to match is replayed: its actions run without its condition.
//!   When the analysis also knows every value it writes and everything it records (a
//!   `nolog` rule like the CRS's settings defaults), the replay writes those values and
//!   pushes a record built at load, with no macro expanded and nothing allocated.
//!
//! The findings rely on the decided rules running as written. A transaction that removes one
//! of them at runtime (`ctl:ruleRemoveById`, `…ByTag`, `…ByMsg`, `…Target…`) evaluates every
//! rule from then on ([`Folding::relies_on_id`] and friends).

use crate::actions::ctl::Ctl;
use crate::actions::setvar::{SetOp, Store};
use crate::actions::{Disruptive, Exec};
use crate::collection::KeySel;
use crate::config::Config;
use crate::operators::Operator;
use crate::outcome::MatchedRule;
use crate::prefilter::Prefilter;
use crate::rule::{ChainStep, OpKind, Rule};
use crate::ruleset::{skip_target, Entry, RuleSet, Spares};
use crate::transaction::Transaction;
use crate::variables::Var;
use rustc_hash::{FxHashMap, FxHashSet};
use std::collections::BTreeMap;
use std::sync::Arc;

/// What the analysis found, by rule index.
#[derive(Debug, Default)]
pub(crate) struct Folding {
    /// The rule's outcome, when decided and usable without evaluating the rule.
    outcome: Vec<Option<Outcome>>,
    /// Some request may reach the rule.
    reachable: Vec<bool>,
    /// (rule index, link depth) → the link's operator, built at load: its argument's macros
    /// (`@within %{tx.allowed_methods}`) read only variables known where the link runs.
    ops: FxHashMap<(usize, usize), Box<dyn Operator>>,
    /// Ids, tags and messages of the decided rules (sorted ids).
    ids: Vec<u64>,
    tags: FxHashSet<String>,
    msgs: FxHashSet<String>,
    /// The `TX` writes every request makes at the start of phase 1, made at load.
    pub(crate) prelude: Prelude,
}

/// The start of phase 1 that every request walks the same way: replays whose writes are
/// known (the CRS's settings and their defaults, ~50 writes), between rules that neither
/// read nor write `TX` nor change the walk (ModSecurity's recommended `ctl:requestBodyProcessor`
/// rules). Nothing reads `TX` before these writes are done, so a transaction starts phase 1
/// with the store they leave, copied in at once, and the replays then skip their writes.
#[derive(Debug, Default)]
pub(crate) struct Prelude {
    /// `TX` after the writes, in the order they are made.
    pub store: crate::collection::VarStore,
    /// Phase 1 list position → its rule's writes are in `store`.
    pub done: Vec<bool>,
}

impl Prelude {
    pub(crate) fn is_empty(&self) -> bool {
        self.store.is_empty()
    }

    /// Whether the replay at `at` of phase 1's list has its writes in the store.
    pub(crate) fn covers(&self, at: usize) -> bool {
        self.done.get(at).copied().unwrap_or(false)
    }
}

/// What a one-link rule does for every request.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// It never matches: it is not evaluated.
    Never,
    /// It matches: its actions run without its condition being evaluated.
    Always(Box<Replay>),
}

/// One `TX` write of a replay: the lower-case name, and the value (`None` deletes).
pub(crate) type Write = (Arc<str>, Option<Arc<[u8]>>);

/// What a rule decided to match does, as far as known at load.
#[derive(Debug)]
pub(crate) struct Replay {
    /// The one variable name and value it matches (none for a `SecAction`).
    pub hit: Option<(String, Vec<u8>)>,
    /// Its `TX` writes in order (`None` deletes), when every value written is known at load
    /// and no name is written twice: applied without expanding a macro or allocating.
    pub writes: Option<Vec<Write>>,
    /// The record it leaves, when nothing in it depends on the request (a `nolog` rule whose
    /// message and log data read only known variables).
    pub record: Option<Arc<MatchedRule>>,
    /// The same for every replay of the same match (name and value), from 1.
    pub hit_id: u32,
    /// The rule's, kept here so that a replay reads nothing else.
    pub keeps_matched_vars: bool,
    pub severity: Option<u8>,
}

impl Folding {
    /// What rule `idx` does for every request, if decided (and while the findings hold).
    pub(crate) fn outcome(&self, idx: usize) -> Option<&Outcome> {
        self.outcome.get(idx).and_then(Option::as_ref)
    }

    #[cfg(test)]
    fn never(&self, idx: usize) -> bool {
        matches!(self.outcome(idx), Some(Outcome::Never))
    }

    /// The operator of link `depth` of rule `idx`, built at load (see [`Folding::ops`]).
    pub(crate) fn operator(&self, idx: usize, depth: usize) -> Option<&dyn Operator> {
        self.ops.get(&(idx, depth)).map(|op| op.as_ref())
    }

    /// Whether some request may reach rule `idx`; every rule may without an analysis.
    pub(crate) fn reachable(&self, idx: usize) -> bool {
        self.reachable.get(idx).copied().unwrap_or(true)
    }

    /// Whether removing the rules of these id ranges at runtime touches a decided rule.
    pub(crate) fn relies_on_ids(&self, ranges: &[sekisho_seclang::IdRange]) -> bool {
        ranges.iter().any(|r| {
            let from = self.ids.partition_point(|&id| id < r.start);
            self.ids.get(from).is_some_and(|&id| r.contains(id))
        })
    }

    pub(crate) fn relies_on_tag(&self, tag: &str) -> bool {
        self.tags.contains(tag)
    }

    pub(crate) fn relies_on_msg(&self, msg: &str) -> bool {
        self.msgs.contains(msg)
    }
}

/// A `TX` variable as the analysis sees it.
#[derive(Debug, Clone, PartialEq)]
enum Val {
    Unknown,
    Absent,
    Is(Vec<u8>),
}

/// The abstract `TX` store at one point of the rule lists.
#[derive(Debug, Clone, Default)]
struct State {
    vars: BTreeMap<String, Val>,
    /// Name prefixes written with names taken from request data (`tx.header_name_%{tx.0}`).
    open: Vec<String>,
    /// A rule wrote a name the analysis cannot tell: every other name is unknown too.
    all_open: bool,
}

impl State {
    fn get(&self, name: &str) -> Val {
        match self.vars.get(name) {
            Some(v) => v.clone(),
            None if self.all_open || self.open.iter().any(|p| name.starts_with(p.as_str())) => {
                Val::Unknown
            }
            None => Val::Absent,
        }
    }

    fn known(&self, name: &str) -> bool {
        self.get(name) != Val::Unknown
    }

    /// A write whose name starts with `prefix` and goes on with request data.
    fn open_prefix(&mut self, prefix: &str) {
        if prefix.is_empty() {
            self.all_open = true;
        }
        for (k, v) in &mut self.vars {
            if k.starts_with(prefix) {
                *v = Val::Unknown;
            }
        }
        if !self.open.iter().any(|p| p == prefix) {
            self.open.push(prefix.to_string());
        }
    }

    /// Where two paths join: known only where both agree.
    fn join(&self, other: &State) -> State {
        let mut open = self.open.clone();
        for p in &other.open {
            if !open.contains(p) {
                open.push(p.clone());
            }
        }
        let mut out = State {
            vars: BTreeMap::new(),
            open,
            all_open: self.all_open || other.all_open,
        };
        for name in self.vars.keys().chain(other.vars.keys()) {
            let (a, b) = (self.get(name), other.get(name));
            out.vars
                .insert(name.clone(), if a == b { a } else { Val::Unknown });
        }
        out
    }
}

fn join(into: &mut Option<State>, s: &State) {
    *into = Some(match into.take() {
        Some(cur) => cur.join(s),
        None => s.clone(),
    });
}

/// Analyses the phase lists of `rules` (see the module doc).
pub(crate) fn analyse(
    rules: &[Rule],
    phases: &[Vec<Entry>; 5],
    chains: &[ChainStep],
    config: &Config,
) -> Folding {
    // Rules are evaluated on scratch transactions of a rule set that only lends them the
    // transformation lists; the rule itself is passed in.
    let scratch_set = Arc::new(RuleSet {
        rules: Vec::new(),
        phases: Default::default(),
        config: config.clone(),
        prefilter: Prefilter::default(),
        folding: Folding::default(),
        walk: Default::default(),
        chains: chains.to_vec(),
        spares: Spares::default(),
        files: 0,
        tagged: Default::default(),
    });
    let mut f = Folding {
        outcome: std::iter::repeat_with(|| None).take(rules.len()).collect(),
        reachable: vec![false; rules.len()],
        ..Folding::default()
    };
    let mut decided = Vec::new();
    let mut start = Some(State::default());
    // The states in which a phase may end early (allow, interruption): every later phase
    // may start from them.
    let mut early: Option<State> = None;
    for list in phases {
        let mut at: Vec<Option<State>> = vec![None; list.len() + 1];
        let mut first = start.take();
        if let Some(e) = &early {
            join(&mut first, e);
        }
        if let Some(slot) = at.get_mut(0) {
            *slot = first;
        }
        for (i, entry) in list.iter().enumerate() {
            let Some(state) = at.get_mut(i).and_then(Option::take) else {
                continue;
            };
            let (idx, skip_to) = match entry {
                Entry::Rule { idx, skip_to } => (*idx, *skip_to),
                Entry::Marker => {
                    flow(&mut at, i + 1, &state);
                    continue;
                }
            };
            let Some(rule) = rules.get(idx) else {
                flow(&mut at, i + 1, &state);
                continue;
            };
            if let Some(r) = f.reachable.get_mut(idx) {
                *r = true;
            }
            prebuild_operators(&scratch_set, idx, rule, &state, &mut f.ops);
            let jump = skip_to.or_else(|| skip_target(list, i + 1, rule.actions.skip));
            match decide(&scratch_set, rule, &state) {
                Some((hit, replay, after)) => {
                    decided.push(idx);
                    // Only a one-link rule with at most one variable, tested once (not
                    // `multiMatch`), matches at most one value, and leaves nothing behind
                    // when it does not match.
                    let usable = rule.chain.is_none()
                        && rule.targets.len() <= 1
                        && !rule.actions.multi_match;
                    if let Some(o) = f.outcome.get_mut(idx).filter(|_| usable) {
                        *o = if hit {
                            replay.map(|r| Outcome::Always(Box::new(r)))
                        } else {
                            Some(Outcome::Never)
                        };
                    }
                    let to = if hit { jump.unwrap_or(i + 1) } else { i + 1 };
                    flow(&mut at, to, &after);
                    if hit && may_end_phase(rule) {
                        join(&mut early, &after);
                    }
                }
                None if rule.chain.is_some() && first_link_never(&scratch_set, rule, &state) => {
                    decided.push(idx);
                    if let Some(o) = f.outcome.get_mut(idx) {
                        *o = Some(Outcome::Never);
                    }
                    flow(&mut at, i + 1, &state);
                }
                None => {
                    let after = unknown_writes(rule, state);
                    flow(&mut at, i + 1, &after);
                    if let Some(to) = jump {
                        flow(&mut at, to, &after);
                    }
                    if may_end_phase(rule) {
                        join(&mut early, &after);
                    }
                }
            }
        }
        start = at.pop().flatten();
    }
    for idx in decided {
        let Some(rule) = rules.get(idx) else { continue };
        f.ids.push(rule.id);
        f.tags.extend(rule.actions.tags.iter().cloned());
        if let Some(m) = &rule.actions.msg {
            f.msgs.insert(m.text.clone());
        }
    }
    f.ids.sort_unstable();
    // Replays of the same match share an id (`TxData::matched_hit`).
    let mut ids: FxHashMap<(String, Vec<u8>), u32> = FxHashMap::default();
    for o in &mut f.outcome {
        if let Some(Outcome::Always(r)) = o {
            if let Some(hit) = &r.hit {
                let next = u32::try_from(ids.len() + 1).unwrap_or(0);
                r.hit_id = *ids.entry(hit.clone()).or_insert(next);
            }
        }
    }
    f.prelude = prelude(rules, &phases[0], &f);
    f
}

/// Walks phase 1 from its start as every request does (see [`Prelude`]), as far as it can
/// tell that nothing there reads `TX` or turns off the path.
fn prelude(rules: &[Rule], list: &[Entry], f: &Folding) -> Prelude {
    let mut out = Prelude {
        done: vec![false; list.len()],
        ..Prelude::default()
    };
    let mut i = 0;
    while let Some(entry) = list.get(i) {
        let Entry::Rule { idx, skip_to } = entry else {
            i += 1;
            continue;
        };
        let Some(rule) = rules.get(*idx) else {
            break;
        };
        match f.outcome(*idx) {
            Some(Outcome::Never) => i += 1,
            Some(Outcome::Always(r)) => {
                // Only a replay that does no more than write known values and record.
                let (Some(writes), Some(_)) = (&r.writes, &r.record) else {
                    break;
                };
                for (key, value) in writes {
                    out.store.set_shared(key, value.as_ref());
                }
                if let Some(d) = out.done.get_mut(i) {
                    *d = true;
                }
                i = skip_to
                    .or_else(|| skip_target(list, i + 1, rule.actions.skip))
                    .unwrap_or(i + 1);
            }
            None if skip_to.is_none() && rule.links().all(leaves_tx_and_path_alone) => i += 1,
            None => break,
        }
    }
    out
}

/// Whether a link, matched or not, neither reads nor writes `TX` (nor `TX.0`–`TX.9` by
/// `capture`), and neither jumps, interrupts, allows nor removes rules.
fn leaves_tx_and_path_alone(link: &Rule) -> bool {
    let reads_tx = |m: &crate::macros::Macro| m.refs().any(|(var, _)| var == Var::Tx);
    let a = &link.actions;
    let op_reads_tx = match &link.op.kind {
        OpKind::Dynamic(m) => reads_tx(m),
        _ => false,
    };
    let harmless_ctl = |e: &Exec| {
        matches!(
            e,
            Exec::Ctl(
                Ctl::RequestBodyProcessor(_)
                    | Ctl::ForceRequestBodyVariable(_)
                    | Ctl::RequestBodyAccess(_)
                    | Ctl::RequestBodyLimit(_)
                    | Ctl::ResponseBodyAccess(_)
                    | Ctl::ResponseBodyLimit(_)
                    | Ctl::AuditEngine(_)
                    | Ctl::AuditLogParts(_)
                    | Ctl::DebugLogLevel
            )
        )
    };
    !link.targets.iter().any(|t| t.var == Var::Tx)
        && !op_reads_tx
        && !a.capture
        && a.skip == 0
        && a.skip_after.is_none()
        && matches!(link.disruptive, Disruptive::Pass)
        && a.exec.iter().all(harmless_ctl)
        && !a.msg.as_ref().is_some_and(reads_tx)
        && !a.logdata.as_ref().is_some_and(reads_tx)
}

fn flow(at: &mut [Option<State>], to: usize, s: &State) {
    if let Some(slot) = at.get_mut(to) {
        join(slot, s);
    }
}

/// Whether the rule, when it matches, may end its phase (and so start a later one) early.
fn may_end_phase(rule: &Rule) -> bool {
    !matches!(rule.disruptive, Disruptive::Pass | Disruptive::Block)
        || rule.links().any(|l| {
            l.actions
                .exec
                .iter()
                .any(|e| matches!(e, Exec::Ctl(Ctl::RuleEngine(_))))
        })
}

/// The `TX` names a rule's `setvar`s write, as written: `(name or literal prefix, fixed)`.
fn tx_writes(rule: &Rule) -> impl Iterator<Item = (String, bool)> + '_ {
    rule.links()
        .flat_map(|l| l.actions.exec.iter())
        .filter_map(|e| match e {
            Exec::SetVar(sv) if sv.store == Store::Tx => Some(match &sv.fixed_name {
                Some(n) => (n.to_ascii_lowercase(), true),
                None => (sv.name.literal_prefix().to_ascii_lowercase(), false),
            }),
            _ => None,
        })
}

/// The state after a rule whose outcome is not decided: whatever it may write is unknown.
fn unknown_writes(rule: &Rule, mut s: State) -> State {
    for (name, fixed) in tx_writes(rule) {
        if fixed {
            s.vars.insert(name, Val::Unknown);
        } else {
            s.open_prefix(&name);
        }
    }
    if rule.links().any(|l| l.actions.capture) {
        for d in 0..10 {
            s.vars.insert(d.to_string(), Val::Unknown);
        }
    }
    s
}

/// A `TX` variable a condition reads by name, if that is all it reads.
fn tx_name(var: Var, sel: &KeySel) -> Option<&str> {
    match (var, sel) {
        (Var::Tx, KeySel::Exact(name)) => Some(name),
        _ => None,
    }
}

/// Whether a `TX` name is one the rule's own `setvar`s never write (a later link then reads
/// what the rule found, not what it wrote).
fn not_written_by(rule: &Rule) -> impl Fn(&str) -> bool {
    let written: Vec<(String, bool)> = tx_writes(rule).collect();
    move |name: &str| {
        !written.iter().any(|(w, fixed)| {
            if *fixed {
                w == name
            } else {
                name.starts_with(w.as_str())
            }
        })
    }
}

/// Whether the rule's condition reads only `TX` variables known in `s` (and none the rule
/// itself writes before a later link reads it), and the rule does nothing the analysis
/// does not follow (captures, `ctl`).
fn condition_is_known(rule: &Rule, s: &State) -> bool {
    let fresh = not_written_by(rule);
    rule.links()
        .enumerate()
        .all(|(k, link)| link_is_known(link, |name| s.known(name) && (k == 0 || fresh(name))))
}

/// Whether one link reads only `TX` variables `readable` accepts, and does nothing the
/// analysis does not follow.
fn link_is_known(link: &Rule, readable: impl Fn(&str) -> bool) -> bool {
    let targets = link
        .targets
        .iter()
        .all(|t| tx_name(t.var, &t.sel).is_some_and(&readable));
    let op = match &link.op.kind {
        OpKind::Dynamic(m) => m
            .refs()
            .all(|(var, sel)| tx_name(var, sel).is_some_and(&readable)),
        _ => true,
    };
    // `@geoLookup` fills the `GEO` collection: a replay would leave it empty.
    let plain = !link.actions.capture
        && !link.op.name.eq_ignore_ascii_case("geoLookup")
        && link.exclusions.is_empty()
        && !link.actions.exec.iter().any(|e| matches!(e, Exec::Ctl(_)));
    targets && op && plain
}

/// Whether a chain's first link, known in `s`, matches no value: the rule then never
/// matches, and does nothing (a link's actions run only for the values it matched). The
/// CRS's optional limits read so: `&TX:max_num_args "@eq 1"`, chained to the check itself.
fn first_link_never(scratch_set: &Arc<RuleSet>, rule: &Rule, s: &State) -> bool {
    if !link_is_known(rule, |name| s.known(name)) {
        return false;
    }
    scratch(scratch_set, s).match_values(rule, rule).is_empty()
}

/// Builds the operators of the rule's links whose arguments read only variables known in `s`
/// (and, after the first link, not written by the rule itself).
fn prebuild_operators(
    scratch_set: &Arc<RuleSet>,
    idx: usize,
    rule: &Rule,
    s: &State,
    ops: &mut FxHashMap<(usize, usize), Box<dyn Operator>>,
) {
    let fresh = not_written_by(rule);
    for (depth, link) in rule.links().enumerate() {
        let OpKind::Dynamic(m) = &link.op.kind else {
            continue;
        };
        // A numeric comparison is not built at runtime either.
        if crate::operators::number::comparison(&link.op.name).is_some() {
            continue;
        }
        let known = m.refs().all(|(var, sel)| {
            tx_name(var, sel).is_some_and(|n| s.known(n) && (depth == 0 || fresh(n)))
        });
        if !known {
            continue;
        }
        let tx = scratch(scratch_set, s);
        let arg = m.expand_string(&tx.data, &crate::transaction::eval::rule_info(rule));
        let env = crate::operators::OperatorEnv {
            base_dir: link.file.parent().unwrap_or(std::path::Path::new(".")),
            geo_db: None,
        };
        if let Ok(op) = crate::operators::build(&link.op.name, &arg, &env) {
            ops.insert((idx, depth), op);
        }
    }
}

/// A transaction of the scratch rule set holding the known variables of `s`.
fn scratch(scratch_set: &Arc<RuleSet>, s: &State) -> Transaction {
    let mut tx = Transaction::new(Arc::clone(scratch_set));
    for (name, v) in &s.vars {
        if let Val::Is(v) = v {
            tx.data.tx.set(name, v.clone());
        }
    }
    tx
}

/// Whether `var` reads the same for every request once the decided `rule` matched: its own
/// metadata, and the value it matched. A `SecAction` matches no value: `MATCHED_VAR` then
/// still holds whatever an earlier rule matched.
fn fixed_at_match(rule: &Rule, var: Var) -> bool {
    match var {
        Var::Rule => true,
        Var::MatchedVar | Var::MatchedVarName => !rule.targets.is_empty(),
        _ => false,
    }
}

/// The rule's outcome (with what replaying it does) and the state after it, when its
/// condition is known.
fn decide(
    scratch_set: &Arc<RuleSet>,
    rule: &Rule,
    s: &State,
) -> Option<(bool, Option<Replay>, State)> {
    if !condition_is_known(rule, s) {
        return None;
    }
    let mut tx = scratch(scratch_set, s);
    let hit = tx.eval_rule(rule);
    let mut after = s.clone();
    if !hit {
        // A chain whose first links matched ran their `setvar`s: not followed.
        if rule.chain.is_some() {
            after = unknown_writes(rule, after);
        }
        return Some((false, None, after));
    }
    let record = tx.matched_rules().last().cloned().map(Arc::new);
    let hit_var = record.as_ref().map(|m| {
        (!rule.targets.is_empty()).then(|| (m.matched_var_name.clone(), m.matched_var.clone()))
    });
    let mut writes: Option<Vec<Write>> = Some(Vec::new());
    for link in rule.links() {
        for e in &link.actions.exec {
            let Exec::SetVar(sv) = e else { continue };
            if sv.store != Store::Tx {
                continue;
            }
            let Some(name) = sv.fixed_name.as_deref().map(str::to_ascii_lowercase) else {
                after.open_prefix(&sv.name.literal_prefix().to_ascii_lowercase());
                writes = None;
                continue;
            };
            // The value is known when it is built from known variables (or the match), and
            // for `=+`/`=-` from a known one. Checked in the order the `setvar`s ran.
            let from_known = |m: &crate::macros::Macro| {
                m.refs().all(|(var, sel)| {
                    fixed_at_match(rule, var) || tx_name(var, sel).is_some_and(|n| after.known(n))
                })
            };
            let value_known = match &sv.op {
                SetOp::Delete => true,
                SetOp::Set(m) => from_known(m),
                SetOp::Add(m) | SetOp::Sub(m) => from_known(m) && after.known(&name),
            };
            let v = if !value_known {
                Val::Unknown
            } else {
                match tx.data.tx.get(&name) {
                    Some(v) => Val::Is(v.to_vec()),
                    None => Val::Absent,
                }
            };
            // The scratch store holds each name's last value: a name written twice (or
            // with an unknown value) is written by running the `setvar`s.
            if let Some(w) = &mut writes {
                let value = match &v {
                    Val::Is(v) => Some(Some(Arc::from(v.as_slice()))),
                    Val::Absent => Some(None),
                    Val::Unknown => None,
                };
                match value {
                    Some(value) if !w.iter().any(|(k, _)| k.as_ref() == name) => {
                        w.push((Arc::from(name.as_str()), value));
                    }
                    _ => writes = None,
                }
            }
            after.vars.insert(name, v);
        }
    }
    // Any write to another store, and any other action, runs as written.
    let plain = rule
        .actions
        .exec
        .iter()
        .all(|e| matches!(e, Exec::SetVar(sv) if sv.store == Store::Tx));
    if !plain {
        writes = None;
    }
    let known = |m: &Option<crate::macros::Macro>| {
        m.iter().flat_map(|m| m.refs()).all(|(var, sel)| {
            fixed_at_match(rule, var) || tx_name(var, sel).is_some_and(|n| after.known(n))
        })
    };
    let record = record.filter(|_| {
        plain
            && !rule.log
            && matches!(rule.disruptive, Disruptive::Pass | Disruptive::Block)
            && known(&rule.actions.msg)
            && known(&rule.actions.logdata)
    });
    let replay = hit_var.map(|hit| Replay {
        hit,
        writes,
        record,
        hit_id: 0,
        keeps_matched_vars: rule.keeps_matched_vars,
        severity: rule.actions.severity,
    });
    Some((true, replay, after))
}

#[cfg(test)]
mod tests {
    use super::Outcome;
    use crate::RuleSet;
    use std::path::Path;
    use std::sync::Arc;

    fn set(rules: &str) -> Arc<RuleSet> {
        let text = format!("SecRuleEngine On\n{rules}\n");
        Arc::new(RuleSet::from_str(&text, Path::new("t.conf")).unwrap_or_else(|e| panic!("{e}")))
    }

    /// The rule index of rule `id`.
    fn idx(set: &RuleSet, id: u64) -> usize {
        set.rules
            .iter()
            .position(|r| r.id == id)
            .unwrap_or_else(|| panic!("no rule {id}"))
    }

    fn run(set: &Arc<RuleSet>, uri: &str) -> crate::Transaction {
        let mut tx = set.transaction();
        tx.process_uri(uri.as_bytes(), "GET", "HTTP/1.1");
        tx.process_request_headers();
        tx.process_request_body();
        tx
    }

    fn ids(set: &Arc<RuleSet>, uri: &str) -> Vec<u64> {
        run(set, uri).matched_rules().iter().map(|m| m.id).collect()
    }

    /// [`GATED`] after one more rule.
    fn gated_after(rule: &str) -> Arc<RuleSet> {
        set(&format!("{rule}\n{GATED}"))
    }

    /// A paranoia-level gate as the CRS writes it, behind settings and their defaults.
    const GATED: &str = r#"
SecAction "id:1,phase:1,pass,nolog,setvar:tx.blocking_paranoia_level=1"
SecRule &TX:blocking_paranoia_level "@eq 0" "id:2,phase:1,pass,nolog,setvar:tx.blocking_paranoia_level=1"
SecRule &TX:detection_paranoia_level "@eq 0" "id:3,phase:1,pass,nolog,setvar:'tx.detection_paranoia_level=%{TX.blocking_paranoia_level}'"
SecRule TX:DETECTION_PARANOIA_LEVEL "@lt 1" "id:10,phase:2,pass,nolog,skipAfter:END"
SecRule ARGS "@rx attack" "id:11,phase:2,pass,log"
SecRule TX:DETECTION_PARANOIA_LEVEL "@lt 2" "id:12,phase:2,pass,nolog,skipAfter:END"
SecRule ARGS "@rx paranoid" "id:13,phase:2,pass,log"
SecMarker END
SecRule ARGS "@rx after" "id:14,phase:2,pass,log"
"#;

    #[test]
    fn settings_decide_gates_and_what_they_jump_over() {
        let s = set(GATED);
        let f = &s.folding;
        assert!(f.never(idx(&s, 2)), "the default is already set");
        assert!(f.never(idx(&s, 10)), "level 1 is on");
        assert!(
            !f.never(idx(&s, 12)),
            "the gate of level 2 matches: it runs"
        );
        assert!(f.reachable(idx(&s, 11)));
        assert!(!f.reachable(idx(&s, 13)), "level 2 is off");
        assert!(f.reachable(idx(&s, 14)));
        assert_eq!(
            ids(&s, "/?a=attack&b=paranoid&c=after"),
            vec![1, 3, 11, 12, 14]
        );
    }

    #[test]
    fn replays_do_what_evaluating_would() {
        let s = set(r#"
SecRule ARGS:a "@rx ^x" "id:1,phase:1,pass,nolog"
SecAction "id:2,phase:1,pass,nolog,setvar:tx.seen=%{MATCHED_VAR},setvar:tx.n=5,setvar:tx.gone=1"
SecRule &TX:n "@eq 1" "id:3,phase:1,pass,nolog,msg:'n is %{tx.n}',setvar:tx.n=+1,setvar:!tx.gone"
SecRule TX:seen "@streq xyz" "id:4,phase:1,pass,nolog"
"#);
        let replay = |id| match s.folding.outcome(idx(&s, id)) {
            Some(Outcome::Always(r)) => r,
            other => panic!("rule {id}: {other:?}"),
        };
        // A `SecAction` matches no value: `MATCHED_VAR` is what rule 1 left, if anything.
        assert!(replay(2).writes.is_none());
        assert!(
            s.folding.outcome(idx(&s, 4)).is_none(),
            "tx.seen is unknown"
        );
        let r = replay(3);
        assert!(r.writes.is_some() && r.record.is_some());
        let tx = run(&s, "/?a=xyz");
        assert_eq!(tx.tx_var("seen").as_deref(), Some("xyz"));
        assert_eq!(tx.tx_var("n").as_deref(), Some("6"));
        assert_eq!(tx.tx_var("gone"), None);
        let m = tx.matched_rules().iter().find(|m| m.id == 3);
        assert_eq!(m.map(|m| m.msg.as_str()), Some("n is 6"));
        assert_eq!(ids(&s, "/?a=xyz"), vec![1, 2, 3, 4]);
        assert_eq!(ids(&s, "/?a=abc"), vec![2, 3]);
    }

    #[test]
    fn the_prelude_is_what_the_replays_at_the_start_of_phase_1_write() {
        let s = set(r#"
SecRule REQUEST_HEADERS:Content-Type "@rx json" "id:1,phase:1,pass,nolog,t:lowercase,ctl:requestBodyProcessor=JSON"
SecAction "id:2,phase:1,pass,nolog,setvar:tx.a=1,setvar:tx.b=2"
SecRule &TX:c "@eq 0" "id:3,phase:1,pass,nolog,setvar:tx.c=3,setvar:!tx.b"
SecRule REQUEST_URI "@streq /%{tx.a}" "id:4,phase:1,pass,nolog,setvar:tx.d=%{tx.c}"
SecAction "id:5,phase:1,pass,nolog,setvar:tx.e=5"
"#);
        let p = &s.folding.prelude;
        // Rule 1 leaves `TX` alone; rule 4 reads it, and ends the prelude.
        assert_eq!(p.store.len(), 2, "{p:?}");
        assert_eq!(p.store.get("a"), Some(&b"1"[..]));
        assert_eq!(p.store.get("b"), None);
        for uri in ["/1", "/2"] {
            let tx = run(&s, uri);
            assert_eq!(tx.tx_var("a").as_deref(), Some("1"));
            assert_eq!(tx.tx_var("b"), None);
            assert_eq!(tx.tx_var("e").as_deref(), Some("5"));
        }
        assert_eq!(run(&s, "/1").tx_var("d").as_deref(), Some("3"));
        assert_eq!(ids(&s, "/1"), vec![2, 3, 4, 5]);
        assert_eq!(ids(&s, "/2"), vec![2, 3, 5]);
        // A rule that may jump ends it too.
        let s = set(r#"
SecRule REQUEST_URI "@streq /" "id:1,phase:1,pass,nolog,skipAfter:END"
SecAction "id:2,phase:1,pass,nolog,setvar:tx.a=1"
SecMarker END
"#);
        assert!(s.folding.prelude.is_empty());
        assert_eq!(run(&s, "/").tx_var("a"), None);
        assert_eq!(run(&s, "/x").tx_var("a").as_deref(), Some("1"));
    }

    #[test]
    fn a_chain_whose_first_link_never_matches_never_matches() {
        let limit = |setting: &str| {
            set(&format!(
                r#"{setting}
SecRule &TX:max_num_args "@eq 1" "id:2,phase:2,pass,nolog,chain"
    SecRule &ARGS "@gt %{{tx.max_num_args}}" "setvar:tx.over=1"
"#
            ))
        };
        let s = limit("");
        assert!(s.folding.never(idx(&s, 2)));
        assert_eq!(ids(&s, "/?a=1&b=2"), Vec::<u64>::new());
        let s = limit(r#"SecAction "id:1,phase:1,pass,nolog,setvar:tx.max_num_args=1""#);
        assert!(s.folding.outcome(idx(&s, 2)).is_none());
        assert_eq!(ids(&s, "/?a=1&b=2"), vec![1, 2]);
        assert_eq!(ids(&s, "/?a=1"), vec![1]);
    }

    #[test]
    fn operators_reading_known_settings_are_built_at_load() {
        let s = set(r#"
SecAction "id:1,phase:1,pass,nolog,setvar:tx.allowed=GET HEAD"
SecRule REQUEST_METHOD "!@within %{tx.allowed}" "id:2,phase:1,pass,nolog"
SecRule ARGS:m "@rx ^\w+$" "id:3,phase:1,pass,nolog,capture,setvar:tx.allowed=%{TX.0}"
SecRule REQUEST_METHOD "!@within %{tx.allowed}" "id:4,phase:1,pass,nolog"
"#);
        assert!(s.folding.operator(idx(&s, 2), 0).is_some());
        assert!(
            s.folding.operator(idx(&s, 4), 0).is_none(),
            "rule 3 may change it"
        );
        let method = |m: &str, uri: &str| {
            let mut tx = s.transaction();
            tx.process_uri(uri.as_bytes(), m, "HTTP/1.1");
            tx.process_request_headers();
            tx.matched_rules().iter().map(|m| m.id).collect::<Vec<_>>()
        };
        assert_eq!(method("GET", "/"), vec![1]);
        assert_eq!(method("PUT", "/"), vec![1, 2, 4]);
        assert_eq!(method("PUT", "/?m=PUT"), vec![1, 2, 3]);
    }

    #[test]
    fn a_multi_match_rule_is_evaluated() {
        // Both the value and its lower-cased form match: the `setvar` runs twice.
        let s = set(r#"
SecAction "id:1,phase:1,pass,nolog,setvar:tx.v=A,setvar:tx.n=0"
SecRule TX:v "@rx (?i)a" "id:2,phase:1,pass,nolog,multiMatch,t:lowercase,setvar:tx.n=+1"
"#);
        assert!(s.folding.outcome(idx(&s, 2)).is_none());
        assert_eq!(run(&s, "/").tx_var("n").as_deref(), Some("2"));
    }

    #[test]
    fn a_value_from_the_request_is_not_decided() {
        let s = gated_after(
            "SecRule ARGS:pl \"@rx ^\\d$\" \"id:5,phase:1,pass,nolog,capture,setvar:tx.detection_paranoia_level=%{TX.0}\"",
        );
        assert!(!s.folding.never(idx(&s, 10)));
        assert!(s.folding.reachable(idx(&s, 13)));
        assert_eq!(ids(&s, "/?pl=2&b=paranoid"), vec![5, 1, 13]);
        assert_eq!(ids(&s, "/?pl=0&b=paranoid"), vec![5, 1, 10]);
    }

    #[test]
    fn a_name_from_the_request_opens_its_prefix_only() {
        let s = gated_after(
            "SecRule ARGS_NAMES \"@rx ^.*$\" \"id:5,phase:1,pass,nolog,capture,setvar:tx.seen_%{TX.0}=1\"",
        );
        assert!(s.folding.never(idx(&s, 10)));
        assert!(!s.folding.reachable(idx(&s, 13)));
        let s = gated_after(
            "SecRule ARGS_NAMES \"@rx ^.*$\" \"id:5,phase:2,pass,nolog,capture,setvar:tx.%{TX.0}=1\"",
        );
        // `?detection_paranoia_level=…` could rewrite the level: nothing after is decided.
        assert!(s.folding.reachable(idx(&s, 13)));
    }

    #[test]
    fn removing_a_decided_rule_at_runtime_evaluates_every_rule() {
        let s = gated_after(
            "SecRule ARGS:all \"@streq 1\" \"id:5,phase:1,pass,nolog,ctl:ruleRemoveById=12\"",
        );
        assert!(!s.folding.reachable(idx(&s, 13)));
        assert_eq!(ids(&s, "/?b=paranoid"), vec![1, 3, 12]);
        // Without the gate, level 2's rule runs: left out of the search, evaluated in full.
        assert_eq!(ids(&s, "/?all=1&b=paranoid"), vec![5, 1, 3, 13]);
        // Without its default the level is unset, and rule 2 (decided never to match) runs.
        let s = gated_after(
            "SecRule ARGS:all \"@streq 1\" \"id:5,phase:1,pass,nolog,ctl:ruleRemoveById=1\"",
        );
        assert!(s.folding.never(idx(&s, 2)));
        assert_eq!(ids(&s, "/?all=1"), vec![5, 2, 3, 12]);
    }

    #[test]
    fn an_early_end_joins_later_phases() {
        // `allow` in phase 1 before the level is set: phase 2 may start without it.
        let rules = format!(
            "SecRule ARGS:ok \"@streq 1\" \"id:5,phase:1,allow:phase,nolog\"\n{GATED}\n\
             SecRule &TX:detection_paranoia_level \"@eq 0\" \"id:20,phase:2,pass,nolog\""
        );
        let s = set(&rules);
        assert!(!s.folding.never(idx(&s, 20)));
        assert_eq!(ids(&s, "/?ok=1"), vec![5, 20]);
        assert_eq!(ids(&s, "/?ok=2"), vec![1, 3, 12]);
        // Without the `allow`, rule 20 never matches.
        let s = set(&format!(
            "{GATED}\nSecRule &TX:detection_paranoia_level \"@eq 0\" \"id:20,phase:2,pass,nolog\""
        ));
        assert!(s.folding.never(idx(&s, 20)));
    }
}
