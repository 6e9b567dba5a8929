//! Feeds arbitrary bytes to the XSS detector: it must return a verdict and never panic
//! or hang.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = sekisho_injection::detect_xss(data);
});
