//! Builds an operator picked by the first byte from an arbitrary argument and matches it against
//! arbitrary bytes: `[pick][argument]\0[value]`. Arguments are untrusted too: the engine rebuilds
//! an operator whose argument holds a macro (`@rx ^%{REQUEST_HEADERS.host}$`) from request data
//! at evaluation time. Building gives `Ok` or `Err`, matching a verdict: never a panic or hang.
//! Operators that read files (`@pmFromFile`, `@ipMatchFromFile`, `@geoLookup`) are skipped.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use sekisho_waf::operators::{self, MatchOutput, OperatorEnv, OPERATORS};

/// Operators whose argument names a file (or a database) to read.
const READS_FILES: &[&str] = &["geoLookup", "ipMatchF", "ipMatchFromFile", "pmf", "pmFromFile"];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let names: Vec<&str> = OPERATORS
        .iter()
        .map(|&(name, _)| name)
        .filter(|name| !READS_FILES.contains(name))
        .collect();
    let Some(&name) = names.get(usize::from(pick & 0x7f) % names.len()) else {
        return;
    };
    let split = rest.iter().position(|&c| c == 0).unwrap_or(rest.len());
    let arg = String::from_utf8_lossy(rest.get(..split).unwrap_or_default());
    let value = rest.get(split + 1..).unwrap_or_default();
    let env = OperatorEnv {
        base_dir: Path::new("/nonexistent-sekisho-fuzz"),
        geo_db: None,
    };
    let Ok(op) = operators::build(name, &arg, &env) else {
        return;
    };
    let mut out = MatchOutput {
        want_captures: pick & 0x80 != 0,
        ..MatchOutput::default()
    };
    let _ = op.matches(value, &mut out);
    // `TX.0` … `TX.9` at most.
    assert!(out.captures.len() <= 10, "{name}: {} captures", out.captures.len());
});
