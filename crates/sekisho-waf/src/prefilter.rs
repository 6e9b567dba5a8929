//! The prefilter: skips, in one search per value, every rule that cannot match.
//!
//! Most rules of a rule set like the CRS test request data with an operator that cannot match
//! unless the value contains one of a few literals (`@rx (?i)union\s+select` needs `union`,
//! `@pm` needs one of its phrases; see [`Operator::required_literals`]). A benign request
//! matches almost none of them, yet evaluating each rule costs collecting its variables,
//! transforming the values and running the operator, rule after rule.
//!
//! So rules are grouped by transformation list, and the groups of one stretch of a phase that
//! runs or is skipped as a whole (between markers and skipping rules, e.g. one paranoia level
//! of one CRS file) form a unit (up to 64 groups) with one search automaton over the literals
//! of all its rules. When a phase first reaches a rule of a unit, every group's variables are
//! collected and each value transformed (through the same cache the rules use); each distinct
//! resulting value is searched once (Aho-Corasick, ASCII case-insensitive), and a literal found
//! lets through the rules that need it in the groups that produced that value. Most values
//! come out of most transformation lists unchanged, so a value is searched once, not once per
//! group. A rule whose literals did not occur is skipped without being evaluated; a rule that
//! passes tests only the values its literals were found in. The search only ever lets a rule
//! through that might match, never decides a match itself. Values over [`LARGE_VALUE`] are
//! not searched: their rules run in full.
//!
//! A rule takes part only when skipping it is sound: its first link's operator is built at
//! load (no macros), is not negated, has a literal set, and is not `multiMatch` (taking part
//! in the group of every stage of its list cost more than skipping it saved); and its
//! variables hold request or response data, which no rule can change within a phase (never
//! `TX`, `MATCHED_VARS`, counts `&VAR`, …).

use crate::operators::Operator;
use crate::rule::{ChainStep, OpKind, Rule, Target};
use crate::ruleset::{same_sel, Entry};
use crate::transaction::data::TxData;
use crate::transaction::eval::transformed;
use crate::transaction::Caches;
use crate::variables::{self, RuleInfo, Var, VarValue};
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use rustc_hash::{FxHashMap, FxHashSet};
use std::sync::Arc;

/// Groups per unit: a value's groups are one bit each of a `u64`.
const UNIT_GROUPS: usize = 64;

/// The prefilter of a rule set: built once with it.
#[derive(Debug, Default)]
pub(crate) struct Prefilter {
    pub units: Vec<Unit>,
    /// Rule index → its slot (index into the per-transaction hit list).
    by_rule: Vec<Option<u32>>,
    /// Slot → its unit.
    slot_unit: Vec<u32>,
}

/// The rules that need one literal: (group in the unit, slot).
pub(crate) type Owners = Vec<(u8, u32)>;

/// Groups of one phase searched together.
#[derive(Debug)]
pub(crate) struct Unit {
    pub groups: Vec<Group>,
    pub ac: AhoCorasick,
    /// Literal (pattern id) → the rules that need it.
    pub owners: Vec<Owners>,
    /// Group → its rules' slots (let through together when a value is too large to search).
    pub slots: Vec<Vec<u32>>,
}

/// Rules of one phase sharing a transformation list.
#[derive(Debug)]
pub(crate) struct Group {
    /// The transformation list, in the rule set's table.
    pub chain_idx: u32,
    /// Every variable any rule of the group reads (duplicates removed).
    pub targets: Vec<Target>,
}

/// Per-transaction results: which units were searched, which slots may match.
#[derive(Debug, Default)]
pub(crate) struct PrefilterState {
    pub searched: Vec<bool>,
    pub hit: Vec<bool>,
    /// (slot, address, length) of each searched value in which a literal of that slot's rule
    /// occurred. Values of request or response data keep their address for the phase (see
    /// [`stable`]), so the rule then tests only those of its values.
    pub found: FxHashSet<(u32, usize, usize)>,
    /// The slot of the rule being evaluated, if it takes part.
    pub current: Option<u32>,
    /// Buffers of [`Unit::search`], kept between searches: allocating them per search cost
    /// more than the bookkeeping they hold.
    scratch: Scratch,
}

/// The most entries a recycled search buffer keeps allocated.
const KEPT: usize = 8192;

impl PrefilterState {
    /// Empty again for the next transaction, keeping what it allocated.
    pub(crate) fn reset(&mut self) {
        self.searched.fill(false);
        self.hit.fill(false);
        self.found.clear();
        self.current = None;
        self.scratch.ends.clear();
        self.scratch.inputs.clear();
        self.scratch.seen.clear();
        // A large body grows these far beyond a usual request's needs: do not keep that.
        self.found.shrink_to(KEPT);
        self.scratch.inputs.shrink_to(KEPT);
        self.scratch.seen.shrink_to(KEPT);
    }
}

#[derive(Debug, Default)]
struct Scratch {
    ends: Vec<usize>,
    inputs: Vec<Input>,
    seen: FxHashMap<(usize, usize), usize>,
}

/// A distinct value after transformation, as a unit's search sees it.
#[derive(Debug)]
struct Input {
    /// The transformed value, or `None` for the value at `index` itself.
    transformed: Option<Arc<[u8]>>,
    index: usize,
    /// The groups that produced it, one bit each.
    groups: u64,
}

/// Whether a value keeps its address (and its transformed forms theirs, in the transformation
/// cache) for the whole phase: request or response data, not a value computed per use.
pub(crate) fn stable(v: &VarValue<'_>) -> bool {
    matches!(v.value, std::borrow::Cow::Borrowed(_)) && fixed_in_phase(v.var)
}

/// Whether the rule being evaluated must test `input`, one of its (transformed) values: no
/// when the search saw that very value and found none of the rule's literals in it.
pub(crate) fn must_test(state: &PrefilterState, v: &VarValue<'_>, input: &[u8]) -> bool {
    let Some(slot) = state.current else {
        return true;
    };
    !stable(v)
        || input.len() > LARGE_VALUE
        || state
            .found
            .contains(&(slot, input.as_ptr() as usize, input.len()))
}

/// Values longer than this are not searched: every rule of the groups that produced one is
/// let through. On a large body (an upload) each pattern's own search, with its own literal
/// scan, is faster than the shared one, which reports every literal it passes.
pub(crate) const LARGE_VALUE: usize = 8 << 10;

/// Variables whose values are request or response data, fixed before a phase starts.
fn fixed_in_phase(var: Var) -> bool {
    use Var::*;
    matches!(
        var,
        Args | ArgsNames
            | ArgsGet
            | ArgsGetNames
            | ArgsPost
            | ArgsPostNames
            | RequestHeaders
            | RequestHeadersNames
            | RequestCookies
            | RequestCookiesNames
            | ResponseHeaders
            | ResponseHeadersNames
            | RequestLine
            | RequestMethod
            | RequestProtocol
            | RequestUri
            | RequestUriRaw
            | RequestFilename
            | RequestBasename
            | QueryString
            | FullRequest
            | RequestBody
            | Files
            | FilesNames
            | FilesTmpContent
            | MultipartFilename
            | MultipartName
            | MultipartPartHeaders
            | Xml
            | ResponseBody
            | ResponseProtocol
            | ResponseContentType
            | StatusLine
    )
}

/// The literals a rule needs, when the rule may take part (see the module doc).
fn literals_of(rule: &Rule) -> Option<Vec<Vec<u8>>> {
    let OpKind::Static(op) = &rule.op.kind else {
        return None;
    };
    let eligible = !rule.op.negated
        && !rule.actions.multi_match
        && !rule.targets.is_empty()
        && rule
            .targets
            .iter()
            .all(|t| !t.count && fixed_in_phase(t.var));
    if !eligible {
        return None;
    }
    let lits = Operator::required_literals(op.as_ref())?;
    lits.iter().all(|l| !l.is_empty()).then_some(lits)
}

impl Prefilter {
    /// Groups the rules that may take part; `rules` is the rule set's rule list.
    pub(crate) fn build(rules: &[Rule], phases: &[Vec<Entry>; 5]) -> Result<Prefilter, String> {
        struct Pending {
            groups: Vec<Group>,
            /// Transformation list → group in the unit.
            index: FxHashMap<u32, u8>,
            literals: FxHashMap<Vec<u8>, Owners>,
            slots: Vec<Vec<u32>>,
        }
        // Rule index → its stretch: a new one starts at each marker and after each rule that
        // skips, so that a unit's rules run or are skipped together.
        let mut stretch: Vec<Option<u32>> = vec![None; rules.len()];
        let mut n = 0u32;
        for list in phases {
            n += 1;
            for e in list {
                match e {
                    Entry::Marker => n += 1,
                    Entry::Rule { idx, skip_to } => {
                        if let Some(s) = stretch.get_mut(*idx) {
                            *s = Some(n);
                        }
                        let skips = rules.get(*idx).is_some_and(|r| r.actions.skip > 0);
                        if skip_to.is_some() || skips {
                            n += 1;
                        }
                    }
                }
            }
        }
        let mut units: Vec<(u32, Pending)> = Vec::new();
        let mut pf = Prefilter {
            by_rule: vec![None; rules.len()],
            ..Prefilter::default()
        };
        for (idx, rule) in rules.iter().enumerate() {
            let (Some(lits), Some(Some(at))) = (literals_of(rule), stretch.get(idx)) else {
                continue;
            };
            // The stretch's last unit, or a new one when it is full.
            let last = units.iter().rposition(|(s, _)| s == at);
            let fits = last.and_then(|u| units.get(u)).is_some_and(|(_, p)| {
                p.index.contains_key(&rule.chain_idx) || p.groups.len() < UNIT_GROUPS
            });
            let u = match last {
                Some(u) if fits => u,
                _ => {
                    units.push((
                        *at,
                        Pending {
                            groups: Vec::new(),
                            index: FxHashMap::default(),
                            literals: FxHashMap::default(),
                            slots: Vec::new(),
                        },
                    ));
                    units.len() - 1
                }
            };
            let Some((_, p)) = units.get_mut(u) else {
                continue;
            };
            let slot = u32::try_from(pf.slot_unit.len()).map_err(|e| e.to_string())?;
            pf.slot_unit
                .push(u32::try_from(u).map_err(|e| e.to_string())?);
            if let Some(s) = pf.by_rule.get_mut(idx) {
                *s = Some(slot);
            }
            let next = u8::try_from(p.groups.len()).map_err(|e| e.to_string())?;
            let g = *p.index.entry(rule.chain_idx).or_insert_with(|| {
                p.groups.push(Group {
                    chain_idx: rule.chain_idx,
                    targets: Vec::new(),
                });
                next
            });
            if let Some(group) = p.groups.get_mut(usize::from(g)) {
                for t in &rule.targets {
                    add_target(&mut group.targets, t);
                }
            }
            if p.slots.len() <= usize::from(g) {
                p.slots.resize_with(usize::from(g) + 1, Vec::new);
            }
            if let Some(s) = p.slots.get_mut(usize::from(g)) {
                s.push(slot);
            }
            for l in lits {
                p.literals
                    .entry(l.to_ascii_lowercase())
                    .or_default()
                    .push((g, slot));
            }
        }
        for (_, p) in units {
            let (lits, owners): (Vec<Vec<u8>>, Vec<Owners>) = p.literals.into_iter().unzip();
            let ac = AhoCorasickBuilder::new()
                .ascii_case_insensitive(true)
                .match_kind(MatchKind::Standard)
                .build(&lits)
                .map_err(|e| format!("cannot build the prefilter: {e}"))?;
            pf.units.push(Unit {
                groups: p.groups,
                ac,
                owners,
                slots: p.slots,
            });
        }
        Ok(pf)
    }

    /// The rule's slot, if it takes part.
    pub(crate) fn slot(&self, rule_idx: usize) -> Option<u32> {
        self.by_rule.get(rule_idx).copied().flatten()
    }

    /// Whether rule `idx` may match: a rule that does not take part always may; the first
    /// rule of a unit to ask searches the unit's values. Records the rule's slot for
    /// [`must_test`].
    pub(crate) fn may_match(
        &self,
        idx: usize,
        chains: &[ChainStep],
        data: &TxData,
        caches: &mut Caches,
    ) -> bool {
        caches.prefilter.current = None;
        let Some(slot) = self.slot(idx) else {
            return true;
        };
        let Some(u) = self.slot_unit.get(slot as usize).copied() else {
            return true;
        };
        let state = &mut caches.prefilter;
        state.current = Some(slot);
        if state.searched.is_empty() {
            state.searched = vec![false; self.units.len()];
            state.hit = vec![false; self.slot_unit.len()];
        }
        if !state.searched.get(u as usize).copied().unwrap_or(true) {
            if let Some(unit) = self.units.get(u as usize) {
                unit.search(chains, data, caches);
            }
            if let Some(s) = caches.prefilter.searched.get_mut(u as usize) {
                *s = true;
            }
        }
        caches
            .prefilter
            .hit
            .get(slot as usize)
            .copied()
            .unwrap_or(true)
    }
}

impl Unit {
    /// Collects and transforms the values of every group, and searches each distinct result
    /// once, recording which slots may match and in which values.
    fn search(&self, chains: &[ChainStep], data: &TxData, caches: &mut Caches) {
        let info = RuleInfo {
            id: 0,
            msg: "",
            severity: None,
            rev: "",
            ver: "",
            phase: 0,
        };
        // Every group's values, kept together so that a value's address identifies it.
        let mut values = variables::Values::new();
        let Scratch {
            mut ends,
            mut inputs,
            mut seen,
        } = std::mem::take(&mut caches.prefilter.scratch);
        ends.clear();
        inputs.clear();
        seen.clear();
        for group in &self.groups {
            for t in &group.targets {
                variables::collect(t.var, &t.sel, data, &info, &mut values);
            }
            ends.push(values.len());
        }
        // Distinct values after transformation.
        let mut start = 0;
        for (g, (group, &end)) in self.groups.iter().zip(&ends).enumerate() {
            let bit = 1u64 << g;
            for (i, v) in values.iter().enumerate().take(end).skip(start) {
                let owned = transformed(caches, chains, v, group.chain_idx);
                let bytes: &[u8] = owned.as_deref().unwrap_or(&v.value);
                let key = (bytes.as_ptr() as usize, bytes.len());
                match seen.get(&key).and_then(|&k| inputs.get_mut(k)) {
                    Some(input) => input.groups |= bit,
                    None => {
                        seen.insert(key, inputs.len());
                        inputs.push(Input {
                            transformed: owned,
                            index: i,
                            groups: bit,
                        });
                    }
                }
            }
            start = end;
        }
        let state = &mut caches.prefilter;
        for input in &inputs {
            let Some(v) = values.get(input.index) else {
                continue;
            };
            let bytes: &[u8] = input.transformed.as_deref().unwrap_or(&v.value);
            if bytes.len() > LARGE_VALUE {
                let produced = self
                    .slots
                    .iter()
                    .enumerate()
                    .filter(|(g, _)| input.groups & (1u64 << g) != 0);
                for &slot in produced.flat_map(|(_, slots)| slots) {
                    if let Some(h) = state.hit.get_mut(slot as usize) {
                        *h = true;
                    }
                }
                continue;
            }
            for m in self.ac.find_overlapping_iter(bytes) {
                let owners = self
                    .owners
                    .get(m.pattern().as_usize())
                    .into_iter()
                    .flatten();
                for &(_, slot) in owners.filter(|(g, _)| input.groups & (1u64 << g) != 0) {
                    if let Some(h) = state.hit.get_mut(slot as usize) {
                        *h = true;
                    }
                    if stable(v) {
                        state
                            .found
                            .insert((slot, bytes.as_ptr() as usize, bytes.len()));
                    }
                }
            }
        }
        inputs.clear();
        state.scratch = Scratch { ends, inputs, seen };
    }
}

/// Adds `t` to a group's variables unless they already yield its values.
fn add_target(targets: &mut Vec<Target>, t: &Target) {
    use crate::collection::KeySel;
    // An `XML` key is an XPath, not a filter: only the same one covers it.
    let covered = targets.iter().any(|x| {
        x.var == t.var
            && (same_sel(&x.sel, &t.sel) || (x.var != Var::Xml && matches!(x.sel, KeySel::All)))
    });
    if covered {
        return;
    }
    if t.var != Var::Xml && matches!(t.sel, KeySel::All) {
        targets.retain(|x| x.var != t.var);
    }
    targets.push(t.clone());
}

#[cfg(test)]
mod tests {
    use crate::RuleSet;
    use std::path::Path;
    use std::sync::Arc;

    fn set(rules: &str) -> Arc<RuleSet> {
        let text = format!("SecRuleEngine On\n{rules}\n");
        Arc::new(RuleSet::from_str(&text, Path::new("t.conf")).unwrap_or_else(|e| panic!("{e}")))
    }

    fn matched(set: &Arc<RuleSet>, uri: &str) -> Vec<u64> {
        let mut tx = set.transaction();
        tx.process_uri(uri.as_bytes(), "GET", "HTTP/1.1");
        tx.add_request_header(b"Host", b"example.com");
        tx.process_request_headers();
        tx.process_request_body();
        tx.matched_rules().iter().map(|m| m.id).collect()
    }

    #[test]
    fn only_rules_that_can_be_skipped_soundly_take_part() {
        let s = set(r#"
SecRule ARGS "@rx (?i)union\s+select" "id:1,phase:2,pass"
SecRule ARGS|REQUEST_HEADERS:Host "@pm foo bar" "id:2,phase:2,pass"
SecRule TX:x "@rx abc" "id:3,phase:2,pass"
SecRule ARGS "!@rx abc" "id:4,phase:2,pass"
SecRule ARGS "@rx ^$" "id:5,phase:2,pass"
SecRule &ARGS "@rx 1" "id:6,phase:2,pass"
SecRule ARGS "@rx %{tx.x}" "id:7,phase:2,pass"
SecRule MATCHED_VARS "@rx abc" "id:8,phase:2,pass"
SecRule ARGS "@rx abc" "id:9,phase:2,pass,multiMatch"
"#);
        let with_slot: Vec<u64> = (0..s.rules.len())
            .filter(|&i| s.prefilter.slot(i).is_some())
            .filter_map(|i| s.rules.get(i).map(|r| r.id))
            .collect();
        assert_eq!(with_slot, vec![1, 2]);
    }

    #[test]
    fn rules_are_skipped_only_when_they_cannot_match() {
        let s = set(r#"
SecRule ARGS "@rx (?i)union\s+select" "id:1,phase:2,pass,t:none,t:urlDecodeUni"
SecRule ARGS_NAMES|ARGS "@pm evil" "id:2,phase:2,pass,t:none,t:lowercase"
SecRule ARGS "@rx (?i)<script" "id:3,phase:1,pass,t:none,t:urlDecodeUni,t:htmlEntityDecode"
"#);
        assert!(matched(&s, "/?q=hello").is_empty());
        // The literal shows only after the rule's transformations: the search sees that too.
        assert_eq!(matched(&s, "/?q=1%2520UNION%2520%2573elect%25202"), vec![1]);
        assert_eq!(matched(&s, "/?EVIL=1"), vec![2]);
        assert_eq!(matched(&s, "/?a=%26lt;SCRIPT%26gt;"), vec![3]);
        assert_eq!(matched(&s, "/?q=union+select&x=evil"), vec![1, 2]);
        // Only the values the search found a literal in are tested, and those still match.
        assert_eq!(matched(&s, "/?a=hello&b=UNION+SELECT&c=x"), vec![1]);
    }

    /// A value too large to search lets its rules through: they still see everything.
    #[test]
    fn large_values_are_left_to_the_rules() {
        let s = set(r#"
SecRequestBodyAccess On
SecRule REQUEST_BODY "@rx (?i)needle" "id:1,phase:2,pass"
SecRule REQUEST_BODY "@rx (?i)other" "id:2,phase:2,pass"
"#);
        for (size, expect) in [(100, vec![1]), (super::LARGE_VALUE + 1, vec![1])] {
            let mut body = vec![b'a'; size];
            body.extend_from_slice(b"NEEDLE");
            let mut tx = s.transaction();
            tx.process_uri(b"/", "POST", "HTTP/1.1");
            tx.add_request_header(b"Host", b"example.com");
            tx.add_request_header(b"Content-Type", b"text/plain");
            tx.process_request_headers();
            tx.append_request_body(&body);
            tx.process_request_body();
            let ids: Vec<u64> = tx.matched_rules().iter().map(|m| m.id).collect();
            assert_eq!(ids, expect, "body of {size} bytes");
        }
    }
}
