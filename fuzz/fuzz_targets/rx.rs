//! The `@rx` PCRE → `regex` translation and compilation: `[pattern]\0[subject]`. Translating
//! any pattern and compiling it give a string and `Ok`/`Err`, never a panic; a compiled pattern
//! then matches (with and without captures, as `@rx` and `@rxGlobal` run) in bounded time.
//! And the prefilter's premise holds: a subject the pattern matches contains one of the
//! literals the pattern is said to need (ASCII case-insensitively).
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use sekisho_waf::operators::{self, rx, MatchOutput, OperatorEnv};

fuzz_target!(|data: &[u8]| {
    let split = data.iter().position(|&c| c == 0).unwrap_or(data.len());
    let pattern = String::from_utf8_lossy(data.get(..split).unwrap_or_default());
    let subject = data.get(split + 1..).unwrap_or_default();
    let _ = rx::translate(&pattern);
    if rx::compile(&pattern).is_err() {
        return;
    }
    let env = OperatorEnv {
        base_dir: Path::new("/nonexistent-sekisho-fuzz"),
        geo_db: None,
    };
    for name in ["rx", "rxGlobal"] {
        let Ok(op) = operators::build(name, &pattern, &env) else {
            panic!("`@{name}` refused a pattern `rx::compile` accepts");
        };
        for want_captures in [false, true] {
            let mut out = MatchOutput {
                want_captures,
                ..MatchOutput::default()
            };
            let matched = op.matches(subject, &mut out);
            assert!(out.captures.len() <= 10);
            if let (true, Some(lits)) = (matched, op.required_literals()) {
                let lower = subject.to_ascii_lowercase();
                assert!(
                    lits.iter().any(|l| lower.windows(l.len()).any(|w| w == l.as_slice())),
                    "`{pattern}` matched a subject containing none of {lits:?}"
                );
            }
            if want_captures {
                assert_eq!(matched, !out.captures.is_empty(), "`@{name}`");
            }
        }
    }
});
