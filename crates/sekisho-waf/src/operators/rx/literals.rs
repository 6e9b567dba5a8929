//! The literals a pattern cannot match without: a set of byte strings such that every input
//! the pattern matches contains at least one of them, compared ASCII case-insensitively.
//!
//! The engine's prefilter (`crate::prefilter`) searches each value once for the literals of
//! every rule at a time, and skips a rule outright when none of its literals occurs. That is
//! sound only if the set is truly necessary, so every step below over-approximates:
//!
//! - literals and class members are lower-cased as they are read (`(?i)a` is the class
//!   `[Aa]`, read as `a`): if the pattern matches `s`, the lower-cased reading matches
//!   `lower(s)`, which therefore contains a literal of the set;
//! - a literal needs itself; a small class needs one of its bytes; a repetition needs what its
//!   body needs if it repeats at least once, and two of the strings its body matches side by
//!   side if at least twice (`\.{2,3}` needs `..`); an alternation needs the union of its
//!   branches; a concatenation needs what any one of its parts needs, or the joined strings of
//!   a stretch of parts that each match only a few strings (`(?:get|head)\s` → `get\t`, …);
//! - a stretch goes on across an optional part that needs something when it is not empty: a
//!   match either leaves the part empty (and holds the joined strings) or holds what the part
//!   needs. CRS writes obfuscation-tolerant words so (`b["')\[\\]*a["')\[\\]*s…`): they
//!   need `bash` or one of the bytes between letters, not any single letter;
//! - anything else (an empty match, a look-around, a large class) needs nothing: no set.

use regex_syntax::hir::{Class, Hir, HirKind};

/// A class with more members than this is not worth a literal each.
const MAX_CLASS: usize = 32;
/// A set with more literals than this is given up (the search would get slow to build).
const MAX_SET: usize = 512;
/// Literals are cut to this length: longer ones are rare enough, and joining parts into
/// longer strings would multiply them. (The prefilter searches for their first bytes and
/// compares the rest where those were found.)
const MAX_LEN: usize = 16;

/// The literals (lower-case, de-duplicated) one of which every match of `hir` (a parsed
/// `@rx` pattern, see [`super::parse`]) contains; `None` when the pattern can match without
/// any (e.g. it matches the empty string).
pub fn required(hir: &Hir) -> Option<Vec<Vec<u8>>> {
    let mut set = info(hir).need?;
    set.sort();
    set.dedup();
    Some(set)
}

/// What one node of a pattern tells: the strings it matches, when there are few
/// (`exact`), and a set one of which every match contains (`need`).
struct Info {
    exact: Option<Vec<Vec<u8>>>,
    need: Option<Vec<Vec<u8>>>,
    /// For a part that may match empty: a set one of which every non-empty match contains.
    nonempty: Option<Vec<Vec<u8>>>,
}

/// One pass over the pattern, bottom up (see the module doc).
fn info(h: &Hir) -> Info {
    match h.kind() {
        HirKind::Literal(l) => {
            let lit: Vec<u8> =
                l.0.iter()
                    .take(MAX_LEN)
                    .map(u8::to_ascii_lowercase)
                    .collect();
            Info {
                exact: (l.0.len() <= MAX_LEN).then(|| vec![lit.clone()]),
                need: Some(vec![lit]),
                nonempty: None,
            }
        }
        HirKind::Class(Class::Bytes(c)) => {
            // The class's members, lower-cased (`(?i)a` is `[Aa]`, one member `a`).
            let mut members = [false; 256];
            for b in c.iter().flat_map(|r| r.start()..=r.end()) {
                if let Some(m) = members.get_mut(usize::from(b.to_ascii_lowercase())) {
                    *m = true;
                }
            }
            let n = members.iter().filter(|&&m| m).count();
            let set: Option<Vec<Vec<u8>>> = (n <= MAX_CLASS).then(|| {
                (0..=255u8)
                    .filter(|&b| members.get(usize::from(b)).copied().unwrap_or(false))
                    .map(|b| vec![b])
                    .collect()
            });
            Info {
                exact: set.clone(),
                need: set,
                nonempty: None,
            }
        }
        HirKind::Empty | HirKind::Look(_) => Info {
            exact: Some(vec![Vec::new()]),
            need: None,
            nonempty: None,
        },
        HirKind::Capture(c) => info(&c.sub),
        HirKind::Repetition(r) => {
            let sub = info(&r.sub);
            let (need, nonempty) = if r.min >= 1 {
                // A part repeated at least twice holds its strings side by side: `\.{2,3}`
                // needs `..`, which far fewer values hold than `.`.
                let mut need = sub.need;
                if let Some(e) = sub.exact.as_ref().filter(|_| r.min >= 2) {
                    let mut side_by_side = Some(e.clone());
                    for _ in 1..r.min.min(MAX_LEN as u32) {
                        side_by_side = side_by_side.and_then(|s| join_cut(&s, e));
                    }
                    consider(&mut need, side_by_side);
                }
                (need, None)
            } else {
                (None, sub.need)
            };
            let exact = match (r.min, r.max) {
                (1, Some(1)) => sub.exact,
                (0, Some(1)) => sub.exact.map(|mut e| {
                    e.push(Vec::new());
                    e
                }),
                _ => None,
            };
            Info {
                exact,
                need,
                nonempty,
            }
        }
        HirKind::Alternation(xs) => {
            let (mut exact, mut need) = (Some(Vec::new()), Some(Vec::new()));
            for x in xs {
                let i = info(x);
                exact = union(exact, i.exact);
                need = union(need, i.need);
            }
            Info {
                exact,
                need,
                nonempty: None,
            }
        }
        HirKind::Concat(xs) => {
            // `run`: every string the current stretch of exact parts matches, joined.
            let mut run: Option<Vec<Vec<u8>>> = Some(vec![Vec::new()]);
            // What the optional parts the stretch went across need when not empty.
            let mut across: Vec<Vec<u8>> = Vec::new();
            // Every string the whole concatenation matches, optional parts included.
            let mut full: Option<Vec<Vec<u8>>> = Some(vec![Vec::new()]);
            let mut best: Option<Vec<Vec<u8>>> = None;
            // The stretch of exact parts since the last optional one, which needs no help
            // from what an optional part needs: `(?i);\s*shutdown` needs `shutdown`, a rarer
            // set than `;shutdown` or a whitespace byte. `None` while it is `run` itself.
            let mut fresh: Option<Vec<Vec<u8>>> = None;
            for x in xs {
                let i = info(x);
                full = full.and_then(|f| i.exact.as_ref().and_then(|e| join(&f, e)));
                consider(&mut best, i.need.clone());
                if let Some(skip) = optional(&i) {
                    across.extend(skip);
                    if across.len() > MAX_SET {
                        run = Some(vec![Vec::new()]);
                        across.clear();
                    }
                    fresh = Some(vec![Vec::new()]);
                    continue;
                }
                match i.exact {
                    Some(e) => {
                        if let Some(f) = fresh.take() {
                            fresh = Some(join(&f, &e).unwrap_or_else(|| e.clone()));
                        }
                        run = match run.take().and_then(|r| join(&r, &e)) {
                            Some(j) => Some(j),
                            None => {
                                // Too many: what was joined so far still counts alone.
                                across.clear();
                                fresh = None;
                                Some(e)
                            }
                        };
                        consider(&mut best, union(run.clone(), Some(across.clone())));
                        if let Some(f) = fresh.as_ref().filter(|f| better(f, best.as_ref())) {
                            best = Some(f.clone());
                        }
                    }
                    None => {
                        run = Some(vec![Vec::new()]);
                        across.clear();
                        fresh = None;
                    }
                }
            }
            Info {
                exact: full,
                need: best,
                nonempty: None,
            }
        }
        HirKind::Class(Class::Unicode(_)) => Info {
            exact: None,
            need: None,
            nonempty: None,
        },
    }
}

/// When a concatenation's stretch may go across part `i` (see the module doc): what the part
/// needs when it is not empty. `\\?` needs `\\`; `["')]*` needs one of those bytes. A part
/// that only ever matches the empty string (`\b`) is joined instead, as it changes nothing.
fn optional(i: &Info) -> Option<Vec<Vec<u8>>> {
    match &i.exact {
        Some(e) if e.iter().any(Vec::is_empty) && e.iter().any(|s| !s.is_empty()) => {
            Some(e.iter().filter(|s| !s.is_empty()).cloned().collect())
        }
        Some(_) => None,
        None => i.nonempty.clone(),
    }
}

/// Both sets together, or `None` when either is unknown or the union is too large.
fn union(a: Option<Vec<Vec<u8>>>, b: Option<Vec<Vec<u8>>>) -> Option<Vec<Vec<u8>>> {
    let mut a = a?;
    a.extend(b?);
    a.sort();
    a.dedup();
    (a.len() <= MAX_SET).then_some(a)
}

/// Every `x` followed by every `y` (cut to [`MAX_LEN`]), unless there would be too many.
fn join(xs: &[Vec<u8>], ys: &[Vec<u8>]) -> Option<Vec<Vec<u8>>> {
    if xs.len().saturating_mul(ys.len()) > MAX_SET {
        return None;
    }
    let mut out = Vec::with_capacity(xs.len() * ys.len());
    for x in xs {
        for y in ys {
            let mut s = x.clone();
            s.extend_from_slice(y);
            s.truncate(MAX_LEN);
            out.push(s);
        }
    }
    out.sort();
    out.dedup();
    Some(out)
}

/// Every `x` followed by the first two bytes of every `y` (one when two would make too
/// many): a need, not the strings matched (`x` followed by a cut `y` is still in the match).
/// Two bytes of `y` keep `.` then `0x2e` from reading `.0`, which many values hold.
fn join_cut(xs: &[Vec<u8>], ys: &[Vec<u8>]) -> Option<Vec<Vec<u8>>> {
    [2, 1].into_iter().find_map(|k| {
        let mut cut: Vec<Vec<u8>> = ys
            .iter()
            .map(|y| y.iter().take(k).copied().collect())
            .collect();
        cut.sort();
        cut.dedup();
        join(xs, &cut)
    })
}

/// Keeps `cand` if it is a usable set (no empty string) more selective than `best`.
fn consider(best: &mut Option<Vec<Vec<u8>>>, cand: Option<Vec<Vec<u8>>>) {
    if let Some(cand) = cand.filter(|c| better(c, best.as_ref())) {
        *best = Some(cand);
    }
}

/// Whether `cand` is a usable set (no empty string) more selective than `best`.
fn better(cand: &[Vec<u8>], best: Option<&Vec<Vec<u8>>>) -> bool {
    !cand.is_empty()
        && !cand.iter().any(Vec::is_empty)
        && best.is_none_or(|b| score(cand) > score(b))
}

/// How selective a set is: rarer shortest literal first, then fewer literals, then longer. A literal is
/// as rare as it is long (up to [`MAX_LEN`]), but a single punctuation byte that text seldom
/// holds (`"`, `$`, `\\`, …) counts as rare as three letters.
fn score(set: &[Vec<u8>]) -> (usize, std::cmp::Reverse<usize>, usize, usize) {
    let rarity = |l: &Vec<u8>| match l.as_slice() {
        [b] if b.is_ascii_alphanumeric() || b" \t.,-/:;=_+".contains(b) => 1,
        [_] => 3,
        l => l.len(),
    };
    let rarest = set.iter().map(rarity).min().unwrap_or(0);
    let shortest = set.iter().map(Vec::len).min().unwrap_or(0);
    let total = set.iter().map(Vec::len).sum();
    (
        rarest.min(MAX_LEN),
        std::cmp::Reverse(set.len()),
        shortest,
        total,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::operators::rx::{compile, parse, translate};

    fn req(p: &str) -> Option<Vec<String>> {
        required(&parse(&translate(p)).unwrap()).map(|s| {
            s.into_iter()
                .map(|l| String::from_utf8_lossy(&l).into_owned())
                .collect()
        })
    }

    #[test]
    fn literals_are_folded_and_joined() {
        assert_eq!(req("(?i)union\\s+select"), Some(vec!["select".into()]));
        assert_eq!(
            req("(?:Foo|bar)baz"),
            Some(vec!["barbaz".into(), "foobaz".into()])
        );
        assert_eq!(req("<script>"), Some(vec!["<script>".into()]));
        // Cut to MAX_LEN bytes.
        assert_eq!(
            req("a_rather_long_literal"),
            Some(vec!["a_rather_long_li".into()])
        );
    }

    #[test]
    fn a_stretch_goes_across_optional_parts() {
        // Letters with optional bytes between them need the word or one of those bytes.
        assert_eq!(
            req("(?i)b[\"']*a\\x5c?s[\"']*h"),
            Some(vec!["\"".into(), "'".into(), "\\".into(), "bash".into()])
        );
        // An optional group that needs `$` when present.
        assert_eq!(
            req("ca(?:\\$[a-z]*)?t"),
            Some(vec!["$".into(), "cat".into()])
        );
    }

    #[test]
    fn the_stretch_after_an_optional_part_counts_on_its_own() {
        // Case-insensitive words are classes letter by letter: the word after `\s*?` is a
        // stretch of its own, rarer than `;` (942280's third branch).
        assert_eq!(
            req("(?i);[\\s\\x0b]*?shutdown"),
            Some(vec!["shutdown".into()])
        );
        assert_eq!(
            req("(?i)select[\\s]*?pg_sleep|;[\\s]*?shutdown"),
            Some(vec!["pg_sleep".into(), "shutdown".into()])
        );
    }

    #[test]
    fn a_part_repeated_twice_needs_its_strings_side_by_side() {
        assert_eq!(req("(?:^|/)\\.{2,3}/"), Some(vec!["..".into()]));
        assert_eq!(
            req("(?:\\.|%2e){2}"),
            Some(vec![
                "%2e%2".into(),
                "%2e.".into(),
                ".%2".into(),
                "..".into()
            ])
        );
        // A part that may match empty gives no such set: `a?{2}` may be just `a`.
        assert_eq!(req("x(?:a?){2}"), Some(vec!["x".into()]));
    }

    #[test]
    fn patterns_that_need_nothing_have_no_set() {
        assert_eq!(req("^$"), None);
        assert_eq!(req("."), None);
        assert_eq!(req("a*"), None);
        assert_eq!(req("\\w+"), None);
        assert_eq!(req("a|\\w"), None);
    }

    #[test]
    fn small_classes_and_inner_parts_count() {
        assert_eq!(req("[<>]"), Some(vec!["<".into(), ">".into()]));
        assert_eq!(req("\\w+=\\w+\\(\\)"), Some(vec!["()".into()]));
    }

    /// The property the prefilter relies on: whatever matches contains a literal.
    #[test]
    fn every_match_contains_a_literal() {
        let cases: &[(&str, &[&str])] = &[
            (
                "(?i)union\\s+select",
                &["UNION SELECT", "x uNiOn\tsElEcT y"],
            ),
            ("(?i)(?:on(?:error|load))\\s*=", &["ONERROR =", "onload="]),
            ("\\bexec\\b|[;|]\\s*cat", &["exec", "a;  cat", "|cat"]),
            ("(?i)\\x5cx[0-9a-f]{2}", &["\\X4F", "\\x41"]),
            ("ab{2,}c", &["abbc", "abbbbc"]),
            ("(?:^|[/;])\\.{2,3}[/;]", &["../", "/.../", ";..;"]),
            (
                "(?i)(?:\\.|\\?|%2e){2,3}/",
                &["..%2E/", "?./", "%2E%2e%2e/"],
            ),
            (
                "(?i)b[\"']*a\\x5c?s[\"']*h\\b",
                &["bash", "B'A\\S\"h", "ba\\sh", "b\"ash"],
            ),
            ("ca(?:\\$[a-z]*)?t", &["cat", "ca$xt", "ca$t"]),
            ("x(?:get|head)?\\s", &["x ", "xget\t", "xhead "]),
        ];
        for (p, inputs) in cases {
            let set = required(&parse(&translate(p)).unwrap()).unwrap();
            let re = compile(p).unwrap();
            for i in *inputs {
                assert!(re.is_match(i.as_bytes()), "{p} should match {i}");
                let lower = i.to_ascii_lowercase();
                assert!(
                    set.iter()
                        .any(|l| lower.as_bytes().windows(l.len()).any(|w| w == l.as_slice())),
                    "{p}: {i} contains none of {set:?}"
                );
            }
        }
    }
}
