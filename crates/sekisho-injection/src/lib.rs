//! SQL-injection and XSS detection with libinjection's verdicts, in pure Rust.
//!
//! Pure functions over bytes: no allocation on the hot path, no I/O, no dependency on
//! the WAF engine. Used by the `@detectSQLi` and `@detectXSS` operators. The keyword,
//! fingerprint and black-list tables are libinjection's data; the tokenizers, folding
//! and checks follow its algorithms so that verdicts (and fingerprints) agree.

mod sqli;
mod xss;

/// Returns the libinjection fingerprint (e.g. `s&sos`) when `input` is SQL injection.
///
/// Example: `detect_sqli(b"1' OR '1'='1")` is `Some("s&sos")`; `detect_sqli(b"O'Reilly")`
/// is `None`.
pub fn detect_sqli(input: &[u8]) -> Option<String> {
    sqli::detect(input)
}

/// Returns true when `input` is cross-site scripting.
///
/// Example: `detect_xss(b"<img src=x onerror=alert(1)>")` is true.
pub fn detect_xss(input: &[u8]) -> bool {
    xss::detect(input)
}

/// Bytes one of which every input [`detect_xss`] flags holds (`<` or `=`): a caller may
/// pass over values without them.
pub fn xss_needs_one_of() -> &'static [u8] {
    xss::NEEDED
}

/// Calls `f` with every string of up to `max_len` bytes over `alphabet` (for the tests that
/// check a shortcut against the full detector).
#[cfg(test)]
fn each_string(alphabet: &[u8], max_len: u32, mut f: impl FnMut(&[u8])) {
    let mut input = Vec::new();
    for n in 0..=max_len {
        for mut i in 0..alphabet.len().pow(n) {
            input.clear();
            for _ in 0..n {
                input.extend(alphabet.get(i % alphabet.len()));
                i /= alphabet.len();
            }
            f(&input);
        }
    }
}
