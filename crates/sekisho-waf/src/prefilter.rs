//! The prefilter: skips, in one search per value, every rule that cannot match.
//!
//! Most rules of a rule set like the CRS test request data with an operator that cannot match
//! unless the value contains one of a few literals (`@rx (?i)union\s+select` needs `union`,
//! `@pm` needs one of its phrases; see [`Operator::required_literals`]). A benign request
//! matches almost none of them, yet evaluating each rule costs collecting its variables,
//! transforming the values and running the operator, rule after rule.
//!
//! So the rules of a phase are grouped by transformation list, and the groups of the phase
//! form a unit (up to 64 groups; a phase with more has several) with one search automaton
//! over the literals of all its rules. When a phase first reaches a rule of a unit, every
//! group's variables are collected and each value transformed (through the same cache the
//! rules use); each distinct resulting value is searched once (Aho-Corasick, ASCII
//! case-insensitive), and a literal found lets through the rules that need it in the groups
//! that produced that value. Most values come out of most transformation lists unchanged, so
//! a value is searched once, not once per group; and one search per phase, not one per CRS
//! file and paranoia level, means a value is searched once even though many files test it.
//! One-byte literals (`@rx [<>]`, say) would be reported at nearly every byte: they are
//! looked up in the set of bytes a value holds instead.
//!
//! A rule whose literals did not occur is skipped without being evaluated; a rule that
//! passes tests only the values its literals were found in (it passes over its other values
//! before transforming them when there are at most two). The search only ever lets a rule
//! through that might match, never decides a match itself. Values over [`LARGE_VALUE`] are
//! not searched: their rules run in full.
//!
//! A rule takes part only when skipping it is sound: its first link's operator is built at
//! load (no macros), is not negated, and has a literal set (not one of many lone letters and
//! digits, which nearly every value holds); and its variables hold request
//! or response data, which no rule can change within a phase (never `TX`, `MATCHED_VARS`,
//! counts `&VAR`, …). A `multiMatch` rule, which tests each value after every transformation
//! of its list, is searched for in the values its list leaves unchanged (they hold none of
//! its trigger bytes: every stage is the value itself); any other value it reads lets it
//! through, and the rule then tests each stage of such a value for its literals before
//! running its operator there ([`Gate`]); a value without the literals that no
//! transformation of the list can make them of (`t:cmdLine` makes `..` only by deleting
//! quotes between dots) is passed over untransformed. Transforming the values for every
//! stage in the search cost more than the rules it skipped.
//!
//! A literal lets through only the rules that read the value it was found in (rules of a
//! group share a transformation list, not their variables).

use crate::byteset::ByteSet;
use crate::collection::KeySel;
use crate::operators::Operator;
use crate::rule::{ChainStep, OpKind, Rule, Target};
use crate::ruleset::{same_sel, Entry};
use crate::transaction::data::TxData;
use crate::transaction::eval::{transformed_with, UNCHANGED_SCAN};
use crate::transaction::Caches;
use crate::transformations::{Grows, Transformation, TRANSFORMATIONS};
use crate::variables::{self, RuleInfo, Var, VarValue};
use aho_corasick::automaton::Automaton as _;
use aho_corasick::automaton::StateID;
use aho_corasick::dfa::DFA;
use aho_corasick::{Anchored, MatchKind, StartKind};
use rustc_hash::FxHashMap;
use std::sync::Arc;

/// Groups per unit: a value's groups are one bit each of a `u64`.
const UNIT_GROUPS: usize = 64;

/// Literals are searched for by at most their first this many bytes (more when many share
/// them: [`split_crowded`]), and a longer one is then compared whole where its beginning was
/// found. Searching for whole literals would make the DFA much larger: a process that loads
/// the CRS peaks at 90 MB with literals uncut, 36 MB with them cut here.
const LITERAL_CUT: usize = 6;

/// The prefilter of a rule set: built once with it.
#[derive(Debug, Default)]
pub(crate) struct Prefilter {
    pub units: Vec<Unit>,
    /// Rule index → its slot.
    by_rule: Vec<Option<Slot>>,
    /// Rule index → its literals, for a taking-part `multiMatch` rule (see [`Gate`]).
    gates: FxHashMap<usize, Gate>,
}

/// A `multiMatch` rule's literals, tested on each form of a value before the rule's operator
/// runs on it. The unit's search lets such a rule through on any value its list may change
/// (see the module doc), and the forms its list makes of a benign value (`t:base64Decode` of
/// a word is a few random bytes) seldom hold a literal: testing one costs a small fraction
/// of running a large pattern.
#[derive(Debug)]
pub(crate) struct Gate {
    /// The one-byte literals, both cases.
    bytes: Bytes,
    /// The longer ones.
    words: Words,
    /// The rule's transformations, in order, as they may make one of the literals.
    stages: Vec<Stage>,
    /// The length of the shortest literal: a shorter value holds none.
    shortest: usize,
}

/// A transformation as it may make one of a gate's literals (see
/// [`crate::transformations::Makes`]); byte sets hold both cases.
#[derive(Debug)]
struct Stage {
    triggers: ByteSet,
    /// Bytes that let it make one.
    makes: ByteSet,
    /// Bytes that let it add `adds`, which no literal holds.
    some: ByteSet,
    adds: ByteSet,
    grows: Grows,
}

#[derive(Debug)]
enum Bytes {
    None,
    /// Up to three: found with `memchr`.
    Few(Vec<u8>),
    Set(ByteSet),
}

#[derive(Debug)]
enum Words {
    None,
    /// One literal without letters (`..`): case does not matter, a SIMD search finds it.
    One(memchr::memmem::Finder<'static>),
    /// Blind to ASCII case.
    Dfa(DFA),
}

impl Gate {
    fn new(literals: &[Vec<u8>], list: &[&Transformation]) -> Result<Gate, String> {
        // Every byte of every literal, both cases.
        let held = literals
            .iter()
            .fold(ByteSet::EMPTY, |set, l| set.union(ByteSet::of(l)))
            .either_case();
        let stages = list
            .iter()
            .map(|t| {
                let m = t.makes;
                // What its `some` bytes add may complete a literal: as good as anything.
                let (makes, some, adds) = if m.with.either_case().intersects(held) {
                    (m.any.union(m.some), ByteSet::EMPTY, ByteSet::EMPTY)
                } else {
                    (m.any, m.some, m.with)
                };
                Stage {
                    triggers: t.triggers.either_case(),
                    makes: makes.either_case(),
                    some: some.either_case(),
                    adds: adds.either_case(),
                    grows: t.grows,
                }
            })
            .collect();
        let shortest = literals.iter().map(Vec::len).min().unwrap_or(0);
        let mut set = ByteSet::EMPTY;
        let mut words = Vec::new();
        for l in literals {
            match l.as_slice() {
                [b] => {
                    set.insert(b.to_ascii_lowercase());
                    set.insert(b.to_ascii_uppercase());
                }
                _ => words.push(l.as_slice()),
            }
        }
        let few: Vec<u8> = set.bytes().collect();
        let bytes = match few.len() {
            0 => Bytes::None,
            1..=3 => Bytes::Few(few),
            _ => Bytes::Set(set),
        };
        let words = match words.as_slice() {
            [] => Words::None,
            [w] if !w.iter().any(u8::is_ascii_alphabetic) => {
                Words::One(memchr::memmem::Finder::new(w).into_owned())
            }
            _ => Words::Dfa(
                DFA::builder()
                    .ascii_case_insensitive(true)
                    .match_kind(MatchKind::Standard)
                    .start_kind(StartKind::Unanchored)
                    .prefilter(false)
                    .build(words)
                    .map_err(|e| format!("cannot build the prefilter: {e}"))?,
            ),
        };
        Ok(Gate {
            bytes,
            words,
            stages,
            shortest,
        })
    }

    /// Whether no stage of the rule's list can hold one of its literals, for a value of
    /// `len` bytes that holds the bytes `present` and none of the literals: then the value
    /// needs no transforming. A stage may hold one once a transformation may have made one
    /// (and every later stage too), unless it is shorter than every literal.
    pub(crate) fn nothing_made(&self, len: usize, present: ByteSet) -> bool {
        let (mut len, mut present, mut made) = (len, present, false);
        for st in &self.stages {
            // (`triggered_by`: a transformation that may change any value changes the empty
            // one too: `t:length` makes `0` of it.)
            if !st.triggers.triggered_by(present) {
                // Leaves the value as it is.
                continue;
            }
            len = st.grows.bound(len);
            if st.makes.triggered_by(present) {
                // Any byte may come out of it, and a literal.
                present = ByteSet::ALL;
                made = true;
            } else if st.some.intersects(present) {
                present = present.union(st.adds);
            }
            if made && len >= self.shortest {
                return false;
            }
        }
        true
    }

    /// Whether `input` holds one of the literals (else the rule's operator cannot match it).
    pub(crate) fn passes(&self, input: &[u8]) -> bool {
        let byte = match &self.bytes {
            Bytes::None => false,
            Bytes::Few(b) => match b.as_slice() {
                [a] => memchr::memchr(*a, input).is_some(),
                [a, b] => memchr::memchr2(*a, *b, input).is_some(),
                [a, b, c] => memchr::memchr3(*a, *b, *c, input).is_some(),
                _ => true,
            },
            Bytes::Set(set) => input.iter().any(|&b| set.contains(b)),
        };
        byte || match &self.words {
            Words::None => false,
            Words::One(f) => f.find(input).is_some(),
            Words::Dfa(dfa) => holds_any(dfa, input),
        }
    }
}

/// The transformations of the rule's list, in order (`None` if one is not in the registry).
fn list_of(chains: &[ChainStep], rule: &Rule) -> Option<Vec<&'static Transformation>> {
    let mut list = Vec::new();
    let mut at = rule.chain_idx;
    while let Some(step) = chains.get(at as usize).filter(|s| s.func.is_some()) {
        list.push(TRANSFORMATIONS.get(step.func_id as usize)?);
        at = step.parent;
    }
    list.reverse();
    Some(list)
}

/// Whether `bytes` holds a literal of `dfa` (walked by hand: short values are the rule, and
/// a search through the crate's front door costs more in setting up than in walking).
fn holds_any(dfa: &DFA, bytes: &[u8]) -> bool {
    let Ok(mut sid) = dfa.start_state(Anchored::No) else {
        return true;
    };
    for &b in bytes {
        sid = dfa.next_state(Anchored::No, sid, b);
        if dfa.is_match(sid) {
            return true;
        }
    }
    false
}

/// Where a taking-part rule's findings are kept: its unit and its index there.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Slot {
    unit: u32,
    index: u32,
    /// Its rule's group in the unit.
    group: u8,
}

/// One entry of a phase as its walk reads it: what it needs to pass over the entry, for
/// every entry in one compact array. Looking each rule's folded outcome and prefilter slot
/// up where they are kept cost a cache miss every few rules (~400 entries per request).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Step {
    /// The rule's index (`u32::MAX`: a marker).
    pub idx: u32,
    /// Its prefilter unit and slot there, when it takes part and has no folded outcome.
    pub unit: u32,
    pub slot: u32,
    /// How many entries from here on are such rules of the same unit with consecutive
    /// slots (0 for any other entry): the walk passes over those the search let not through
    /// in one step ([`Prefilter::skip`]).
    pub run: u16,
    /// Decided at load never to match (`fold.rs`).
    pub never: bool,
    /// Decided at load either way.
    pub decided: bool,
}

impl Step {
    pub(crate) const MARKER: Step = Step {
        idx: u32::MAX,
        unit: u32::MAX,
        slot: 0,
        run: 0,
        never: false,
        decided: false,
    };
}

/// The rules that need one literal: (group in the unit, slot index in the unit).
pub(crate) type Owners = Vec<(u8, u32)>;

/// Groups of one phase searched together.
#[derive(Debug)]
pub(crate) struct Unit {
    pub groups: Vec<Group>,
    /// Every variable of the unit once, with the groups that read it (one bit each).
    pub targets: Vec<(Target, u64)>,
    /// The literals of two bytes or more (`None` when there are none).
    pub ac: Option<DFA>,
    /// Searched literal (pattern id) → its entries in `whole`.
    pub owners: Vec<std::ops::Range<usize>>,
    /// Every literal whole (lower case), grouped by searched beginning, with the rules that
    /// need it.
    pub whole: Vec<(Box<[u8]>, Owners)>,
    /// One-byte literal (lower case, as an index) → the rules that need it.
    pub byte_owners: Vec<Owners>,
    /// The one-byte literals as a set, both cases.
    pub byte_set: ByteSet,
    /// Group → its rules' slots (let through together when a value is too large to search).
    pub slots: Vec<Vec<u32>>,
    /// How many rules take part in the unit.
    pub n_slots: u32,
    /// Slot → the classes of variables (bits of [`class_bit`]) its rule reads.
    pub reads: Vec<u64>,
    /// Unit variable (in `targets`) → the classes its values may belong to, each with the
    /// selector a value's key must pass when narrower than the variable's.
    pub target_classes: Vec<Vec<(u64, Option<KeySel>)>>,
}

/// A class's bit in a mask of classes: its index, the 64th and later sharing the last bit
/// (a value of one of them then counts as one of all of them).
fn class_bit(index: usize) -> u64 {
    1u64 << index.min(63)
}

/// Whether the variable's values are the members of a collection whose keys its selector
/// picks (so that a value's key tells which selectors pick it).
fn selects_by_key(var: Var) -> bool {
    matches!(
        var,
        Var::Args
            | Var::ArgsNames
            | Var::ArgsGet
            | Var::ArgsGetNames
            | Var::ArgsPost
            | Var::ArgsPostNames
            | Var::RequestHeaders
            | Var::RequestHeadersNames
            | Var::RequestCookies
            | Var::RequestCookiesNames
            | Var::ResponseHeaders
            | Var::ResponseHeadersNames
    )
}

/// Whether two selectors of the same variable may pick the same member.
fn may_share_values(a: &KeySel, b: &KeySel) -> bool {
    match (a, b) {
        (KeySel::Exact(x), KeySel::Exact(y)) => x == y,
        _ => true,
    }
}

/// Rules of one phase sharing a transformation list.
#[derive(Debug)]
pub(crate) struct Group {
    /// The transformation list, in the rule set's table.
    pub chain_idx: u32,
    /// Its trigger bytes ([`ChainStep::triggers`]).
    pub triggers: ByteSet,
    /// Its trigger bytes but those of letter-case changes ([`ChainStep::case_blind_triggers`]).
    pub case_blind: ByteSet,
    /// Every variable any rule of the group reads (duplicates removed).
    pub targets: Vec<Target>,
    /// The rules are `multiMatch`: they test a value after each transformation of the list.
    /// A value holding none of the list's trigger bytes is the same after each one, and is
    /// searched as it is; any other value lets the rules reading it through.
    pub multi: bool,
}

/// Marks a group key (in [`Pending::index`]) as the `multiMatch` group of a list.
const MULTI_GROUP: u64 = 1 << 32;

/// Per-transaction results: which units were searched, which rules may match.
#[derive(Debug, Default)]
pub(crate) struct PrefilterState {
    units: Vec<UnitState>,
    /// The slot of the rule being evaluated, if it takes part.
    current: Option<Slot>,
    /// Buffers of [`Unit::search`], kept between searches: allocating them per search cost
    /// more than the bookkeeping they hold.
    scratch: Scratch,
}

/// What the search of one unit found.
#[derive(Debug, Default)]
struct UnitState {
    searched: bool,
    /// How many values its last search collected.
    values: usize,
    /// `u64` words of one row of `found`.
    words: usize,
    /// Slot → whether its rule may match (one bit each).
    hit: Vec<u64>,
    /// Address and length of each searched value that keeps its address for the phase (see
    /// [`stable`]) → its row in `found`, and the groups it was searched as the result of.
    rows: FxHashMap<(usize, usize), (usize, u64)>,
    /// Row × slot: whether a literal of that slot's rule occurred in that value. The rule
    /// then tests only those of its values.
    found: Vec<u64>,
    /// Slot → the values (as collected, before transformation) its literals occurred in,
    /// when few: the rule passes over its other values without transforming them.
    sources: Vec<Sources>,
}

/// Where a searched value came from: its row, and the address and length of the value it
/// was transformed from.
type Source = (usize, (usize, usize));

/// Up to two values a slot's literals occurred in (`n == MANY`: more, or one not kept).
#[derive(Debug, Default, Clone, Copy)]
struct Sources {
    n: u8,
    at: [(usize, usize); 2],
}

const MANY: u8 = u8::MAX;

impl Sources {
    fn add(&mut self, raw: Option<(usize, usize)>) {
        let Some(raw) = raw.filter(|_| self.n != MANY) else {
            self.n = MANY;
            return;
        };
        let known = self.at.get(..usize::from(self.n)).unwrap_or_default();
        if known.contains(&raw) {
            return;
        }
        match self.at.get_mut(usize::from(self.n)) {
            Some(slot) => {
                *slot = raw;
                self.n += 1;
            }
            None => self.n = MANY,
        }
    }
}

impl UnitState {
    fn hit(&mut self, from: Option<Source>, slot: u32) {
        let (w, bit) = (slot as usize / 64, 1u64 << (slot % 64));
        if let Some(h) = self.hit.get_mut(w) {
            *h |= bit;
        }
        if let Some(f) = from.and_then(|(r, _)| self.found.get_mut(r * self.words + w)) {
            *f |= bit;
        }
        if let Some(s) = self.sources.get_mut(slot as usize) {
            s.add(from.map(|(_, raw)| raw));
        }
    }
}

/// The most entries a recycled search buffer keeps allocated.
const KEPT: usize = 8192;

impl PrefilterState {
    /// Empty again for the next transaction, keeping what it allocated.
    pub(crate) fn reset(&mut self) {
        for u in &mut self.units {
            u.searched = false;
            u.hit.fill(0);
            u.rows.clear();
            u.found.clear();
            // A large body grows these far beyond a usual request's needs: do not keep that.
            u.rows.shrink_to(KEPT);
            u.found.shrink_to(KEPT);
        }
        self.current = None;
        self.scratch.inputs.clear();
        self.scratch.seen.clear();
        self.scratch.inputs.shrink_to(KEPT);
        self.scratch.seen.shrink_to(KEPT);
    }
}

#[derive(Debug, Default)]
struct Scratch {
    inputs: Vec<Input>,
    seen: FxHashMap<(usize, usize), usize>,
    /// Searched literal (pattern) → the last search (of `search_no`) that found every whole
    /// literal it begins: nothing more to learn from it in that value.
    reported: Vec<u32>,
    /// Whole literal (index in `Unit::whole`) → the last search that found it: each literal's
    /// owners are visited once per value, however often it occurs there.
    found: Vec<u32>,
    search_no: u32,
    /// Where the walks met match states, every searched value's in turn (see [`walk`]);
    /// at most one per byte of a searched value, each at most [`LARGE_VALUE`] long.
    ends: Vec<(usize, StateID)>,
    /// Input → its part of `ends`.
    spans: Vec<(usize, usize)>,
    /// The match states of [`walk`]'s two walks, each of its current text.
    lanes: [Vec<(usize, StateID)>; 2],
}

/// A distinct value after transformation, as a unit's search sees it.
#[derive(Debug)]
struct Input {
    /// The transformed value, or `None` for the value at `index` itself.
    transformed: Option<Arc<[u8]>>,
    index: usize,
    /// The groups that produced it, one bit each.
    groups: u64,
    /// The classes of variables it was found in ([`class_bit`]).
    classes: u64,
    /// Its bytes, when already known.
    present: Option<ByteSet>,
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
    if !stable(v) || input.len() > LARGE_VALUE {
        return true;
    }
    let Some(unit) = state.units.get(slot.unit as usize) else {
        return true;
    };
    let Some(&(row, groups)) = unit.rows.get(&(input.as_ptr() as usize, input.len())) else {
        // Not a value the search saw: test it.
        return true;
    };
    if groups & (1u64 << slot.group) == 0 {
        // Seen, but not as this rule's group's result (the group searched the value itself,
        // which its list changes only in letter case): what was found there is not about
        // this rule.
        return true;
    }
    let word = row * unit.words + slot.index as usize / 64;
    unit.found
        .get(word)
        .is_none_or(|w| w & (1u64 << (slot.index % 64)) != 0)
}

/// Whether the rule being evaluated must look at its value `v` (before transforming it):
/// no when the search found the rule's literals in other values only. [`must_test`] then
/// decides on the transformed value.
pub(crate) fn may_hold(state: &PrefilterState, v: &VarValue<'_>) -> bool {
    let Some(slot) = state.current else {
        return true;
    };
    if !stable(v) {
        return true;
    }
    let Some(s) = state
        .units
        .get(slot.unit as usize)
        .and_then(|u| u.sources.get(slot.index as usize))
    else {
        return true;
    };
    let raw = (v.value.as_ptr() as usize, v.value.len());
    s.n == MANY
        || s.at
            .get(..usize::from(s.n))
            .is_some_and(|k| k.contains(&raw))
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
        && !rule.targets.is_empty()
        && rule
            .targets
            .iter()
            .all(|t| !t.count && fixed_in_phase(t.var));
    if !eligible {
        return None;
    }
    let lits = Operator::required_literals(op.as_ref())?;
    // A set of many lone letters and digits (`[\da-f:]+`) lets the rule through for nearly
    // every value, after the search visited its entry at each such byte.
    let common = lits
        .iter()
        .filter(|l| matches!(l.as_slice(), [b] if b.is_ascii_alphanumeric()))
        .count();
    (common <= 8 && lits.iter().all(|l| !l.is_empty())).then_some(lits)
}

/// A searched beginning shared by more whole literals than this is searched for longer.
const CROWDED: usize = 16;

/// The longest a crowded beginning grows to.
const CROWDED_CUT: usize = 4 * LITERAL_CUT;

/// Searches the whole literals of a crowded beginning by longer ones. Each occurrence of a
/// beginning compares every whole literal it begins with the text there: the CRS has 96
/// that begin `<title` (web shell page titles), and every HTML page holds `<title`.
fn split_crowded(literals: FxHashMap<Vec<u8>, Wholes>) -> FxHashMap<Vec<u8>, Wholes> {
    let mut out: FxHashMap<Vec<u8>, Wholes> = FxHashMap::default();
    let mut todo: Vec<(usize, Vec<u8>, Wholes)> = literals
        .into_iter()
        .map(|(cut, full)| (LITERAL_CUT, cut, full))
        .collect();
    while let Some((cut, begin, full)) = todo.pop() {
        if full.len() <= CROWDED || cut >= CROWDED_CUT {
            out.entry(begin).or_default().extend(full);
            continue;
        }
        let longer = cut * 2;
        let mut split: FxHashMap<Vec<u8>, Wholes> = FxHashMap::default();
        for (l, o) in full {
            let begin = l.get(..longer).unwrap_or(&l).to_vec();
            split.entry(begin).or_default().insert(l, o);
        }
        todo.extend(split.into_iter().map(|(b, f)| (longer, b, f)));
    }
    out
}

/// Whole literal → the rules that need it.
type Wholes = FxHashMap<Vec<u8>, Owners>;

/// A unit being built.
#[derive(Default)]
struct Pending {
    groups: Vec<Group>,
    /// Transformation list (with [`MULTI_GROUP`] for `multiMatch` rules) → group in the unit.
    index: FxHashMap<u64, u8>,
    /// Searched beginning → whole literal → the rules that need it.
    literals: FxHashMap<Vec<u8>, Wholes>,
    bytes: FxHashMap<u8, Owners>,
    slots: Vec<Vec<u32>>,
    n_slots: u32,
    /// Slot → the variables its rule reads.
    reads: Vec<Vec<Target>>,
}

impl Pending {
    fn build(self) -> Result<Unit, String> {
        let literals = split_crowded(self.literals);
        let mut lits = Vec::with_capacity(literals.len());
        let mut owners = Vec::with_capacity(literals.len());
        let mut whole = Vec::new();
        for (cut, full) in literals {
            lits.push(cut);
            let start = whole.len();
            whole.extend(full.into_iter().map(|(l, o)| (l.into_boxed_slice(), o)));
            owners.push(start..whole.len());
        }
        let ac = if lits.is_empty() {
            None
        } else {
            // A DFA for the CRS's literals cut to `LITERAL_CUT`: a few MB, and about twice as
            // fast per byte as an NFA. Walked byte by byte (`each_match`).
            let ac = DFA::builder()
                .ascii_case_insensitive(true)
                .match_kind(MatchKind::Standard)
                .start_kind(StartKind::Unanchored)
                .prefilter(false)
                .build(&lits)
                .map_err(|e| format!("cannot build the prefilter: {e}"))?;
            Some(ac)
        };
        let mut targets: Vec<(Target, u64)> = Vec::new();
        for (g, group) in self.groups.iter().enumerate() {
            for t in &group.targets {
                let same = targets
                    .iter_mut()
                    .find(|(x, _)| x.var == t.var && same_sel(&x.sel, &t.sel));
                match same {
                    Some((_, mask)) => *mask |= 1 << g,
                    None => targets.push((t.clone(), 1 << g)),
                }
            }
        }
        // A literal lets through only the rules that read the value it was found in: a
        // group's rules share a transformation list, not their variables (the `j` of
        // `Accept-Language: ja` is no reason to evaluate a rule reading `ARGS`, nor one
        // reading `REQUEST_HEADERS:User-Agent`). Each distinct variable the unit's rules read
        // is a class; a value belongs to the classes that select it.
        let mut classes: Vec<Target> = Vec::new();
        for t in self.reads.iter().flatten() {
            if !classes
                .iter()
                .any(|c| c.var == t.var && same_sel(&c.sel, &t.sel))
            {
                classes.push(t.clone());
            }
        }
        let class_of = |t: &Target| {
            classes
                .iter()
                .position(|c| c.var == t.var && same_sel(&c.sel, &t.sel))
                .unwrap_or(usize::MAX)
        };
        let reads = self
            .reads
            .iter()
            .map(|rule_targets| {
                rule_targets
                    .iter()
                    .fold(0u64, |m, t| m | class_bit(class_of(t)))
            })
            .collect();
        let target_classes = targets
            .iter()
            .map(|(t, _)| {
                classes
                    .iter()
                    .enumerate()
                    .filter(|(_, c)| c.var == t.var && may_share_values(&c.sel, &t.sel))
                    .map(|(i, c)| {
                        // A narrower member selector is checked against each value's key.
                        let check = selects_by_key(t.var)
                            && !same_sel(&c.sel, &t.sel)
                            && matches!(c.sel, KeySel::Exact(_) | KeySel::Prefix(_));
                        (class_bit(i), check.then(|| c.sel.clone()))
                    })
                    .collect()
            })
            .collect();
        let mut byte_set = ByteSet::default();
        for &b in self.bytes.keys() {
            byte_set.insert(b);
            byte_set.insert(b.to_ascii_uppercase());
        }
        Ok(Unit {
            groups: self.groups,
            targets,
            ac,
            owners,
            whole,
            byte_owners: (0..=255u8)
                .map(|b| self.bytes.get(&b).cloned().unwrap_or_default())
                .collect(),
            byte_set,
            slots: self.slots,
            n_slots: self.n_slots,
            reads,
            target_classes,
        })
    }
}

impl Prefilter {
    /// Groups the rules that may take part; `rules` is the rule set's rule list.
    pub(crate) fn build(
        rules: &[Rule],
        phases: &[Vec<Entry>; 5],
        chains: &[ChainStep],
        folding: &crate::fold::Folding,
    ) -> Result<Prefilter, String> {
        let mut pf = Prefilter {
            by_rule: vec![None; rules.len()],
            ..Prefilter::default()
        };
        for list in phases {
            let mut units: Vec<Pending> = Vec::new();
            for e in list {
                let Entry::Rule { idx, .. } = e else {
                    continue;
                };
                let Some(rule) = rules.get(*idx) else {
                    continue;
                };
                // A rule no request reaches needs no search (and reports nothing).
                if !folding.reachable(*idx) {
                    continue;
                }
                let Some(lits) = literals_of(rule) else {
                    continue;
                };
                let group_key = u64::from(rule.chain_idx)
                    | if rule.actions.multi_match {
                        MULTI_GROUP
                    } else {
                        0
                    };
                // The phase's last unit, or a new one when it is full.
                let fits = units.last().is_some_and(|p| {
                    p.index.contains_key(&group_key) || p.groups.len() < UNIT_GROUPS
                });
                if !fits {
                    units.push(Pending::default());
                }
                let unit =
                    u32::try_from(pf.units.len() + units.len() - 1).map_err(|e| e.to_string())?;
                let Some(p) = units.last_mut() else {
                    continue;
                };
                let slot = p.n_slots;
                p.n_slots += 1;
                p.reads.push(rule.targets.clone());
                let next = u8::try_from(p.groups.len()).map_err(|e| e.to_string())?;
                let g = *p.index.entry(group_key).or_insert_with(|| {
                    p.groups.push(Group {
                        chain_idx: rule.chain_idx,
                        triggers: chains
                            .get(rule.chain_idx as usize)
                            .map_or(ByteSet::ALL, |c| c.triggers),
                        case_blind: chains
                            .get(rule.chain_idx as usize)
                            .map_or(ByteSet::ALL, |c| c.case_blind_triggers),
                        targets: Vec::new(),
                        multi: rule.actions.multi_match,
                    });
                    next
                });
                if let Some(s) = pf.by_rule.get_mut(*idx) {
                    *s = Some(Slot {
                        unit,
                        index: slot,
                        group: g,
                    });
                }
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
                if let Some(list) = list_of(chains, rule).filter(|_| rule.actions.multi_match) {
                    pf.gates.insert(*idx, Gate::new(&lits, &list)?);
                }
                for l in lits {
                    let owners = match l.as_slice() {
                        [b] => p.bytes.entry(b.to_ascii_lowercase()).or_default(),
                        // A value holding a literal holds its beginning: searching for that
                        // alone keeps the automaton small enough to be a DFA.
                        _ => p
                            .literals
                            .entry(l.get(..LITERAL_CUT).unwrap_or(&l).to_ascii_lowercase())
                            .or_default()
                            .entry(l.to_ascii_lowercase())
                            .or_default(),
                    };
                    if !owners.contains(&(g, slot)) {
                        owners.push((g, slot));
                    }
                }
            }
            for p in units {
                pf.units.push(p.build()?);
            }
        }
        Ok(pf)
    }

    /// When the rule of `step` (at position `at` of its phase) is one its unit's search,
    /// already run, let not through: the position of the first entry after it that is not
    /// such a rule of its run (the walk passes over the ones between; a rule that did not
    /// match leaves nothing behind but an empty `MATCHED_VARS`).
    pub(crate) fn skip(&self, step: &Step, at: usize, state: &PrefilterState) -> Option<usize> {
        if step.run == 0 {
            return None;
        }
        let unit = state.units.get(step.unit as usize).filter(|u| u.searched)?;
        let first = step.slot as usize;
        let end = first + usize::from(step.run);
        let let_through = |s: usize| {
            unit.hit
                .get(s / 64)
                .is_none_or(|w| w & (1u64 << (s % 64)) != 0)
        };
        if let_through(first) {
            return None;
        }
        // The next slot of the run the search let through, a word at a time.
        let mut s = first + 1;
        while s < end {
            let word = unit.hit.get(s / 64).map_or(u64::MAX, |w| w >> (s % 64));
            if word != 0 {
                s += word.trailing_zeros() as usize;
                break;
            }
            s = (s / 64 + 1) * 64;
        }
        Some(at + s.min(end) - first)
    }

    /// The walk of each phase ([`Step`]).
    pub(crate) fn walk(
        &self,
        phases: &[Vec<Entry>; 5],
        folding: &crate::fold::Folding,
    ) -> [Vec<Step>; 5] {
        phases.each_ref().map(|list| {
            let mut steps: Vec<Step> = list
                .iter()
                .map(|e| match e {
                    Entry::Marker => Step::MARKER,
                    Entry::Rule { idx, .. } => {
                        let outcome = folding.outcome(*idx);
                        let slot = self.slot(*idx).filter(|_| outcome.is_none());
                        Step {
                            idx: u32::try_from(*idx).unwrap_or(u32::MAX),
                            unit: slot.map_or(u32::MAX, |s| s.unit),
                            slot: slot.map_or(0, |s| s.index),
                            run: u16::from(slot.is_some()),
                            never: matches!(outcome, Some(crate::fold::Outcome::Never)),
                            decided: outcome.is_some(),
                        }
                    }
                })
                .collect();
            // From the end: a rule extends the run of the next entry when it continues it
            // (same unit, the next slot).
            for i in (0..steps.len()).rev() {
                let next = steps.get(i + 1).copied();
                if let Some(step) = steps.get_mut(i) {
                    if let Some(n) = next.filter(|n| {
                        step.run > 0 && n.run > 0 && n.unit == step.unit && n.slot == step.slot + 1
                    }) {
                        step.run = n.run.saturating_add(1);
                    }
                }
            }
            steps
        })
    }

    /// The rule's slot, if it takes part.
    pub(crate) fn slot(&self, rule_idx: usize) -> Option<Slot> {
        self.by_rule.get(rule_idx).copied().flatten()
    }

    /// Whether rule `idx` takes part and its unit's search, already run, let it not through:
    /// the walk of a phase passes over it without more ado (most rules of a request).
    pub(crate) fn skipped(&self, idx: usize, state: &PrefilterState) -> bool {
        let Some(slot) = self.slot(idx) else {
            return false;
        };
        state.units.get(slot.unit as usize).is_some_and(|u| {
            u.searched
                && u.hit
                    .get(slot.index as usize / 64)
                    .is_some_and(|w| w & (1u64 << (slot.index % 64)) == 0)
        })
    }

    /// The literals of a taking-part `multiMatch` rule.
    pub(crate) fn gate(&self, rule_idx: usize) -> Option<&Gate> {
        self.gates.get(&rule_idx)
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
        let state = &mut caches.prefilter;
        state.current = Some(slot);
        if state.units.len() < self.units.len() {
            state
                .units
                .resize_with(self.units.len(), UnitState::default);
        }
        let searched = state
            .units
            .get(slot.unit as usize)
            .is_none_or(|u| u.searched);
        if !searched {
            if let Some(unit) = self.units.get(slot.unit as usize) {
                unit.search(slot.unit as usize, chains, data, caches);
            }
        }
        caches
            .prefilter
            .units
            .get(slot.unit as usize)
            .and_then(|u| u.hit.get(slot.index as usize / 64))
            .is_none_or(|w| w & (1u64 << (slot.index % 64)) != 0)
    }
}

impl Unit {
    /// Collects and transforms the values of every group, and searches each distinct result
    /// once, recording which slots may match and in which values.
    fn search(&self, at: usize, chains: &[ChainStep], data: &TxData, caches: &mut Caches) {
        let info = RuleInfo {
            id: 0,
            msg: "",
            severity: None,
            rev: "",
            ver: "",
            phase: 0,
        };
        // Every value, kept together so that a value's address identifies it. Sized by the
        // last search of this unit: grown value by value past its inline room, it was moved
        // twice per search.
        let mut values = variables::Values::new();
        // At most a few hundred: one large body must not make every later search allocate
        // room for its values.
        let hint = caches
            .prefilter
            .units
            .get(at)
            .map_or(0, |u| u.values.min(256));
        values.reserve(hint);
        let Scratch {
            mut inputs,
            mut seen,
            mut reported,
            mut found,
            mut search_no,
            mut ends,
            mut spans,
            mut lanes,
        } = std::mem::take(&mut caches.prefilter.scratch);
        inputs.clear();
        seen.clear();
        // Distinct values after transformation. A value holding none of a list's trigger
        // bytes comes out of it as it is: one scan of the value covers every such list.
        // `multiMatch` group → the classes of the values that let its rules through.
        let mut escaped = [0u64; UNIT_GROUPS];
        for (ti, (t, mask)) in self.targets.iter().enumerate() {
            let start = values.len();
            variables::collect(t.var, &t.sel, data, &info, &mut values);
            let classes = self.target_classes.get(ti).map_or(&[][..], Vec::as_slice);
            for (i, v) in values.iter().enumerate().skip(start) {
                let from = classes
                    .iter()
                    .filter(|(_, sel)| sel.as_ref().is_none_or(|s| s.matches(&v.key)))
                    .fold(0u64, |m, (bit, _)| m | bit);
                // Long values (bodies) are not scanned: every list may change them.
                let known = (v.value.len() <= UNCHANGED_SCAN).then(|| {
                    if stable(v) {
                        caches.known.of(&v.value)
                    } else {
                        ByteSet::of(&v.value)
                    }
                });
                let present = known.unwrap_or(ByteSet::ALL);
                let mut unchanged = 0u64;
                // The groups reading this variable, one set bit each.
                let mut todo = *mask;
                while todo != 0 {
                    let g = todo.trailing_zeros() as usize;
                    let bit = 1u64 << g;
                    todo &= !bit;
                    let Some(group) = self.groups.get(g) else {
                        continue;
                    };
                    if !group.triggers.triggered_by(present) {
                        unchanged |= bit;
                        continue;
                    }
                    if group.multi {
                        if let Some(e) = escaped.get_mut(g) {
                            *e |= from;
                        }
                        continue;
                    }
                    // Changed at most in letter case: the search, blind to case, finds in the
                    // value itself what it would find in the list's result.
                    if !group.case_blind.triggered_by(present.either_case()) {
                        unchanged |= bit;
                        continue;
                    }
                    let mut bytes = known;
                    let owned = transformed_with(caches, chains, v, group.chain_idx, &mut bytes);
                    if owned.is_none() {
                        unchanged |= bit;
                    } else {
                        add_input(
                            &mut inputs,
                            &mut seen,
                            owned,
                            (i, &v.value),
                            (bit, from),
                            None,
                        );
                    }
                }
                if unchanged != 0 {
                    add_input(
                        &mut inputs,
                        &mut seen,
                        None,
                        (i, &v.value),
                        (unchanged, from),
                        known,
                    );
                }
            }
        }
        let Some(state) = caches.prefilter.units.get_mut(at) else {
            caches.prefilter.scratch = Scratch {
                inputs,
                seen,
                reported,
                found,
                search_no,
                ends,
                spans,
                lanes,
            };
            return;
        };
        let words = (self.n_slots as usize).div_ceil(64);
        state.searched = true;
        state.values = values.len();
        state.words = words;
        state.hit.clear();
        state.hit.resize(words, 0);
        state.sources.clear();
        state
            .sources
            .resize(self.n_slots as usize, Sources::default());
        // Shared by every unit, only ever grown: the search numbers left in them by other
        // units are older than any of this search, so they count as not found.
        if reported.len() < self.owners.len() {
            reported.resize(self.owners.len(), 0);
        }
        if found.len() < self.whole.len() {
            found.resize(self.whole.len(), 0);
        }
        for (slots, classes) in self.slots.iter().zip(escaped) {
            if classes == 0 {
                continue;
            }
            for &slot in slots {
                if self
                    .reads
                    .get(slot as usize)
                    .is_none_or(|r| r & classes != 0)
                {
                    state.hit(None, slot);
                }
            }
        }
        // Every value the automaton searches, walked before the findings are recorded.
        if let Some(ac) = &self.ac {
            let texts: Vec<&[u8]> = inputs
                .iter()
                .map(|input| {
                    let bytes = values.get(input.index).map_or(&[][..], |v| {
                        input.transformed.as_deref().unwrap_or(&v.value)
                    });
                    if bytes.len() > LARGE_VALUE {
                        &[]
                    } else {
                        bytes
                    }
                })
                .collect();
            walk(ac, &texts, &mut ends, &mut lanes, &mut spans);
        }
        for (k, input) in inputs.iter().enumerate() {
            let Some(v) = values.get(input.index) else {
                continue;
            };
            let bytes: &[u8] = input.transformed.as_deref().unwrap_or(&v.value);
            let in_groups = |g: &u8| input.groups & (1u64 << g) != 0;
            let reads_it = |&(g, slot): &(u8, u32)| {
                in_groups(&g)
                    && self
                        .reads
                        .get(slot as usize)
                        .is_none_or(|r| r & input.classes != 0)
            };
            if bytes.len() > LARGE_VALUE {
                let produced = self
                    .slots
                    .iter()
                    .enumerate()
                    .filter(|(g, _)| u8::try_from(*g).is_ok_and(|g| in_groups(&g)));
                for &slot in produced.flat_map(|(_, slots)| slots) {
                    state.hit(None, slot);
                }
                continue;
            }
            let row = stable(v).then(|| {
                let row = state.rows.len();
                state
                    .rows
                    .insert((bytes.as_ptr() as usize, bytes.len()), (row, input.groups));
                state.found.resize(state.found.len() + words, 0);
                (row, (v.value.as_ptr() as usize, v.value.len()))
            });
            let present = input
                .present
                .unwrap_or_else(|| ByteSet::of(bytes))
                .intersection(self.byte_set);
            if !present.is_empty() {
                for b in present.bytes() {
                    let owners = self.byte_owners.get(usize::from(b.to_ascii_lowercase()));
                    for &(_, slot) in owners.into_iter().flatten().filter(|o| reads_it(o)) {
                        state.hit(row, slot);
                    }
                }
            }
            let Some(ac) = &self.ac else {
                continue;
            };
            search_no = search_no.wrapping_add(1);
            if search_no == 0 {
                // Wrapped: forget every earlier search.
                reported.fill(0);
                found.fill(0);
                search_no = 1;
            }
            let met = spans
                .get(k)
                .and_then(|&(from, to)| ends.get(from..to))
                .unwrap_or_default();
            each_match(ac, met, |p, start, len| {
                match reported.get(p) {
                    Some(&r) if r != search_no => {}
                    _ => return,
                }
                let at = bytes.get(start..).unwrap_or_default();
                let mut all = true;
                for e in self.owners.get(p).cloned().into_iter().flatten() {
                    let (Some((lit, owners)), Some(seen)) = (self.whole.get(e), found.get_mut(e))
                    else {
                        continue;
                    };
                    if *seen == search_no {
                        continue;
                    }
                    // Only the beginning was searched for: the rest must follow.
                    let whole = lit.len() == len
                        || at
                            .get(..lit.len())
                            .is_some_and(|w| w.eq_ignore_ascii_case(lit));
                    if !whole {
                        all = false;
                        continue;
                    }
                    *seen = search_no;
                    for &(_, slot) in owners.iter().filter(|o| reads_it(o)) {
                        state.hit(row, slot);
                    }
                }
                if let Some(r) = reported.get_mut(p).filter(|_| all) {
                    *r = search_no;
                }
            });
        }
        inputs.clear();
        caches.prefilter.scratch = Scratch {
            inputs,
            seen,
            reported,
            found,
            search_no,
            ends,
            spans,
            lanes,
        };
    }
}

/// One of [`walk`]'s two walks: its text (index and bytes), where it is, its state.
struct Lane<'t> {
    k: usize,
    text: &'t [u8],
    at: usize,
    sid: StateID,
    /// The match states met in its text so far.
    met: Vec<(usize, StateID)>,
}

impl<'t> Lane<'t> {
    /// Starts on text `k`, if there is one.
    fn start(&mut self, texts: &[&'t [u8]], k: usize, sid: StateID) -> bool {
        let Some(&text) = texts.get(k) else {
            return false;
        };
        self.k = k;
        self.text = text;
        self.at = 0;
        self.sid = sid;
        self.met.clear();
        true
    }

    /// Moves its findings to `ends` and records where they are.
    fn finish(&mut self, ends: &mut Vec<(usize, StateID)>, spans: &mut [(usize, usize)]) {
        let from = ends.len();
        ends.extend_from_slice(&self.met);
        if let Some(span) = spans.get_mut(self.k) {
            *span = (from, ends.len());
        }
    }
}

/// Walks the DFA over each text and records the match states met: text `k`'s are
/// `ends[spans[k].0..spans[k].1]`, as (end position, state). Each step of a walk loads the
/// next state from the last, so one walk waits on every load; two walks go side by side
/// (each taking the next text when its own ends), and their loads overlap. (An iterator of
/// overlapping matches spent more on its bookkeeping than on the transitions, and reporting
/// inside the walk kept its state out of registers; so does inlining the walk into the
/// search.)
#[inline(never)]
fn walk(
    dfa: &DFA,
    texts: &[&[u8]],
    ends: &mut Vec<(usize, StateID)>,
    lanes: &mut [Vec<(usize, StateID)>; 2],
    spans: &mut Vec<(usize, usize)>,
) {
    ends.clear();
    spans.clear();
    spans.resize(texts.len(), (0, 0));
    let Ok(start) = dfa.start_state(Anchored::No) else {
        return;
    };
    let [buf_a, buf_b] = lanes;
    let lane = |met: &mut Vec<(usize, StateID)>| Lane {
        k: 0,
        text: &[],
        at: 0,
        sid: start,
        met: std::mem::take(met),
    };
    let (mut a, mut b) = (lane(buf_a), lane(buf_b));
    let (mut live_a, mut live_b) = (a.start(texts, 0, start), b.start(texts, 1, start));
    let mut next = 2;
    while live_a && live_b {
        let ra = a.text.get(a.at..).unwrap_or_default();
        let rb = b.text.get(b.at..).unwrap_or_default();
        // The states in locals, not in the lanes: kept in registers.
        let (mut sa, mut sb) = (a.sid, b.sid);
        for (i, (&x, &y)) in ra.iter().zip(rb).enumerate() {
            sa = dfa.next_state(Anchored::No, sa, x);
            sb = dfa.next_state(Anchored::No, sb, y);
            if dfa.is_match(sa) {
                a.met.push((a.at + i, sa));
            }
            if dfa.is_match(sb) {
                b.met.push((b.at + i, sb));
            }
        }
        (a.sid, b.sid) = (sa, sb);
        let n = ra.len().min(rb.len());
        a.at += n;
        b.at += n;
        if a.at >= a.text.len() {
            a.finish(ends, spans);
            live_a = a.start(texts, next, start);
            next += 1;
        }
        if b.at >= b.text.len() {
            b.finish(ends, spans);
            live_b = b.start(texts, next, start);
            next += 1;
        }
    }
    // The walk left goes on alone.
    let rest = if live_a {
        Some(&mut a)
    } else if live_b {
        Some(&mut b)
    } else {
        None
    };
    if let Some(l) = rest {
        loop {
            let mut sid = l.sid;
            for (i, &x) in l.text.iter().enumerate().skip(l.at) {
                sid = dfa.next_state(Anchored::No, sid, x);
                if dfa.is_match(sid) {
                    l.met.push((i, sid));
                }
            }
            l.finish(ends, spans);
            let more = l.start(texts, next, start);
            next += 1;
            if !more {
                break;
            }
        }
    }
    *buf_a = a.met;
    *buf_b = b.met;
}

/// Calls `f(pattern, start, length)` for every occurrence of every literal the match states
/// `met` of one walk ([`walk`]) stand for (overlapping ones too).
fn each_match(dfa: &DFA, met: &[(usize, StateID)], mut f: impl FnMut(usize, usize, usize)) {
    for &(end, sid) in met {
        for k in 0..dfa.match_len(sid) {
            let pid = dfa.match_pattern(sid, k);
            let len = dfa.pattern_len(pid);
            f(pid.as_usize(), (end + 1).saturating_sub(len), len);
        }
    }
}

/// Records that the groups `groups` produced `transformed` (or, when `None`, the value at
/// `index`, `raw`): a value seen before only gains the groups.
fn add_input(
    inputs: &mut Vec<Input>,
    seen: &mut FxHashMap<(usize, usize), usize>,
    transformed: Option<Arc<[u8]>>,
    (index, raw): (usize, &[u8]),
    (groups, classes): (u64, u64),
    present: Option<ByteSet>,
) {
    let bytes = transformed.as_deref().unwrap_or(raw);
    let key = (bytes.as_ptr() as usize, bytes.len());
    match seen.get(&key).and_then(|&k| inputs.get_mut(k)) {
        Some(input) => {
            input.groups |= groups;
            input.classes |= classes;
        }
        None => {
            seen.insert(key, inputs.len());
            inputs.push(Input {
                transformed,
                index,
                groups,
                classes,
                present,
            });
        }
    }
}

/// Adds `t` to a group's variables unless they already yield its values.
fn add_target(targets: &mut Vec<Target>, t: &Target) {
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
    use super::{ByteSet, Bytes, Gate, Words};
    use crate::RuleSet;
    use std::path::Path;
    use std::sync::Arc;

    fn set(rules: &str) -> Arc<RuleSet> {
        let text = format!("SecRuleEngine On\n{rules}\n");
        Arc::new(RuleSet::from_str(&text, Path::new("t.conf")).unwrap_or_else(|e| panic!("{e}")))
    }

    fn run(set: &Arc<RuleSet>, uri: &str) -> crate::Transaction {
        let mut tx = set.transaction();
        tx.process_uri(uri.as_bytes(), "GET", "HTTP/1.1");
        tx.add_request_header(b"Host", b"example.com");
        tx.process_request_headers();
        tx.process_request_body();
        tx
    }

    /// Whether the prefilter lets rule `id` through for what `tx` holds so far.
    fn may_match(s: &RuleSet, tx: &mut crate::Transaction, id: u64) -> bool {
        let idx = s
            .rules
            .iter()
            .position(|r| r.id == id)
            .unwrap_or(usize::MAX);
        s.prefilter
            .may_match(idx, &s.chains, &tx.data, &mut tx.caches)
    }

    /// Which rules each unit's search let through, one bit per slot.
    fn let_through(set: &Arc<RuleSet>, uri: &str) -> Vec<Vec<u64>> {
        let tx = run(set, uri);
        tx.caches
            .prefilter
            .units
            .iter()
            .map(|u| u.hit.clone())
            .collect()
    }

    fn matched(set: &Arc<RuleSet>, uri: &str) -> Vec<u64> {
        run(set, uri).matched_rules().iter().map(|m| m.id).collect()
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
        assert_eq!(with_slot, vec![1, 2, 9]);

        // After its unit's search, a rule let not through is passed over by the phase's walk;
        // one let through, one that takes no part, and any before the search are not.
        let idx = |id: u64| s.rules.iter().position(|r| r.id == id).unwrap();
        let mut tx = s.transaction();
        tx.process_uri(b"/?a=foo", "GET", "HTTP/1.1");
        assert!(!s.prefilter.skipped(idx(1), &tx.caches.prefilter));
        tx.process_request_headers();
        tx.process_request_body();
        let skipped = |id| s.prefilter.skipped(idx(id), &tx.caches.prefilter);
        assert!(skipped(1) && !skipped(2) && !skipped(4));
    }

    /// A `multiMatch` rule tests each value after every transformation of its list: a
    /// value holding none of the list's trigger bytes is searched as it is; any other lets
    /// the rule through.
    #[test]
    fn multi_match_rules_are_skipped_on_values_their_list_leaves_alone() {
        let s = set(r#"
SecRule ARGS "@rx (?i)proto" "id:1,phase:2,pass,multiMatch,t:none,t:urlDecodeUni,t:lowercase"
SecRule REQUEST_HEADERS "@rx (?i)proto" "id:2,phase:2,pass,multiMatch,t:none,t:urlDecodeUni,t:lowercase"
"#);
        let may = |uri: &str| {
            let mut tx = s.transaction();
            tx.process_uri(uri.as_bytes(), "GET", "HTTP/1.1");
            tx.add_request_header(b"Host", b"EXAMPLE.COM");
            [1, 2].map(|id| may_match(&s, &mut tx, id))
        };
        // The upper-case host triggers `t:lowercase`: only the rule reading it passes.
        assert_eq!(may("/?a=hello"), [false, true]);
        assert_eq!(may("/?a=xproto"), [true, true]);
        assert_eq!(may("/?a=%70roto"), [true, true]);
        assert_eq!(matched(&s, "/?a=%70roto&b=x"), vec![1]);
        assert_eq!(matched(&s, "/?a=hello"), Vec::<u64>::new());
    }

    #[test]
    fn multi_match_stages_are_tested_for_the_rules_literals() {
        // Each kind of gate: one literal without letters, words blind to case, a few bytes,
        // many bytes.
        let gate = |lits: &[&str]| {
            let lits: Vec<Vec<u8>> = lits.iter().map(|l| l.as_bytes().to_vec()).collect();
            Gate::new(&lits, &[]).unwrap()
        };
        let dots = gate(&[".."]);
        assert!(matches!(dots.words, Words::One(_)));
        assert!(dots.passes(b"a/../b") && !dots.passes(b"a.b.c"));
        let words = gate(&["while", "eval("]);
        assert!(matches!(words.words, Words::Dfa(_)));
        assert!(words.passes(b"x WhIlE(1)") && words.passes(b"EVAL(") && !words.passes(b"whil"));
        let few = gate(&["[", "x"]);
        assert!(matches!(few.bytes, Bytes::Few(_)));
        assert!(few.passes(b"a[") && few.passes(b"X") && !few.passes(b"abc"));
        let many = gate(&["<", ">", "'", "\""]);
        // What a list may make: `t:cmdLine` joins what it deletes quotes between, and its
        // spaces matter only to literals that hold a space, `/` or `(`.
        let t = |name: &str| crate::transformations::lookup(name).unwrap();
        let made = |g: &Gate, v: &[u8]| !g.nothing_made(v.len(), ByteSet::of(v));
        let dots = Gate::new(&[b"..".to_vec()], &[t("cmdLine")]).unwrap();
        assert!(!made(&dots, b"a b;c.d") && made(&dots, b"a\".d"));
        let spaced = Gate::new(&[b"a b".to_vec()], &[t("cmdLine")]).unwrap();
        assert!(made(&spaced, b"a,b") && !made(&spaced, b"a-b"));
        // Base64 makes anything, of a value long enough to decode to a literal.
        let decoded = Gate::new(&[b"eval".to_vec()], &[t("cmdLine"), t("base64Decode")]).unwrap();
        assert!(!made(&decoded, b"abcde") && made(&decoded, b"abcdef"));
        // A transformation that may change any value makes something of the empty one.
        let zero = Gate::new(&[b"0".to_vec()], &[t("length")]).unwrap();
        assert!(made(&zero, b"") && made(&zero, b"x"));
        assert!(matches!(many.bytes, Bytes::Set(_)));
        assert!(many.passes(b"a'b") && !many.passes(b"abc"));

        // A literal a later stage makes is found there; verdicts as without the prefilter.
        let text = r#"
SecRule ARGS "@rx (?:^|/)\.{2,3}/" "id:1,phase:2,pass,multiMatch,t:none,t:urlDecodeUni,t:removeNulls"
SecRule ARGS "@rx (?i)while\s*\(" "id:2,phase:2,pass,multiMatch,t:none,t:base64Decode,t:lowercase"
SecRule ARGS "@rx \[['\"]" "id:3,phase:2,pass,multiMatch,t:none,t:jsDecode"
SecRule ARGS "@rx (?:^|[/;])\.{2,3}[/;]" "id:4,phase:2,pass,multiMatch,t:none,t:utf8toUnicode,t:urlDecodeUni,t:removeNulls,t:cmdLine"
SecRule ARGS "@rx a b" "id:5,phase:2,pass,multiMatch,t:none,t:urlDecodeUni,t:cmdLine"
SecRule ARGS "@rx ^0$" "id:6,phase:2,pass,multiMatch,t:none,t:length"
"#;
        let with = set(text);
        let all = format!("SecRuleEngine On\n{text}\n");
        let without =
            RuleSet::from_str(&all, Path::new("t.conf")).unwrap_or_else(|e| panic!("{e}"));
        let without = Arc::new(without.without_prefilter());
        for (uri, want) in [
            ("/?a=%2e%2e/x", vec![1, 4]),
            ("/?a=.%00./x", vec![1, 4]),
            ("/?a=d2hpbGUgKDEp", vec![2]),
            ("/?a=x%5cx5c'", vec![]),
            ("/?a=x%5cx5b'", vec![3]),
            ("/?a=hello.world&b=d2hp", vec![]),
            // `t:cmdLine` deletes quotes, so that dots meet; turns `,` into a space.
            ("/?a=x/.%22./y", vec![4]),
            ("/?a=x/.^./y", vec![4]),
            ("/?a=x/.%20./y%20a,b", vec![5]),
            ("/?a=x/._./y&b=a%2bb", vec![5]),
            ("/?a=A%20%20B", vec![5]),
            // `t:length` makes `0` of the empty value.
            ("/?a=", vec![6]),
        ] {
            assert_eq!(matched(&with, uri), want, "{uri}");
            assert_eq!(matched(&without, uri), want, "{uri} without the prefilter");
        }
    }

    /// The gate's reasoning, for random lists of any registered transformations, random
    /// literals and random values: when it says no stage can hold a literal, none does.
    #[test]
    fn a_gate_passes_over_only_values_no_stage_holds_a_literal_of() {
        use crate::transformations::TRANSFORMATIONS;
        let mut next = crate::transformations::tests::xorshift(0x5eed_1234_abcd_ef01);
        let alphabet = b"aZ0 .,;/(\"'\\^%+2eE\t\0\xc3-*#&x5cuw";
        let mut pick = |n: usize| (next() % n as u64) as usize;
        let holds = |hay: &[u8], lit: &[u8]| {
            hay.to_ascii_lowercase()
                .windows(lit.len())
                .any(|w| w == lit.to_ascii_lowercase().as_slice())
        };
        let mut passed_over = 0;
        for _ in 0..40_000 {
            let list: Vec<_> = (0..1 + pick(3))
                .filter_map(|_| TRANSFORMATIONS.get(pick(TRANSFORMATIONS.len())))
                .collect();
            let literals: Vec<Vec<u8>> = (0..1 + pick(2))
                .map(|_| {
                    (0..1 + pick(3))
                        .filter_map(|_| alphabet.get(pick(alphabet.len())).copied())
                        .collect()
                })
                .collect();
            let value: Vec<u8> = (0..pick(10))
                .filter_map(|_| alphabet.get(pick(alphabet.len())).copied())
                .collect();
            let gate = Gate::new(&literals, &list).unwrap();
            if !gate.nothing_made(value.len(), ByteSet::of(&value)) || gate.passes(&value) {
                continue;
            }
            passed_over += 1;
            let mut stage = value.clone();
            for t in &list {
                stage = (t.func)(&stage).unwrap_or(stage);
                for l in &literals {
                    let names: Vec<_> = list.iter().map(|t| t.name).collect();
                    assert!(
                        !holds(&stage, l),
                        "{names:?} made {l:?} of {value:?}: {stage:?}"
                    );
                }
            }
        }
        assert!(
            passed_over > 1000,
            "too few values passed over: {passed_over}"
        );
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
        // Each of them: the last one matched names the rule's match, with one, two (the
        // values kept per rule) or three of them.
        for (uri, last) in [
            ("/?a=union+select&b=x", "ARGS:a"),
            ("/?a=union+select&b=x&c=UNION+SELECT", "ARGS:c"),
            (
                "/?a=union+select&b=union+select&c=x&d=UNION%20SELECT",
                "ARGS:d",
            ),
        ] {
            let tx = run(&s, uri);
            let names: Vec<_> = tx
                .matched_rules()
                .iter()
                .map(|m| m.matched_var_name.as_str())
                .collect();
            assert_eq!(names, vec![last], "{uri}");
        }
    }

    /// A list that changes a value only in letter case has the value itself searched; its
    /// rule then tests the lower-cased value, which another list may have had searched (as
    /// its own result, for its own rules): that finding is not taken for the first rule's.
    #[test]
    fn a_value_searched_for_another_list_is_not_taken_for_this_one() {
        let s = set(r#"
SecRule ARGS "@rx \\d" "id:1,phase:2,pass,t:none,t:htmlEntityDecode,t:lowercase"
SecRule ARGS "@rx zzz" "id:2,phase:2,pass,t:none,t:urlDecodeUni,t:lowercase"
"#);
        assert_eq!(matched(&s, "/?a=C%3A%5CDemo%5C%25G"), vec![1]);
    }

    /// Rules sharing a transformation list share a search, but a literal lets through only
    /// the rules that read the variable it was found in.
    #[test]
    fn a_value_lets_through_only_the_rules_that_read_it() {
        let s = set(r#"
SecRule REQUEST_HEADERS "@rx j" "id:1,phase:1,pass,t:none"
SecRule ARGS "@rx j" "id:2,phase:1,pass,t:none"
SecRule REQUEST_HEADERS:Accept-Language "@rx (?i)ja" "id:3,phase:1,pass,t:none"
SecRule REQUEST_HEADERS:Host|ARGS "@rx (?i)ja" "id:4,phase:1,pass,t:none"
SecRule REQUEST_HEADERS:/^accept/ "@rx (?i)ja" "id:5,phase:1,pass,t:none"
"#);
        let mut tx = s.transaction();
        tx.process_uri(b"/?a=x", "GET", "HTTP/1.1");
        tx.add_request_header(b"Host", b"example.com");
        tx.add_request_header(b"Accept-Language", b"ja");
        assert_eq!(
            [1, 2, 3, 4, 5].map(|id| may_match(&s, &mut tx, id)),
            [true, false, true, false, true]
        );
        let ids: Vec<u64> = run(&s, "/?a=ja")
            .matched_rules()
            .iter()
            .map(|m| m.id)
            .collect();
        assert_eq!(ids, vec![2, 4]);
    }

    /// One-byte literals are looked up in the value's bytes, either case; literals longer
    /// than the cut are searched for by their beginning and compared whole where it is found,
    /// each for its own rules when several share a beginning.
    #[test]
    fn short_and_long_literals() {
        let s = set(r#"
SecRule ARGS "@rx [<>]" "id:1,phase:2,pass,t:none"
SecRule ARGS "@pm Q" "id:2,phase:2,pass,t:none"
SecRule ARGS "@rx (?i)information_schema" "id:3,phase:2,pass,t:none,t:urlDecodeUni"
SecRule ARGS "@pm informatics" "id:4,phase:2,pass,t:none"
"#);
        assert!(matched(&s, "/?a=hello&b=world").is_empty());
        assert_eq!(matched(&s, "/?a=x%3Cy"), vec![1]);
        assert_eq!(matched(&s, "/?a=q"), vec![2]);
        assert!(matched(&s, "/?a=informat").is_empty());
        assert_eq!(matched(&s, "/?a=%49nformation_schema"), vec![3]);
        assert_eq!(matched(&s, "/?a=INFORMATICS"), vec![4]);
        // The beginning first occurs without the rest, then with it.
        assert_eq!(
            matched(&s, "/?a=informatics+INFORMATION_SCHEMA"),
            vec![3, 4]
        );
        // Which rules the search let through, one bit each (rules 1-4: bits 0-3). The
        // beginning alone lets neither rule through.
        assert_eq!(let_through(&s, "/?a=informat_x"), vec![vec![0]]);
        assert_eq!(let_through(&s, "/?a=informatics"), vec![vec![0b1000]]);
    }

    /// More than `CROWDED` literals sharing a beginning are searched for by longer ones: the
    /// beginning alone lets no rule through, any of the literals still does.
    #[test]
    fn crowded_beginnings_are_searched_longer() {
        let titles: Vec<String> = (0..40)
            .map(|i| format!("<title>shell_number_{i:02}"))
            .collect();
        let s = set(&format!(
            "SecRule ARGS \"@pm {}\" \"id:1,phase:2,pass,t:none\"\n\
             SecRule ARGS \"@pm <title>\" \"id:2,phase:2,pass,t:none\"\n",
            titles.join(" ")
        ));
        assert_eq!(matched(&s, "/?a=%3Ctitle%3EShop"), vec![2]);
        assert_eq!(matched(&s, "/?a=x%3CTITLE%3Eshell_number_17y"), vec![1, 2]);
        assert_eq!(matched(&s, "/?a=%3Ctitle%3Eshell_number_4"), vec![2]);
        assert_eq!(
            let_through(&s, "/?a=%3Ctitle%3Eshell_number_4"),
            vec![vec![0b10]]
        );
        let unit = s.prefilter.units.first().expect("one unit");
        let begins = unit.owners.iter().map(|r| r.len()).max().unwrap_or(0);
        assert!(
            begins <= super::CROWDED,
            "{begins} literals share a searched beginning"
        );
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
