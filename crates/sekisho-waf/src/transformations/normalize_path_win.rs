//! `t:normalizePathWin` (also spelled `normalisePathWin`): like `normalizePath`, with `\` as a
//! separator too, turned into `/`.
//!
//! ```text
//! SecRule REQUEST_FILENAME "@contains /windows/win.ini" "id:1,phase:1,t:none,t:normalizePathWin,deny"
//! ```

pub(crate) fn normalize_path_win(input: &[u8]) -> Option<Vec<u8>> {
    // The backslashes are converted during the pass, as ModSecurity does: a run of three or
    // more separators can then leave a `\` in the output, exactly like the reference.
    super::normalize_path::normalize(input, true)
}

#[cfg(test)]
mod tests {
    use super::normalize_path_win as t;

    #[test]
    fn vectors() {
        assert_eq!(t(b"/foo/bar"), None);
        assert_eq!(t(b"C:\\windows\\..\\boot.ini").unwrap(), b"C:/boot.ini");
        assert_eq!(t(b"\\foo\\\\bar\\.\\baz\\").unwrap(), b"/foo/bar/baz/");
        assert_eq!(t(b"..\\..\\x").unwrap(), b"../../x");
        assert_eq!(t(b"a\\b/..\\c").unwrap(), b"a/c");
        // ModSecurity keeps the last separator of a long mixed run as it is.
        assert_eq!(t(b"a/\\\\b").unwrap(), b"a\\b");
    }
}
