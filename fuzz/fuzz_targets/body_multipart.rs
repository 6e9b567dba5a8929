//! Fuzzes the multipart processor: the first line is the `Content-Type` value, the rest the
//! body. Never panics; the derived values stay consistent.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sekisho_waf::bodies::multipart::{self, MultipartLimits};

fuzz_target!(|data: &[u8]| {
    let split = data.iter().position(|&c| c == b'\n').unwrap_or(data.len());
    let content_type = data.get(..split).unwrap_or_default();
    let body = data.get(split + 1..).unwrap_or_default();
    let limits = MultipartLimits {
        max_files: 3,
        max_parts: 50,
        max_part_headers: 10,
    };
    let m = multipart::parse(body, content_type, &limits);
    let sum: u64 = m.files.iter().map(|f| f.size).sum();
    assert_eq!(m.files_combined_size(), sum);
    assert!(m.files.iter().all(|f| f.content.len() as u64 <= f.size));
    assert!(m.files.iter().filter(|f| !f.content.is_empty()).count() <= 3);
    if m.flags.lf_line || m.flags.data_before || m.flags.data_after {
        assert!(m.strict_error());
    }
    assert!(m.args.len() + m.files.len() <= 50);
});
