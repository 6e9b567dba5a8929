//! Fuzzes the JSON processor with a small depth limit: never panics, never overflows the
//! stack, and `parse` agrees with `parse_partial`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sekisho_waf::bodies::json;

fuzz_target!(|data: &[u8]| {
    let (args, error) = json::parse_partial(data, 64);
    match json::parse(data, 64) {
        Ok(full) => {
            assert!(error.is_none());
            assert_eq!(full, args);
        }
        Err(e) => assert_eq!(Some(e), error),
    }
    for (name, _) in &args {
        assert!(name.starts_with(b"json"));
    }
});
