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
