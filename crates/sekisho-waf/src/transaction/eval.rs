//! Running a phase: the rule loop (skips, markers, removals, `allow`) and one rule's
//! evaluation (variables → exclusions → transformations → operator → actions).

use super::{Caches, RuleSel, Transaction};
use crate::actions::ctl::Ctl;
use crate::actions::setvar::{to_int, SetOp, Store};
use crate::actions::{AllowScope, Disruptive, Exec};
use crate::byteset::ByteSet;
use crate::collection::VarStore;
use crate::config::EngineMode;
use crate::fold::{Outcome, Replay};
use crate::log;
use crate::operators::{number, Operator as _};
use crate::outcome::{self, Interruption, MatchedRule};
use crate::rule::{ChainStep, OpKind, Rule};
use crate::ruleset::{skip_target, Entry, RuleSet};
use crate::transaction::data::TxData;
use crate::variables::{self, RuleInfo, Var, VarValue};
use std::borrow::Cow;
use std::sync::Arc;

/// One matched value of one chain link.
/// `TX.0` … `TX.9`: capture names without formatting a number per match.
const DIGITS: &str = "0123456789";

/// A count (`&VAR`) as a value: small counts are borrowed, not formatted.
fn count_value(n: usize) -> Cow<'static, [u8]> {
    match DIGITS.as_bytes().get(n..=n) {
        Some(d) => Cow::Borrowed(d),
        None => Cow::Owned(n.to_string().into_bytes()),
    }
}

/// A link's hits: most links match one value or none.
type Hits = smallvec::SmallVec<[Hit; 2]>;

pub(crate) struct Hit {
    pub name: String,
    pub value: Vec<u8>,
    pub captures: Option<Vec<Vec<u8>>>,
}

/// What the log line needs about the last link that matched.
pub(crate) struct LastMatch<'r> {
    pub link: &'r Rule,
    pub name: String,
    pub value: Vec<u8>,
}

pub(crate) fn rule_info(rule: &Rule) -> RuleInfo<'_> {
    RuleInfo {
        id: rule.id,
        msg: rule.actions.msg.as_ref().map_or("", |m| m.text.as_str()),
        severity: rule.actions.severity,
        rev: &rule.actions.rev,
        ver: &rule.actions.ver,
        phase: rule.phase,
    }
}

/// Variables whose values change while rules run: never cached by address.
fn volatile(var: Var) -> bool {
    matches!(
        var,
        Var::Tx
            | Var::Ip
            | Var::Global
            | Var::Session
            | Var::User
            | Var::Resource
            | Var::Geo
            | Var::Env
            | Var::MatchedVar
            | Var::MatchedVarName
            | Var::MatchedVars
            | Var::MatchedVarsNames
            | Var::Rule
            | Var::HighestSeverity
            | Var::Duration
    )
}

/// Whether a value keeps its address and bytes for the phase (request or response data),
/// so that what is learnt about it can be kept by address.
pub(crate) fn keeps_address(v: &VarValue<'_>) -> bool {
    matches!(v.value, Cow::Borrowed(_)) && !volatile(v.var)
}

/// Marks a transformation cache key as one transformation (by its registry index) of the value
/// itself, rather than a list: list indexes stay far below it.
const ONE_STEP: u32 = 1 << 31;

/// Values up to this length are scanned for a list's trigger bytes before it is run; longer
/// ones (bodies) go through the list, whose transformations each have their own fast scan.
pub(crate) const UNCHANGED_SCAN: usize = 4 << 10;

/// The value after transformation list `chain` of the rule set's table `chains` (`None`
/// when the list leaves it unchanged, as for most values). It is the value after the list
/// without its last transformation, then that one: a changed value of request or response
/// data is computed once per phase for each list, and shared by every longer list that starts
/// the same way.
pub(crate) fn transformed(
    caches: &mut Caches,
    chains: &[ChainStep],
    v: &VarValue<'_>,
    chain: u32,
) -> Option<Arc<[u8]>> {
    transformed_with(caches, chains, v, chain, &mut None)
}

/// [`transformed`], with the bytes of the value when already known (they are computed at
/// most once, however long the list).
pub(crate) fn transformed_with(
    caches: &mut Caches,
    chains: &[ChainStep],
    v: &VarValue<'_>,
    chain: u32,
    present: &mut Option<ByteSet>,
) -> Option<Arc<[u8]>> {
    let step = chains.get(chain as usize)?;
    let f = step.func?;
    let raw: &[u8] = &v.value;
    let cacheable = keeps_address(v);
    // Most values hold none of the bytes the list's transformations act on: one scan (kept
    // for the phase), instead of a call per transformation or a lookup.
    if raw.len() <= UNCHANGED_SCAN {
        // Used from the local, not read back from `present`: written as four words and read
        // back in halves, it stalled on store forwarding (a third of this function's time on
        // a form's values).
        let bytes = match *present {
            Some(b) => b,
            None => {
                let b = if cacheable {
                    caches.known.of(raw)
                } else {
                    ByteSet::of(raw)
                };
                *present = Some(b);
                b
            }
        };
        if !step.triggers.triggered_by(bytes) {
            return None;
        }
    }
    let key = (raw.as_ptr() as usize, raw.len(), chain);
    if cacheable {
        if let Some(hit) = caches.transforms.get(&key) {
            return hit.clone();
        }
    }
    let before = transformed_with(caches, chains, v, step.parent, present);
    let out = match before {
        // Unchanged so far: this is `f` of the value itself, shared by every list that gets
        // there the same way (`t:lowercase` after decodings that found nothing to decode).
        None if cacheable => {
            let once = (raw.as_ptr() as usize, raw.len(), ONE_STEP | step.func_id);
            match caches.transforms.get(&once) {
                Some(hit) => hit.clone(),
                None => {
                    let out: Option<Arc<[u8]>> = f(raw).map(Arc::from);
                    caches.transforms.insert(once, out.clone());
                    out
                }
            }
        }
        before => match f(before.as_deref().unwrap_or(raw)) {
            Some(n) => Some(Arc::from(n)),
            None => before,
        },
    };
    if cacheable {
        caches.transforms.insert(key, out.clone());
    }
    out
}

impl Transaction {
    /// Whether the prefilter lets rule `idx` through (see `prefilter.rs`).
    fn may_match(&mut self, rules: &RuleSet, idx: usize) -> bool {
        let pass = rules
            .prefilter
            .may_match(idx, &rules.chains, &self.data, &mut self.caches);
        if !pass {
            // What evaluating a rule that did not match would have left behind.
            self.data.matched_vars.clear();
        }
        pass
    }

    /// Runs `phase` (and any earlier phase not yet run). Returns the interruption, if any.
    pub(crate) fn run_phase(&mut self, phase: u8) -> Option<Interruption> {
        while self.last_phase < phase {
            self.last_phase += 1;
            if self.interruption.is_some() {
                break;
            }
            let p = self.last_phase;
            self.run_one_phase(p);
        }
        self.interruption.clone()
    }

    fn allowed(&self, phase: u8) -> bool {
        match self.allow {
            Some((AllowScope::All, _)) => phase < 5,
            Some((AllowScope::Request, _)) => phase <= 2,
            Some((AllowScope::Phase, p)) => p == phase,
            None => false,
        }
    }

    fn run_one_phase(&mut self, phase: u8) {
        if self.settings.engine == EngineMode::Off || self.allowed(phase) {
            return;
        }
        self.caches.transforms.clear();
        self.caches.known.next_phase();
        let rules = Arc::clone(&self.rules);
        let p = usize::from(phase) - 1;
        let (Some(list), Some(steps)) = (rules.phases.get(p), rules.walk.get(p)) else {
            return;
        };
        // The writes every request makes at the start of phase 1, made at once (`fold.rs`).
        let prelude = &rules.folding.prelude;
        let in_prelude =
            phase == 1 && self.folding_holds && !prelude.is_empty() && self.data.tx.is_empty();
        if in_prelude {
            match self.prelude_tx.take() {
                Some(ready) => self.data.tx = ready,
                None => self.data.tx.copy_from(&prelude.store),
            }
        }
        let mut i = 0;
        while let Some(step) = steps.get(i) {
            if step.idx == u32::MAX {
                // A marker.
                i += 1;
                continue;
            }
            if let Some(next) = rules.prefilter.skip(step, i, &self.caches.prefilter) {
                // Let not through by the prefilter's search, with the rules after it in
                // its run that were not either (most rules of a request).
                self.data.matched_vars.clear();
                i = next;
                continue;
            }
            i += 1;
            if step.never && self.folding_holds {
                // What evaluating a rule that did not match would have left behind.
                self.data.matched_vars.clear();
                continue;
            }
            let idx = step.idx as usize;
            let Some(rule) = rules.rules.get(idx) else {
                continue;
            };
            let decided = if step.decided && self.folding_holds {
                rules.folding.outcome(idx)
            } else {
                None
            };
            let matched = match decided {
                Some(Outcome::Never) => {
                    // What evaluating a rule that did not match would have left behind.
                    self.data.matched_vars.clear();
                    false
                }
                Some(Outcome::Always(hit)) => {
                    let written = in_prelude && prelude.covers(i - 1);
                    !self.is_removed(rule) && self.replay(rule, idx, hit, written)
                }
                // A decided rule evaluated after all (the findings no longer hold): let not
                // through by the prefilter's search, as `may_match` would say.
                None if step.decided && rules.prefilter.skipped(idx, &self.caches.prefilter) => {
                    self.data.matched_vars.clear();
                    false
                }
                None => {
                    self.evaluating = idx;
                    let matched = !self.is_removed(rule)
                        && self.may_match(&rules, idx)
                        && self.eval_rule(rule);
                    self.evaluating = usize::MAX;
                    matched
                }
            };
            if !matched {
                continue;
            }
            let skip_to = match list.get(i - 1) {
                Some(Entry::Rule { skip_to, .. }) => *skip_to,
                _ => None,
            };
            if let Some(to) = skip_to.or_else(|| skip_target(list, i, rule.actions.skip)) {
                i = to;
            }
            if self.interruption.is_some()
                || self.settings.engine == EngineMode::Off
                || self.allowed(phase)
            {
                break;
            }
        }
    }

    fn is_removed(&self, rule: &Rule) -> bool {
        if self.removed_ids.is_empty()
            && self.removed_tags.is_empty()
            && self.removed_msgs.is_empty()
        {
            return false;
        }
        self.removed_ids.iter().any(|r| r.contains(rule.id))
            || rule
                .actions
                .tags
                .iter()
                .any(|t| self.removed_tags.contains(t))
            || rule
                .actions
                .msg
                .as_ref()
                .is_some_and(|m| self.removed_msgs.contains(&m.text))
    }

    /// Evaluates a rule and its chain; on a full match runs its actions. Returns whether
    /// it matched.
    pub(crate) fn eval_rule(&mut self, rule: &Rule) -> bool {
        self.data.matched_vars.clear();
        let mut last = None;
        if !self.eval_link(rule, rule, &mut last) {
            return false;
        }
        self.matched_rule(rule, last);
        true
    }

    /// A one-link rule decided at load to match (see `fold.rs`): what evaluating it would
    /// do, without its condition. Returns true (it matched).
    fn replay(&mut self, rule: &Rule, idx: usize, r: &Replay, written: bool) -> bool {
        let (Some(writes), Some(_)) = (&r.writes, &r.record) else {
            return self.replay_actions(rule, &r.hit);
        };
        // Everything it does is known: its match, its writes and its record.
        self.data.matched_vars.clear();
        if let Some((name, value)) = &r.hit {
            if r.keeps_matched_vars {
                self.data.matched_vars.add(name.as_bytes(), value);
            }
            // The CRS's paranoia-level gates replay one match after another.
            if self.data.matched_hit != r.hit_id || r.hit_id == 0 {
                self.data.matched_var_name.clear();
                self.data
                    .matched_var_name
                    .extend_from_slice(name.as_bytes());
                self.data.matched_var.clear();
                self.data.matched_var.extend_from_slice(value);
                self.data.matched_hit = r.hit_id;
            }
        }
        if !written {
            for (key, value) in writes {
                self.data.tx.set_shared(key, value.as_ref());
            }
        }
        if let Some(sev) = r.severity {
            self.data.highest_severity = self.data.highest_severity.min(sev);
        }
        self.matched.push(super::Record::Replayed(
            u32::try_from(idx).unwrap_or(u32::MAX),
        ));
        true
    }

    /// [`Self::replay`] running the rule's actions as written.
    fn replay_actions(&mut self, rule: &Rule, hit: &Option<(String, Vec<u8>)>) -> bool {
        self.data.matched_vars.clear();
        let mut last = None;
        let has_setvar = rule
            .actions
            .exec
            .iter()
            .any(|e| matches!(e, Exec::SetVar(_)));
        match hit {
            Some((name, value)) => {
                let h = Hit {
                    name: name.clone(),
                    value: value.clone(),
                    captures: None,
                };
                self.take_hit(rule, rule, h, has_setvar, &mut last);
            }
            None if has_setvar => self.run_setvars(rule, rule),
            None => {}
        }
        let last = last.or(Some(LastMatch {
            link: rule,
            name: String::new(),
            value: Vec::new(),
        }));
        self.matched_rule(rule, last);
        true
    }

    /// A rule (chain) matched, `last` the last value it matched: runs its actions and
    /// records it.
    fn matched_rule<'r>(&mut self, rule: &'r Rule, last: Option<LastMatch<'r>>) {
        let info = rule_info(rule);
        for link in rule.links() {
            for e in &link.actions.exec {
                if !matches!(e, Exec::SetVar(_)) {
                    self.exec(e, &info);
                }
            }
        }
        if let Some(sev) = rule.actions.severity {
            self.data.highest_severity = self.data.highest_severity.min(sev);
        }
        let msg = rule
            .actions
            .msg
            .as_ref()
            .map(|m| m.expand_string(&self.data, &info))
            .unwrap_or_default();
        let mut logdata = rule
            .actions
            .logdata
            .as_ref()
            .map(|m| m.expand_string(&self.data, &info))
            .unwrap_or_default();
        if logdata.len() > 512 {
            let mut end = 512;
            while !logdata.is_char_boundary(end) {
                end -= 1;
            }
            logdata.truncate(end);
        }
        let disruptive = matches!(
            rule.disruptive,
            Disruptive::Deny | Disruptive::Drop | Disruptive::Redirect(_)
        );
        if self.settings.engine == EngineMode::On {
            let status = rule.status.unwrap_or(403);
            let action = match &rule.disruptive {
                Disruptive::Deny => Some(outcome::Disruptive::Deny),
                Disruptive::Drop => Some(outcome::Disruptive::Drop),
                Disruptive::Redirect(m) => Some(outcome::Disruptive::Redirect(
                    m.expand_string(&self.data, &info),
                )),
                Disruptive::Allow(scope) => {
                    self.allow = Some((*scope, rule.phase));
                    None
                }
                Disruptive::Pass | Disruptive::Block => None,
            };
            if let Some(action) = action {
                let status = match action {
                    outcome::Disruptive::Redirect(_) => rule
                        .status
                        .filter(|s| (300..400).contains(s))
                        .unwrap_or(302),
                    _ => status,
                };
                self.interruption = Some(Interruption {
                    status,
                    rule_id: rule.id,
                    action,
                    phase: rule.phase,
                });
            }
        }
        let (link, name, value) = match last {
            Some(l) => (Some(l.link), l.name, l.value),
            None => (None, String::new(), Vec::new()),
        };
        let mut m = MatchedRule {
            id: rule.id,
            phase: rule.phase,
            msg,
            logdata,
            tags: rule.actions.tags.clone(),
            severity: rule.actions.severity,
            matched_var_name: name,
            matched_var: value,
            disruptive,
            log: rule.log,
            log_line: String::new(),
        };
        if m.log {
            let intr = self.interruption.as_ref().filter(|i| i.rule_id == rule.id);
            m.log_line = log::line(rule, &m, link, &self.data, intr);
        }
        self.matched.push(super::Record::Made(Box::new(m)));
    }

    fn eval_link<'r>(
        &mut self,
        link: &'r Rule,
        starter: &Rule,
        last: &mut Option<LastMatch<'r>>,
    ) -> bool {
        // As ModSecurity does, a link's `setvar`s run for every value it matched, right
        // then, with that value's captures: CRS 920450 records each restricted header name
        // this way, and 920420 passes `tx.content_type` down its chain.
        let has_setvar = link
            .actions
            .exec
            .iter()
            .any(|e| matches!(e, Exec::SetVar(_)));
        if link.targets.is_empty() {
            // SecAction, or a rule whose targets were all removed at load.
            let hit = matches!(link.op.kind, OpKind::Always) != link.op.negated;
            if !hit {
                return false;
            }
            if has_setvar {
                self.run_setvars(link, starter);
            }
        } else {
            let hits = self.match_values(link, starter);
            if hits.is_empty() {
                return false;
            }
            for h in hits {
                self.take_hit(link, starter, h, has_setvar, last);
            }
        }
        match &link.chain {
            Some(next) => self.eval_link(next, starter, last),
            None => {
                if last.is_none() {
                    *last = Some(LastMatch {
                        link,
                        name: String::new(),
                        value: Vec::new(),
                    });
                }
                true
            }
        }
    }

    /// One value a link matched: its captures, `MATCHED_VAR*`, and the link's `setvar`s.
    fn take_hit<'r>(
        &mut self,
        link: &'r Rule,
        starter: &Rule,
        h: Hit,
        has_setvar: bool,
        last: &mut Option<LastMatch<'r>>,
    ) {
        if let Some(caps) = h.captures {
            for (i, c) in caps.into_iter().enumerate().take(10) {
                self.data.tx.set(DIGITS.get(i..=i).unwrap_or("0"), c);
            }
        }
        if starter.keeps_matched_vars {
            self.data.matched_vars.add(h.name.as_bytes(), &h.value);
        }
        self.data.matched_var_name.clear();
        self.data
            .matched_var_name
            .extend_from_slice(h.name.as_bytes());
        self.data.matched_var.clone_from(&h.value);
        self.data.matched_hit = 0;
        *last = Some(LastMatch {
            link,
            name: h.name,
            value: h.value,
        });
        if has_setvar {
            self.run_setvars(link, starter);
        }
    }

    fn run_setvars(&mut self, link: &Rule, starter: &Rule) {
        let info = rule_info(starter);
        for e in &link.actions.exec {
            if matches!(e, Exec::SetVar(_)) {
                self.exec(e, &info);
            }
        }
    }

    /// Every value of the link's targets that the operator matches.
    pub(crate) fn match_values(&mut self, link: &Rule, starter: &Rule) -> Hits {
        let Transaction {
            data,
            caches,
            removed_targets,
            rules,
            folding_holds,
            evaluating,
            ..
        } = self;
        let chains = &rules.chains;
        // The prefilter's findings are about a rule's first link.
        let is_starter = std::ptr::eq(link, starter);
        let data: &TxData = data;
        let info = rule_info(starter);
        let extra: smallvec::SmallVec<[&crate::actions::ctl::TargetRef; 4]> = removed_targets
            .iter()
            .filter(|(sel, _)| match sel {
                RuleSel::Ids(ids) => ids.iter().any(|r| r.contains(starter.id)),
                RuleSel::Tagged(rules) => {
                    u32::try_from(*evaluating).is_ok_and(|i| rules.binary_search(&i).is_ok())
                }
                RuleSel::Msg(m) => starter.actions.msg.as_ref().is_some_and(|x| &x.text == m),
            })
            .map(|(_, t)| t)
            .collect();
        let mut values = variables::Values::new();
        for t in &link.targets {
            let start = values.len();
            variables::collect(t.var, &t.sel, data, &info, &mut values);
            if !link.exclusions.is_empty() || !extra.is_empty() {
                let mut k = start;
                while k < values.len() {
                    let excluded = values.get(k).is_some_and(|v| {
                        link.exclusions
                            .iter()
                            .chain(extra.iter().copied())
                            .any(|x| x.var == v.var && x.sel.matches(&v.key))
                    });
                    if excluded {
                        values.remove(k);
                    } else {
                        k += 1;
                    }
                }
            }
            if t.count {
                let n = values.len() - start;
                values.truncate(start);
                values.push(VarValue {
                    var: t.var,
                    key: Cow::Borrowed(&[]),
                    value: count_value(n),
                });
            }
        }

        let mut hits = Hits::new();
        let want_captures = link.actions.capture;
        // An operator whose argument holds macros is built once per link evaluation (the
        // variables it reads do not change while the link's values are tested), and kept.
        // A numeric comparison needs no building: its argument is just a number.
        let mut compare = None;
        // Built at load when its macros read only known settings (see `fold.rs`).
        let prebuilt = match &link.op.kind {
            OpKind::Dynamic(_) if *folding_holds => starter
                .links()
                .position(|l| std::ptr::eq(l, link))
                .and_then(|depth| rules.folding.operator(*evaluating, depth)),
            _ => None,
        };
        let dynamic = match &link.op.kind {
            OpKind::Dynamic(m)
                if !values.is_empty() && number::comparison(&link.op.name).is_some() =>
            {
                compare = number::comparison(&link.op.name).map(|cmp| number::Compare {
                    arg: number::parse_int(&m.expand(data, &info)),
                    cmp,
                });
                None
            }
            OpKind::Dynamic(_) if !values.is_empty() && prebuilt.is_some() => None,
            OpKind::Dynamic(m) if !values.is_empty() => {
                let key = (link.op.name.clone(), m.expand_string(data, &info));
                if !caches.operators.contains_key(&key) {
                    let env = crate::operators::OperatorEnv {
                        base_dir: link.file.parent().unwrap_or(std::path::Path::new(".")),
                        geo_db: None,
                    };
                    if let Ok(op) = crate::operators::build(&key.0, &key.1, &env) {
                        caches.operators.insert(key.clone(), op);
                    }
                }
                Some(key)
            }
            _ => None,
        };
        // `multiMatch`: the trigger bytes of each stage's list (its first transformation, the
        // first two, …).
        let mut stage_triggers = smallvec::SmallVec::<[ByteSet; 8]>::new();
        if link.actions.multi_match {
            let mut at = link.chain_idx;
            while let Some(step) = chains.get(at as usize).filter(|s| s.func.is_some()) {
                stage_triggers.push(step.triggers);
                at = step.parent;
            }
            stage_triggers.reverse();
            if stage_triggers.len() != link.transforms.len() {
                stage_triggers.clear();
            }
        }
        // The prefilter's literals of a `multiMatch` rule, tested on each stage of a value.
        let gate = if is_starter && link.actions.multi_match {
            rules.prefilter.gate(*evaluating)
        } else {
            None
        };
        for v in &values {
            let raw: &[u8] = &v.value;
            if link.actions.multi_match {
                // The value, then its form after each transformation that changed it.
                let mut candidates = smallvec::SmallVec::<[Cow<'_, [u8]>; 4]>::new();
                candidates.push(Cow::Borrowed(raw));
                // Up to the first stage whose list holds a trigger byte of the value, every
                // stage is the value itself: those transformations need not run.
                let present = (raw.len() <= UNCHANGED_SCAN).then(|| {
                    if keeps_address(v) {
                        caches.known.of(raw)
                    } else {
                        ByteSet::of(raw)
                    }
                });
                // A value without the rule's literals that no stage can make them of.
                if let (Some(g), Some(p)) = (gate, present) {
                    if g.nothing_made(raw.len(), p) && !g.passes(raw) {
                        continue;
                    }
                }
                let untouched = stage_triggers
                    .iter()
                    .take_while(|t| present.is_some_and(|p| !t.triggered_by(p)))
                    .count();
                for f in link.transforms.iter().skip(untouched) {
                    let changed = candidates.last().and_then(|cur| f(cur));
                    if let Some(n) = changed {
                        candidates.push(Cow::Owned(n));
                    }
                }
                for c in candidates
                    .iter()
                    .filter(|c| gate.is_none_or(|g| g.passes(c)))
                {
                    let op = Dyn(dynamic.as_ref(), compare.as_ref(), prebuilt);
                    if let Some(h) = run_op(link, c, caches, want_captures, v, op) {
                        hits.push(h);
                    }
                }
                continue;
            }
            if is_starter && !crate::prefilter::may_hold(&caches.prefilter, v) {
                continue;
            }
            let owned = transformed(caches, chains, v, link.chain_idx);
            let transformed: &[u8] = owned.as_deref().unwrap_or(raw);
            if is_starter && !crate::prefilter::must_test(&caches.prefilter, v, transformed) {
                continue;
            }
            let op = Dyn(dynamic.as_ref(), compare.as_ref(), prebuilt);
            if let Some(h) = run_op(link, transformed, caches, want_captures, v, op) {
                hits.push(h);
            }
        }
        hits
    }

    fn exec(&mut self, e: &Exec, info: &RuleInfo<'_>) {
        match e {
            Exec::SetVar(sv) => {
                // Expanded into the transaction's scratch buffers: a `setvar` runs for most
                // matches, and three allocations each were a visible share of a request.
                let Caches {
                    name_buf,
                    value_buf,
                    ..
                } = &mut self.caches;
                let name: &str = match &sv.fixed_name {
                    Some(n) => n.as_str(),
                    None => {
                        name_buf.clear();
                        sv.name.expand_into(&self.data, info, name_buf);
                        name_buf.make_ascii_lowercase();
                        if std::str::from_utf8(name_buf).is_err() {
                            let fixed = String::from_utf8_lossy(name_buf).into_owned();
                            *name_buf = fixed.into_bytes();
                        }
                        std::str::from_utf8(name_buf).unwrap_or_default()
                    }
                };
                match &sv.op {
                    SetOp::Delete => store(&mut self.data, sv.store).remove(name),
                    SetOp::Set(m) => {
                        let v = m.expand(&self.data, info);
                        store(&mut self.data, sv.store).set_lower(name, v);
                    }
                    SetOp::Add(m) | SetOp::Sub(m) => {
                        value_buf.clear();
                        m.expand_into(&self.data, info, value_buf);
                        let n = to_int(value_buf);
                        let s = store(&mut self.data, sv.store);
                        let cur = s.get(name).map_or(0, to_int);
                        let r = if matches!(sv.op, SetOp::Add(_)) {
                            cur.saturating_add(n)
                        } else {
                            cur.saturating_sub(n)
                        };
                        s.set_int_lower(name, r);
                    }
                }
            }
            Exec::Ctl(c) => self.ctl(c),
            Exec::SetEnv(k, v) => {
                let k = k.expand_string(&self.data, info);
                let v = v.expand(&self.data, info);
                self.data.env.set(&k, v);
            }
            Exec::InitCol(s, key) => {
                let key = key.expand(&self.data, info);
                store(&mut self.data, *s).set("key", key);
            }
            Exec::SetUid(v) => {
                let v = v.expand(&self.data, info);
                self.data.user_id.clone_from(&v);
                self.data.user.set("key", v);
            }
            Exec::SetSid(v) => {
                let v = v.expand(&self.data, info);
                self.data.session_id.clone_from(&v);
                self.data.session.set("key", v);
            }
        }
    }

    fn ctl(&mut self, c: &Ctl) {
        let folding = &self.rules.folding;
        let relied_on = match c {
            Ctl::RuleRemoveById(ids) | Ctl::RuleRemoveTargetById(ids, _) => {
                folding.relies_on_ids(ids)
            }
            Ctl::RuleRemoveByTag(t) | Ctl::RuleRemoveTargetByTag(t, _) => folding.relies_on_tag(t),
            Ctl::RuleRemoveByMsg(m) | Ctl::RuleRemoveTargetByMsg(m, _) => folding.relies_on_msg(m),
            _ => false,
        };
        if relied_on {
            self.folding_holds = false;
        }
        let s = &mut self.settings;
        match c {
            Ctl::RuleEngine(m) => s.engine = *m,
            Ctl::RuleRemoveById(ids) => self.removed_ids.extend(ids.iter().copied()),
            Ctl::RuleRemoveByTag(t) => self.removed_tags.push(t.clone()),
            Ctl::RuleRemoveByMsg(m) => self.removed_msgs.push(m.clone()),
            Ctl::RuleRemoveTargetById(ids, t) => self
                .removed_targets
                .push((RuleSel::Ids(ids.clone()), t.clone())),
            Ctl::RuleRemoveTargetByTag(tag, t) => {
                let tagged = self.rules.tagged.get(tag).cloned().unwrap_or_default();
                self.removed_targets
                    .push((RuleSel::Tagged(tagged), t.clone()));
            }
            Ctl::RuleRemoveTargetByMsg(msg, t) => self
                .removed_targets
                .push((RuleSel::Msg(msg.clone()), t.clone())),
            Ctl::RequestBodyProcessor(p) => {
                s.body_processor = Some(*p);
                self.data.reqbody_processor = p.name().into();
            }
            Ctl::ForceRequestBodyVariable(b) => s.force_request_body_variable = *b,
            Ctl::RequestBodyAccess(b) => s.request_body_access = *b,
            Ctl::RequestBodyLimit(n) => s.request_body_limit = *n,
            Ctl::ResponseBodyAccess(b) => s.response_body_access = *b,
            Ctl::ResponseBodyLimit(n) => s.response_body_limit = *n,
            Ctl::AuditEngine(v) => s.audit_engine.clone_from(v),
            Ctl::AuditLogParts(v) => s.audit_log_parts.clone_from(v),
            Ctl::DebugLogLevel => {}
        }
    }
}

fn store(d: &mut TxData, s: Store) -> &mut VarStore {
    match s {
        Store::Tx => &mut d.tx,
        Store::Ip => &mut d.ip,
        Store::Global => &mut d.global,
        Store::Session => &mut d.session,
        Store::User => &mut d.user,
        Store::Resource => &mut d.resource,
    }
}

/// The operator of a link whose argument holds macros: its key among the transaction's
/// built operators, a numeric comparison made on the spot, or the operator built at load
/// (when the macros read only known settings).
#[derive(Clone, Copy)]
struct Dyn<'a>(
    Option<&'a (String, String)>,
    Option<&'a number::Compare>,
    Option<&'a dyn crate::operators::Operator>,
);

/// Runs the link's operator on one (transformed) value.
fn run_op(
    link: &Rule,
    input: &[u8],
    caches: &mut Caches,
    want_captures: bool,
    v: &VarValue<'_>,
    dynamic: Dyn<'_>,
) -> Option<Hit> {
    caches.out.want_captures = want_captures;
    caches.out.captures.clear();
    let matched = match &link.op.kind {
        OpKind::Always => true,
        OpKind::Never => false,
        OpKind::Static(op) => op.matches(input, &mut caches.out),
        OpKind::Dynamic(_) => match dynamic {
            Dyn(_, _, Some(op)) => op.matches(input, &mut caches.out),
            Dyn(_, Some(cmp), None) => cmp.matches(input, &mut caches.out),
            Dyn(key, None, None) => caches.operators.get(key?)?.matches(input, &mut caches.out),
        },
    };
    if matched == link.op.negated {
        return None;
    }
    let captures = (want_captures && !caches.out.captures.is_empty())
        .then(|| std::mem::take(&mut caches.out.captures));
    Some(Hit {
        name: v.full_name(),
        value: input.to_vec(),
        captures,
    })
}
