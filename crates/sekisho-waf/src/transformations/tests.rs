//! Registry-wide tests: CRS coverage, the "unchanged means `None`" contract, no panics.

use super::{lookup, TRANSFORMATIONS};
use std::collections::BTreeSet;
use std::path::Path;

const CRS_RULES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/crs/rules");

/// Every `t:name` written in the CRS rule files (comments skipped).
fn crs_transformation_names() -> BTreeSet<String> {
    let dir = Path::new(CRS_RULES);
    let entries = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("CRS rules missing at {}: {e}", dir.display()));
    let mut names = BTreeSet::new();
    for entry in entries {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("conf") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for line in text.lines().filter(|l| !l.trim_start().starts_with('#')) {
            for (pos, _) in line.match_indices("t:") {
                let before = line[..pos].chars().last();
                if !matches!(before, Some(',' | '"' | ' ' | '\'')) {
                    continue;
                }
                let name: String = line[pos + 2..]
                    .chars()
                    .take_while(char::is_ascii_alphanumeric)
                    .collect();
                if !name.is_empty() {
                    names.insert(name);
                }
            }
        }
    }
    names
}

#[test]
fn every_crs_transformation_is_registered() {
    let names = crs_transformation_names();
    assert!(names.len() >= 19, "found only {names:?} in {CRS_RULES}");
    let missing: Vec<_> = names.iter().filter(|n| lookup(n).is_none()).collect();
    assert!(
        missing.is_empty(),
        "unknown transformations used by CRS: {missing:?}"
    );
}

#[test]
fn lookup_is_case_insensitive_and_names_unique() {
    assert_eq!(lookup("URLDECODEUNI").map(|t| t.name), Some("urlDecodeUni"));
    assert_eq!(lookup("base64decode").map(|t| t.name), Some("base64Decode"));
    assert!(lookup("nope").is_none());
    let mut seen = BTreeSet::new();
    for t in TRANSFORMATIONS {
        assert!(
            seen.insert(t.name.to_ascii_lowercase()),
            "duplicate {}",
            t.name
        );
    }
}

/// Inputs that stress the escape decoders: truncated escapes at every position.
const NASTY: &[&[u8]] = &[
    b"",
    b"%",
    b"%u",
    b"%u1",
    b"%uff1",
    b"\\",
    b"\\u",
    b"\\x",
    b"\\0",
    b"&",
    b"&#",
    b"&#x",
    b"/*",
    b"*/",
    b"<!--",
    b"-->",
    b"0x",
    b"0x4",
    b".",
    b"..",
    b"/..",
    b"\\..",
    b"./.././",
    b"\xc0",
    b"\xe2\x82",
    b"\xf4\x90\x80\x80",
    b"\xff\xfe\x00",
    b"\x00\x00",
    b"=",
    b"A=",
    b"%%%uu\\\\&&##",
    b"\\\\\\x\\u\\0&#x&#&",
];

#[test]
fn no_panic_and_none_means_unchanged() {
    for t in TRANSFORMATIONS {
        for &base in NASTY {
            for input in [base.to_vec(), [b"ab".as_slice(), base, b"cd"].concat()] {
                if let Some(out) = (t.func)(&input) {
                    assert_ne!(
                        out, input,
                        "{} returned Some(unchanged) for {input:?}",
                        t.name
                    );
                }
            }
        }
    }
}

#[test]
fn every_byte_pair_is_safe() {
    for t in TRANSFORMATIONS {
        for a in 0..=255u8 {
            for b in [
                0u8, b'%', b'\\', b'&', b'#', b'/', b'.', b'u', b'x', b'0', 0x80, 0xbf, 0xff,
            ] {
                let _ = (t.func)(&[a, b]);
                let _ = (t.func)(&[b, a, b]);
            }
        }
    }
}

/// A value holding none of a transformation's trigger bytes comes out unchanged: the engine
/// relies on it to skip a whole list (see `Transformation::triggers`).
#[test]
fn values_without_trigger_bytes_are_unchanged() {
    // A transformation that may change any value changes some empty one (`t:length`).
    assert!(TRANSFORMATIONS
        .iter()
        .filter(|t| (t.func)(b"").is_some())
        .all(|t| t.triggers == crate::byteset::ByteSet::ALL));
    use crate::byteset::ByteSet;
    let mut next = xorshift(0x9e37_79b9_7f4a_7c15);
    for t in TRANSFORMATIONS
        .iter()
        .filter(|t| t.triggers != ByteSet::ALL)
    {
        let allowed: Vec<u8> = (0..=255u8).filter(|&b| !t.triggers.contains(b)).collect();
        // Every nasty input with its trigger bytes taken out, then random ones.
        let mut inputs: Vec<Vec<u8>> = NASTY
            .iter()
            .map(|n| {
                n.iter()
                    .copied()
                    .filter(|&b| !t.triggers.contains(b))
                    .collect()
            })
            .collect();
        for _ in 0..20_000 {
            let len = (next() % 24) as usize;
            let pick = |r: u64| allowed.get(r as usize % allowed.len()).copied();
            inputs.push((0..len).filter_map(|_| pick(next())).collect());
        }
        for input in inputs {
            assert_eq!((t.func)(&input), None, "{} changed {input:?}", t.name);
        }
    }
}

/// What a transformation says it may make (`Transformation::makes`) holds: from a value
/// without its `any` bytes, every string of the output that the input did not hold (blind
/// to case) holds a byte of `with`, and then the input held one of `some`. The prefilter
/// relies on it to pass over `multiMatch` values no stage can make a literal of.
#[test]
fn transformations_make_only_what_they_say() {
    use crate::byteset::ByteSet;
    let mut next = xorshift(0x2545_f491_4f6c_dd1d);
    // Bytes that transformations act on, and ordinary ones.
    let alphabet = b"aBz .,;/(\"'\\^%+2eE\t\r\n\0\xc3\xa9-*#&x5cu0";
    let holds = |hay: &[u8], w: &[u8]| {
        hay.to_ascii_lowercase()
            .windows(w.len())
            .any(|x| x == w.to_ascii_lowercase().as_slice())
    };
    for t in TRANSFORMATIONS
        .iter()
        .filter(|t| t.makes.any != ByteSet::ALL)
    {
        let m = t.makes;
        let allowed: Vec<u8> = alphabet
            .iter()
            .copied()
            .filter(|&b| !m.any.contains(b))
            .collect();
        for _ in 0..20_000 {
            let len = (next() % 12) as usize;
            let input: Vec<u8> = (0..len)
                .filter_map(|_| allowed.get(next() as usize % allowed.len()).copied())
                .collect();
            let Some(out) = (t.func)(&input) else {
                continue;
            };
            let some = input.iter().any(|&b| m.some.contains(b));
            for n in 1..=3 {
                for w in out.windows(n) {
                    if holds(&input, w) {
                        continue;
                    }
                    let with = w.iter().any(|&b| m.with.contains(b));
                    assert!(some && with, "{} made {w:?} of {input:?} ({out:?})", t.name);
                }
            }
        }
    }
}

/// Pseudo-random numbers: deterministic, no dependency.
pub(crate) fn xorshift(mut seed: u64) -> impl FnMut() -> u64 {
    move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    }
}

/// No output is longer than `Transformation::grows` says: the prefilter relies on it to pass
/// over `multiMatch` values too short to hold a rule's literals.
#[test]
fn outputs_are_no_longer_than_said() {
    use super::Grows;
    let mut next = xorshift(0x1234_5678_9abc_def1);
    let alphabet = b"aZ09+/=%uU2e\\x&#;lt \t\r\n\0\xc3\xa9\xff-*(),'\"";
    for t in TRANSFORMATIONS.iter().filter(|t| t.grows != Grows::Longer) {
        let mut inputs: Vec<Vec<u8>> = NASTY.iter().map(|n| n.to_vec()).collect();
        for _ in 0..20_000 {
            let len = (next() % 16) as usize;
            inputs.push(
                (0..len)
                    .filter_map(|_| alphabet.get(next() as usize % alphabet.len()).copied())
                    .collect(),
            );
        }
        for input in inputs {
            let out = (t.func)(&input).unwrap_or_else(|| input.clone());
            assert!(
                out.len() <= t.grows.bound(input.len()),
                "{} made {} bytes of {input:?}",
                t.name,
                out.len()
            );
        }
    }
}
