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
use crate::rule::{OpKind, Rule, Target};
use crate::ruleset::{same_sel, Entry};
use crate::variables::{Var, VarValue};
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use rustc_hash::{FxHashMap, FxHashSet};

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

    /// The unit of a slot.
    pub(crate) fn unit_of(&self, slot: u32) -> Option<u32> {
        self.slot_unit.get(slot as usize).copied()
    }

    pub(crate) fn slots(&self) -> usize {
        self.slot_unit.len()
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
