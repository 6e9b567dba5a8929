//! `t:normalizePathWin` (also spelled `normalisePathWin`): like `normalizePath`, after turning
//! every `\` into `/`.
//!
//! ```text
//! SecRule REQUEST_FILENAME "@contains /windows/win.ini" "id:1,phase:1,t:none,t:normalizePathWin,deny"
//! ```

pub(crate) fn normalize_path_win(input: &[u8]) -> Option<Vec<u8>> {
    if !input.contains(&b'\\') {
        return super::normalize_path::normalize(input, true);
    }
    let slashes: Vec<u8> = input
        .iter()
        .map(|&b| if b == b'\\' { b'/' } else { b })
        .collect();
    let out = super::normalize_path::normalize(&slashes, true).unwrap_or(slashes);
    Some(out)
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
    }
}
