//! Key/value stores behind collection variables (`ARGS`, `REQUEST_HEADERS`, `TX`, …).
//!
//! Keys compare case-insensitively, as ModSecurity v3 does for every collection.

use indexmap::IndexMap;
use rustc_hash::FxBuildHasher;
use std::borrow::Cow;
use std::sync::Arc;

/// How a rule picks members of a collection: `ARGS`, `ARGS:foo`, `ARGS:/^id_/`.
#[derive(Debug, Clone)]
pub enum KeySel {
    All,
    /// Lower-cased key.
    Exact(Box<str>),
    Regex(regex::bytes::Regex),
    /// A regex that is just `^` and a plain word (`TX:/^header_name_920450_/`): compared
    /// without running a regex on every key of the store. Lower-cased.
    Prefix(Box<[u8]>),
    /// A regex that is just a plain word, unanchored (`TX:/paramcounter_.*/`, or
    /// `TX:/MULTIPART_HEADERS_CONTENT_TYPES_*/`, whose `_*` may match nothing): a substring
    /// search. Lower-cased. A regex call per key cost ~12 ns, on every `TX` variable.
    Contains(Box<[u8]>),
}

impl KeySel {
    /// Does `key` fall under this selector?
    pub fn matches(&self, key: &[u8]) -> bool {
        match self {
            KeySel::All => true,
            KeySel::Exact(k) => k.as_bytes().eq_ignore_ascii_case(key),
            KeySel::Regex(r) => r.is_match(key),
            KeySel::Prefix(p) => key
                .get(..p.len())
                .is_some_and(|k| k.eq_ignore_ascii_case(p)),
            KeySel::Contains(w) => key.windows(w.len()).any(|k| k.eq_ignore_ascii_case(w)),
        }
    }

    /// [`Self::matches`] for a key known to be lower-case (a rule-written store's).
    fn matches_lower(&self, key: &[u8]) -> bool {
        match self {
            KeySel::All => true,
            KeySel::Exact(k) => k.as_bytes() == key,
            KeySel::Regex(r) => r.is_match(key),
            KeySel::Prefix(p) => key.starts_with(p),
            KeySel::Contains(w) => contains(key, w),
        }
    }

    /// Builds a selector from the text after `:` (`/re/` is a regex, case-insensitive).
    pub fn parse(key: Option<&str>) -> Result<KeySel, String> {
        let Some(key) = key else {
            return Ok(KeySel::All);
        };
        if key.len() >= 2 && key.starts_with('/') && key.ends_with('/') {
            let pat = key.get(1..key.len() - 1).unwrap_or_default();
            if let Some(sel) = plain_word(pat) {
                return Ok(sel);
            }
            return regex::bytes::RegexBuilder::new(pat)
                .case_insensitive(true)
                .build()
                .map(KeySel::Regex)
                .map_err(|e| format!("invalid key regex `{pat}`: {e}"));
        }
        let key = key
            .strip_prefix('\'')
            .and_then(|k| k.strip_suffix('\''))
            .unwrap_or(key);
        Ok(KeySel::Exact(key.to_ascii_lowercase().into()))
    }
}

/// Whether `word` occurs in `key`. Keys are short: a `memmem` searcher built per call cost
/// more than the regex it replaces.
fn contains(key: &[u8], word: &[u8]) -> bool {
    let Some((&first, rest)) = word.split_first() else {
        return true;
    };
    let last = key.len().saturating_sub(rest.len());
    memchr::memchr_iter(first, key.get(..last).unwrap_or_default()).any(|i| {
        key.get(i + 1..)
            .is_some_and(|after| after.starts_with(rest))
    })
}

/// The selector a key regex that only asks for a plain word stands for: `^word` (a prefix) or
/// `word` (anywhere), either followed by what may match nothing at the end (`.*`, or one
/// word character and `*`). `None` for any other regex.
fn plain_word(pat: &str) -> Option<KeySel> {
    let (anchored, rest) = match pat.strip_prefix('^') {
        Some(rest) => (true, rest),
        None => (false, pat),
    };
    let word = match rest.strip_suffix('*') {
        // `x.*` or `x_*`: the starred character may match nothing; an unanchored end makes
        // the rest irrelevant.
        Some(head) => head.get(..head.len().checked_sub(1)?)?,
        None => rest,
    };
    let plain = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'-';
    let starred = rest.len() != word.len();
    if word.is_empty() || !word.bytes().all(plain) {
        return None;
    }
    if starred && !rest.ends_with(".*") && !rest.bytes().all(|b| plain(b) || b == b'*') {
        return None;
    }
    let word: Box<[u8]> = word.to_ascii_lowercase().into_bytes().into();
    Some(if anchored {
        KeySel::Prefix(word)
    } else {
        KeySel::Contains(word)
    })
}

/// An ordered multi-map of byte keys to byte values (request data: arguments, headers, …).
#[derive(Debug, Clone, Default)]
pub struct Collection {
    pub entries: Vec<(Vec<u8>, Vec<u8>)>,
}

impl Collection {
    pub fn add(&mut self, key: &[u8], value: &[u8]) {
        self.entries.push((key.to_vec(), value.to_vec()));
    }

    /// The first value under `key` (case-insensitive).
    pub fn get(&self, key: &[u8]) -> Option<&[u8]> {
        self.entries
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_slice())
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn clear(&mut self) {
        self.entries.clear();
    }

    /// Members under `sel`, as (key, value) pairs.
    pub fn select<'a>(
        &'a self,
        sel: &'a KeySel,
    ) -> impl Iterator<Item = (&'a [u8], &'a [u8])> + 'a {
        // One header or argument by name is what most rules read: compared in the loop
        // rather than through the selector's call for every member.
        let exact = match sel {
            KeySel::Exact(k) => Some(k.as_bytes()),
            _ => None,
        };
        self.entries
            .iter()
            .filter(move |(k, _)| match exact {
                Some(e) => k.eq_ignore_ascii_case(e),
                None => sel.matches(k),
            })
            .map(|(k, v)| (k.as_slice(), v.as_slice()))
    }
}

/// A collection emptied and filled again many times per request (`MATCHED_VARS`, emptied
/// before every rule): its members' buffers are kept for the next fill, not freed and
/// allocated again.
#[derive(Debug, Clone, Default)]
pub struct Recycled {
    entries: Vec<(Vec<u8>, Vec<u8>)>,
    len: usize,
}

impl Recycled {
    pub fn add(&mut self, key: &[u8], value: &[u8]) {
        match self.entries.get_mut(self.len) {
            Some((k, v)) => {
                k.clear();
                k.extend_from_slice(key);
                v.clear();
                v.extend_from_slice(value);
            }
            None => self.entries.push((key.to_vec(), value.to_vec())),
        }
        self.len += 1;
    }

    pub fn clear(&mut self) {
        self.len = 0;
    }

    /// Emptied for another transaction: at most `keep` members' buffers kept, none large
    /// (a body's values would otherwise stay allocated).
    pub fn recycle(&mut self, keep: usize) {
        self.len = 0;
        self.entries.truncate(keep);
        self.entries
            .retain(|(k, v)| k.capacity() <= 1024 && v.capacity() <= 1024);
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Members under `sel`, as (key, value) pairs.
    pub fn select<'a>(
        &'a self,
        sel: &'a KeySel,
    ) -> impl Iterator<Item = (&'a [u8], &'a [u8])> + 'a {
        self.entries
            .iter()
            .take(self.len)
            .filter(move |(k, _)| sel.matches(k))
            .map(|(k, v)| (k.as_slice(), v.as_slice()))
    }
}

/// A named store written by rules (`TX`, `IP`, `SESSION`, …): one value per lower-cased key.
///
/// Keys are shared (`Arc<str>`) so that a write whose name the rule set fixed at load costs
/// no allocation; values written by a decided rule (see `fold.rs`) are shared the same way.
#[derive(Debug, Clone, Default)]
pub struct VarStore {
    map: IndexMap<Arc<str>, Value, FxBuildHasher>,
}

/// A store value: written at runtime, or shared with the rule set.
#[derive(Debug, Clone)]
enum Value {
    Own(Vec<u8>),
    Shared(Arc<[u8]>),
}

impl Value {
    fn as_slice(&self) -> &[u8] {
        match self {
            Value::Own(v) => v,
            Value::Shared(v) => v,
        }
    }
}

/// `key` in lower case, copied only when it is not already.
fn lower(key: &str) -> Cow<'_, str> {
    if key.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(key.to_ascii_lowercase())
    } else {
        Cow::Borrowed(key)
    }
}

impl VarStore {
    /// `key` must already be lower-case.
    pub fn get(&self, key: &str) -> Option<&[u8]> {
        self.map.get(key).map(Value::as_slice)
    }

    pub fn get_ci(&self, key: &str) -> Option<&[u8]> {
        self.get(&lower(key))
    }

    pub fn set(&mut self, key: &str, value: Vec<u8>) {
        self.set_lower(&lower(key), value);
    }

    /// [`Self::set`] of a key already in lower case (a `setvar`'s name is lowered once, as
    /// it is expanded): no second pass over it.
    pub(crate) fn set_lower(&mut self, key: &str, value: Vec<u8>) {
        if let Some(v) = self.map.get_mut(key) {
            *v = Value::Own(value);
        } else {
            self.map.insert(Arc::from(key), Value::Own(value));
        }
    }

    /// [`Self::set`] of a number, written over the old value's buffer when it has its own.
    pub fn set_int(&mut self, key: &str, n: i64) {
        self.set_int_lower(&lower(key), n);
    }

    /// [`Self::set_int`] of a key already in lower case.
    pub(crate) fn set_int_lower(&mut self, key: &str, n: i64) {
        use std::io::Write as _;
        match self.map.get_mut(key) {
            Some(Value::Own(buf)) => {
                buf.clear();
                // Writing to a `Vec` cannot fail.
                let _ = write!(buf, "{n}");
            }
            Some(v) => *v = Value::Own(n.to_string().into_bytes()),
            None => {
                self.map
                    .insert(Arc::from(key), Value::Own(n.to_string().into_bytes()));
            }
        }
    }

    /// Writes a value shared with the rule set under a lower-case shared key (or deletes
    /// the key): no allocation.
    pub(crate) fn set_shared(&mut self, key: &Arc<str>, value: Option<&Arc<[u8]>>) {
        match value {
            Some(v) => {
                let v = Value::Shared(Arc::clone(v));
                if let Some(cur) = self.map.get_mut(key.as_ref()) {
                    *cur = v;
                } else {
                    self.map.insert(Arc::clone(key), v);
                }
            }
            None => {
                self.map.shift_remove(key.as_ref());
            }
        }
    }

    /// Becomes `base` again when it still begins with `base`'s names in order (as a store
    /// that started as `base` does unless a name of it was deleted): later names are
    /// dropped, and values written over are put back. Returns false, leaving it as it is,
    /// otherwise. Names and values shared with `base` are kept, not counted again.
    pub(crate) fn reset_to(&mut self, base: &VarStore) -> bool {
        if self.map.len() < base.map.len() {
            return false;
        }
        let same_names = self
            .map
            .keys()
            .zip(base.map.keys())
            .all(|(a, b)| Arc::ptr_eq(a, b));
        if !same_names {
            return false;
        }
        self.map.truncate(base.map.len());
        for ((_, v), (_, b)) in self.map.iter_mut().zip(base.map.iter()) {
            let same =
                matches!((&*v, b), (Value::Shared(x), Value::Shared(y)) if Arc::ptr_eq(x, y));
            if !same {
                *v = b.clone();
            }
        }
        true
    }

    /// Becomes a copy of `other`, reusing its own allocations.
    pub(crate) fn copy_from(&mut self, other: &VarStore) {
        self.map.clone_from(&other.map);
    }

    /// Empty again, keeping its table (at most `keep` entries' worth).
    pub fn clear(&mut self, keep: usize) {
        self.map.clear();
        self.map.shrink_to(keep);
    }

    pub fn remove(&mut self, key: &str) {
        self.map.shift_remove(key.to_ascii_lowercase().as_str());
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    pub fn select<'a>(
        &'a self,
        sel: &'a KeySel,
    ) -> impl Iterator<Item = (&'a [u8], &'a [u8])> + 'a {
        let exact = match sel {
            KeySel::Exact(k) => Some(k),
            _ => None,
        };
        let single = exact.and_then(|k| self.map.get_key_value(k.as_ref()));
        // An exact key is one map lookup; only other selectors walk the store (`take(0)`
        // keeps the walk from running at all: CRS reads `TX:x` hundreds of times per request
        // from a store of ~150 entries).
        let walk = if exact.is_none() { usize::MAX } else { 0 };
        single
            .into_iter()
            .map(|(k, v)| (k.as_bytes(), v.as_slice()))
            .chain(
                self.map
                    .iter()
                    .take(walk)
                    .filter(move |(k, _)| sel.matches_lower(k.as_bytes()))
                    .map(|(k, v)| (k.as_bytes(), v.as_slice())),
            )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collection_keys_are_case_insensitive() {
        let mut c = Collection::default();
        c.add(b"Host", b"example.com");
        assert_eq!(c.get(b"host"), Some(&b"example.com"[..]));
        let sel = KeySel::parse(Some("HOST")).unwrap();
        assert_eq!(c.select(&sel).count(), 1);
    }

    #[test]
    fn regex_keys_select_members() {
        let mut c = Collection::default();
        c.add(b"id_1", b"a");
        c.add(b"name", b"b");
        let sel = KeySel::parse(Some("/^id_/")).unwrap();
        assert!(
            matches!(sel, KeySel::Prefix(_)),
            "a plain prefix needs no regex"
        );
        let got: Vec<_> = c.select(&sel).collect();
        assert_eq!(got, vec![(&b"id_1"[..], &b"a"[..])]);
        // Case-insensitive like the regex it stands for; anything else stays a regex.
        c.add(b"ID_2", b"c");
        assert_eq!(c.select(&sel).count(), 2);
        let re = KeySel::parse(Some("/^id_[0-9]$/")).unwrap();
        assert!(matches!(re, KeySel::Regex(_)));
        assert_eq!(c.select(&re).count(), 2);
    }

    #[test]
    fn plain_word_regexes_need_no_regex_and_select_what_the_regex_would() {
        let keys: &[&[u8]] = &[
            b"multipart_headers_content_types_0",
            b"MULTIPART_HEADERS_CONTENT_TYPE",
            b"x_multipart_headers_content_types",
            b"paramcounter_a",
            b"paramcounter",
            b"id_1",
            b"xid_",
            b"",
        ];
        for (pat, plain) in [
            ("MULTIPART_HEADERS_CONTENT_TYPES_*", true),
            ("paramcounter_.*", true),
            ("^id_.*", true),
            ("^id_*", true),
            ("id_", true),
            ("id_$", false),
            ("id.", false),
            ("i*d", false),
            ("^*", false),
            ("*", false),
            (".*", false),
        ] {
            let sel = KeySel::parse(Some(&format!("/{pat}/")));
            let re = regex::bytes::RegexBuilder::new(pat)
                .case_insensitive(true)
                .build();
            match (sel, re) {
                (Ok(sel), Ok(re)) => {
                    assert_eq!(!matches!(sel, KeySel::Regex(_)), plain, "{pat}");
                    for k in keys {
                        assert_eq!(sel.matches(k), re.is_match(k), "{pat} on {k:?}");
                        let lower = k.to_ascii_lowercase();
                        assert_eq!(sel.matches_lower(&lower), re.is_match(&lower), "{pat}");
                    }
                }
                (sel, re) => assert!(sel.is_err() && re.is_err(), "{pat}"),
            }
        }
    }

    #[test]
    fn a_recycled_collection_holds_only_what_was_added_since_it_was_emptied() {
        let mut c = Recycled::default();
        c.add(b"ARGS:a", b"long value");
        c.add(b"ARGS:b", b"x");
        c.clear();
        assert!(c.is_empty());
        c.add(b"ARGS:c", b"y");
        let got: Vec<_> = c.select(&KeySel::All).collect();
        assert_eq!(got, vec![(&b"ARGS:c"[..], &b"y"[..])]);
        assert_eq!(c.len(), 1);
    }

    #[test]
    fn a_store_resets_to_the_one_it_started_as() {
        let (a, b): (Arc<str>, Arc<str>) = (Arc::from("a"), Arc::from("b"));
        let one: Arc<[u8]> = Arc::from(&b"1"[..]);
        let mut base = VarStore::default();
        base.set_shared(&a, Some(&one));
        base.set_shared(&b, Some(&one));
        let mut s = VarStore::default();
        s.copy_from(&base);
        s.set("b", b"2".to_vec());
        s.set("c", b"3".to_vec());
        assert!(s.reset_to(&base));
        assert_eq!(
            (s.len(), s.get("b"), s.get("c")),
            (2, Some(&b"1"[..]), None)
        );
        // A name of the base deleted: the order is lost, and it says so.
        s.remove("a");
        s.set_shared(&a, Some(&one));
        assert!(!s.reset_to(&base));
    }

    #[test]
    fn var_store_set_get_remove() {
        let mut s = VarStore::default();
        s.set("Score", b"5".to_vec());
        assert_eq!(s.get("score"), Some(&b"5"[..]));
        assert_eq!(s.select(&KeySel::parse(Some("score")).unwrap()).count(), 1);
        s.remove("SCORE");
        assert!(s.is_empty());
    }
}
