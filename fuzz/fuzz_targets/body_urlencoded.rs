//! Fuzzes the URL-encoded body/query-string processor: never panics, and the argument count
//! never exceeds the number of separators plus one.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sekisho_waf::bodies::urlencoded;

fuzz_target!(|data: &[u8]| {
    let separator = data.first().copied().unwrap_or(b'&');
    let body = data.get(1..).unwrap_or_default();
    let (args, _invalid) = urlencoded::parse_flagged(body, separator);
    let pieces = body.iter().filter(|&&c| c == separator).count() + 1;
    assert!(args.len() <= pieces);
    for (name, value) in &args {
        // Decoding never grows a piece.
        assert!(name.len() + value.len() <= body.len());
    }
});
