//! Feeds arbitrary text to the SecLang parser: it must return directives or errors, never
//! panic, hang or recurse without bound. Inputs naming `Include` are skipped: an absolute
//! include or a `/**` glob would read or walk the real filesystem (includes have unit tests).
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    // Squash continuations (`Inc\\\nlude`) before looking for the directive name.
    let squashed: String = text
        .chars()
        .filter(|c| !matches!(c, '\\' | '\n' | '\r'))
        .collect();
    if squashed.to_ascii_lowercase().contains("include") {
        return;
    }
    let origin = Path::new("/nonexistent-sekisho-fuzz/fuzz.conf");
    let (directives, errors) = sekisho_seclang::parse_str_all(&text, origin);
    // Rendering must not panic either (Display of spans and messages).
    for error in &errors {
        let _ = error.to_string();
    }
    for directive in &directives {
        let _ = directive.span.to_string();
        let _ = directive.kind.directive_name();
    }
});
