//! Feeds arbitrary bytes to the SQL-injection detector: it must return a verdict (a
//! non-empty fingerprint of at most five token codes, or none) and never panic or hang.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(fingerprint) = sekisho_injection::detect_sqli(data) {
        assert!(
            !fingerprint.is_empty() && fingerprint.len() <= 5,
            "{fingerprint}"
        );
    }
});
