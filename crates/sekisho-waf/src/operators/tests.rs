//! Registry-wide tests: every operator CRS uses exists, every CRS data file loads.

use super::*;
use std::collections::BTreeSet;

pub(crate) const CRS_RULES: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/crs/rules");

/// Every operator name written in the CRS rule files.
fn crs_operator_names() -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for entry in std::fs::read_dir(CRS_RULES)
        .unwrap_or_else(|e| panic!("CRS rules missing at {CRS_RULES}: {e}"))
    {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("conf") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for line in text.lines().filter(|l| !l.trim_start().starts_with('#')) {
            for (pos, _) in line.match_indices("\"@").chain(line.match_indices("\"!@")) {
                let rest = line[pos..].trim_start_matches(['"', '!', '@']);
                let name: String = rest
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
fn every_crs_operator_is_supported() {
    let names = crs_operator_names();
    assert!(names.len() >= 19, "found only {names:?}");
    let missing: Vec<_> = names
        .iter()
        .filter(|n| !OPERATORS.iter().any(|(o, _)| o.eq_ignore_ascii_case(n)))
        .collect();
    assert!(
        missing.is_empty(),
        "operators used by CRS but not supported: {missing:?}"
    );
}

#[test]
fn every_crs_data_file_loads() {
    let mut count = 0;
    for entry in std::fs::read_dir(CRS_RULES).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("data") {
            continue;
        }
        let name = path.file_name().unwrap().to_str().unwrap();
        let op = build("pmFromFile", name, &test_env()).unwrap_or_else(|e| panic!("{name}: {e}"));
        // The first phrase of each file matches itself.
        let text = std::fs::read_to_string(&path).unwrap();
        let first = text
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty() && !l.starts_with('#'))
            .unwrap();
        assert!(
            op.matches(first.as_bytes(), &mut MatchOutput::default()),
            "{name}: `{first}`"
        );
        count += 1;
    }
    assert!(count >= 21, "only {count} data files in {CRS_RULES}");
}

#[test]
fn names_are_case_insensitive_and_unique() {
    assert!(build("RX", "a", &test_env()).is_ok());
    assert!(build("PmFromFile", "sql-errors.data", &test_env()).is_ok());
    let mut seen = BTreeSet::new();
    let names = OPERATORS
        .iter()
        .map(|(n, _)| n)
        .chain(UNSUPPORTED.iter().map(|(n, _)| n));
    for n in names {
        assert!(seen.insert(n.to_ascii_lowercase()), "duplicate {n}");
    }
}

#[test]
fn unsupported_and_unknown_operators_are_clear_errors() {
    let err = build("rbl", "sbl.spamhaus.org", &test_env()).unwrap_err();
    assert_eq!(err, "`@rbl` is not supported: it needs DNS lookups");
    for (n, _) in UNSUPPORTED {
        assert!(build(n, "x", &test_env())
            .unwrap_err()
            .contains("is not supported"));
        assert!(is_known(n));
    }
    assert_eq!(
        build("bogus", "", &test_env()).unwrap_err(),
        "unknown operator `@bogus`"
    );
    assert!(!is_known("bogus"));
}

/// Every operator the SecLang parser accepts is one the engine builds or refuses with a reason.
#[test]
fn parser_and_engine_agree_on_operators() {
    for name in sekisho_seclang::operator_names() {
        assert!(
            is_known(name),
            "`@{name}` parses but the engine does not know it"
        );
    }
}

/// The byte-validating operators name the bytes a matching value must hold, so that the
/// prefilter can skip them: on every short string over bytes on both sides of their ranges,
/// a match holds one of those bytes.
#[test]
fn validating_operators_match_only_values_holding_their_bytes() {
    let ops = [
        ("validateByteRange", "1-255"),
        ("validateByteRange", "9,10,13,32-126,128-255"),
        ("validateByteRange", "38,44-46,48-58,61,65-90,95,97-122"),
        ("validateUtf8Encoding", ""),
        ("validateUrlEncoding", ""),
    ];
    let alphabet = [
        0u8, 9, b' ', b'%', b'2', b'a', b'G', b'&', 0x7f, 0x80, 0xc3, 0xa9, 0xff,
    ];
    for (name, arg) in ops {
        let op = build(name, arg, &test_env()).unwrap();
        let lits = op.required_literals().unwrap();
        assert!(lits.iter().all(|l| l.len() == 1), "{name}");
        let holds = |v: &[u8]| {
            lits.iter()
                .any(|l| l.first().is_some_and(|b| v.contains(b)))
        };
        let mut matched = 0;
        // Every string of up to three bytes of the alphabet.
        let mut strings: Vec<Vec<u8>> = vec![Vec::new()];
        let mut last = strings.clone();
        for _ in 0..3 {
            last = last
                .iter()
                .flat_map(|s| alphabet.iter().map(move |&b| [s.as_slice(), &[b]].concat()))
                .collect();
            strings.extend(last.iter().cloned());
        }
        for v in &strings {
            if op.matches(v, &mut MatchOutput::default()) {
                matched += 1;
                assert!(holds(v), "@{name} {arg} matched {v:?} without its bytes");
            }
        }
        assert!(matched > 0, "@{name} {arg} matched nothing");
    }
}
