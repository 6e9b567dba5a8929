//! `t:normalizePath` (also spelled `normalisePath`): removes self references (`./`), back
//! references (`dir/../`) and repeated slashes from a path.
//!
//! A relative path keeps the `..` it cannot resolve (`dir/../../foo` → `../foo`); an absolute
//! path never goes above `/`. A trailing slash is kept only if the input had one.
//!
//! ```text
//! SecRule REQUEST_FILENAME "@contains /etc/passwd" "id:1,phase:1,t:none,t:normalizePath,deny"
//! ```

/// The normalisation shared with `normalizePathWin`; `win` also treats `\` as a separator.
///
/// A single pass with a write cursor `dst` trailing the read cursor `src` over one buffer,
/// ModSecurity's algorithm, so that odd inputs normalise to the very same bytes.
pub(crate) fn normalize(input: &[u8], win: bool) -> Option<Vec<u8>> {
    if unchanged(input, win) {
        return None;
    }
    normalize_full(input, win)
}

/// Whether `normalize` surely leaves `input` as it is: no backslash to convert, no doubled
/// separator, and no dot next to a separator or at either end (the dots of `Mozilla/5.0` or
/// `q=0.8` never start or end a segment). Checked against the full algorithm on every input
/// of up to 9 bytes over `a./\` in the tests.
fn unchanged(input: &[u8], win: bool) -> bool {
    let is_sep = |b: u8| b == b'/' || (win && b == b'\\');
    if input.first() == Some(&b'.') || input.last() == Some(&b'.') {
        return false;
    }
    if win && input.contains(&b'\\') {
        return false;
    }
    !input.windows(2).any(|w| match *w {
        [a, b] => (is_sep(a) && (is_sep(b) || b == b'.')) || (a == b'.' && is_sep(b)),
        _ => false,
    })
}

/// The path normalisation itself, as ModSecurity's `normalize_path`.
fn normalize_full(input: &[u8], win: bool) -> Option<Vec<u8>> {
    let is_sep = |b: u8| b == b'/' || (win && b == b'\\');
    let (Some(&first), Some(&last)) = (input.first(), input.last()) else {
        return None;
    };
    let mut buf = input.to_vec();
    let relative = !is_sep(first);
    let trailing = is_sep(last);
    let end = input.len() as isize - 1;
    let at = |buf: &[u8], i: isize| -> u8 {
        usize::try_from(i)
            .ok()
            .and_then(|i| buf.get(i))
            .copied()
            .unwrap_or(0)
    };
    let (mut src, mut dst): (isize, isize) = (0, 0);
    let mut hit_root = false;
    let mut done = false;

    while !done && src <= end && dst <= end {
        if win {
            for k in [src, src + 1] {
                if k <= end && at(&buf, k) == b'\\' {
                    if let Some(b) = usize::try_from(k).ok().and_then(|k| buf.get_mut(k)) {
                        *b = b'/';
                    }
                }
            }
        }
        // Normalise at the end of each segment (and at the end of the input).
        let at_segment_end = if src == end {
            done = true;
            true
        } else {
            at(&buf, src + 1) == b'/'
        };
        let mut copy = true;
        if at_segment_end && !(src != end && at(&buf, src) == b'/') && at(&buf, src) == b'.' {
            if dst > 0 && at(&buf, dst - 1) == b'.' {
                // A back reference.
                if relative && (hit_root || dst - 2 <= 0) {
                    hit_root = true;
                } else {
                    dst -= 3;
                    while dst > 0 && at(&buf, dst) != b'/' {
                        dst -= 1;
                    }
                    if dst <= 0 {
                        hit_root = true;
                        dst = 0;
                        if !relative && src == end {
                            dst += 1;
                        }
                    }
                    if done {
                        copy = false;
                    } else {
                        src += 1;
                    }
                }
            } else if dst == 0 {
                // A relative self reference at the start.
                if done {
                    copy = false;
                } else {
                    src += 1;
                }
            } else if at(&buf, dst - 1) == b'/' {
                // A self reference.
                if done {
                    copy = false;
                } else {
                    dst -= 1;
                    src += 1;
                }
            }
        } else if at_segment_end && at(&buf, src) != b'/' && dst > 0 {
            hit_root = false;
        }
        if !copy {
            continue;
        }
        if at(&buf, src) == b'/' {
            while src < end && is_sep(at(&buf, src + 1)) {
                src += 1;
            }
            // A relative path never starts with a slash.
            if relative && dst == 0 {
                src += 1;
                continue;
            }
        }
        let c = at(&buf, src);
        if let Some(b) = usize::try_from(dst).ok().and_then(|d| buf.get_mut(d)) {
            *b = c;
        }
        dst += 1;
        src += 1;
    }
    if !trailing && dst > 0 && at(&buf, dst - 1) == b'/' {
        dst -= 1;
    }
    buf.truncate(usize::try_from(dst).unwrap_or(0));
    super::util::changed(input, buf)
}

pub(crate) fn normalize_path(input: &[u8]) -> Option<Vec<u8>> {
    normalize(input, false)
}

#[cfg(test)]
mod tests {
    use super::normalize_path as t;

    /// The shortcut never skips an input the full algorithm would change: every input of up
    /// to 9 bytes over `a`, `.`, `/`, `\\` (any other byte is treated like `a`), both variants.
    #[test]
    fn shortcut_agrees_with_the_full_algorithm() {
        let alphabet = [b'a', b'.', b'/', b'\\'];
        let mut input = Vec::new();
        for len in 0..=9u32 {
            for mut n in 0..4usize.pow(len) {
                input.clear();
                for _ in 0..len {
                    input.push(alphabet[n % 4]);
                    n /= 4;
                }
                for win in [false, true] {
                    if super::unchanged(&input, win) {
                        assert_eq!(
                            super::normalize_full(&input, win),
                            None,
                            "{input:?} win={win}"
                        );
                    }
                }
            }
        }
    }

    fn n(input: &str) -> String {
        String::from_utf8(t(input.as_bytes()).unwrap_or_else(|| input.as_bytes().to_vec())).unwrap()
    }

    const CASES: [(&str, &str); 33] = [
        ("", ""),
        ("/foo/bar/baz", "/foo/bar/baz"),
        ("/foo/bar\0/baz", "/foo/bar\0/baz"),
        ("x", "x"),
        (".", ""),
        ("./", ""),
        ("./..", ".."),
        ("./../", "../"),
        ("..", ".."),
        ("../", "../"),
        ("../.", ".."),
        (".././", "../"),
        ("../..", "../.."),
        ("../../", "../../"),
        ("/dir/foo//bar", "/dir/foo/bar"),
        ("dir/foo//bar/", "dir/foo/bar/"),
        ("dir/../foo", "foo"),
        ("dir/../../foo", "../foo"),
        ("dir/./.././../../foo/bar", "../../foo/bar"),
        ("dir/./.././../../foo/bar/.", "../../foo/bar"),
        ("dir/./.././../../foo/bar/./", "../../foo/bar/"),
        ("dir/./.././../../foo/bar/..", "../../foo"),
        ("dir/./.././../../foo/bar/../", "../../foo/"),
        ("dir/./.././../../foo/bar/", "../../foo/bar/"),
        ("dir//.//..//.//..//..//foo//bar", "../../foo/bar"),
        ("dir//.//..//.//..//..//foo//bar//", "../../foo/bar/"),
        ("dir/subdir/subsubdir/subsubsubdir/../../..", "dir"),
        ("dir/./subdir/./subsubdir/./subsubsubdir/../../..", "dir"),
        ("dir/./subdir/../subsubdir/../subsubsubdir/..", "dir"),
        ("/dir/./subdir/../subsubdir/../subsubsubdir/../", "/dir/"),
        (
            "/./.././../../../../../../../\0/../etc/./passwd",
            "/etc/passwd",
        ),
        ("/etc/../../../etc/passwd", "/etc/passwd"),
        ("/a/b/..", "/a"),
    ];

    #[test]
    fn vectors() {
        for (input, want) in CASES {
            assert_eq!(n(input), want, "input {input:?}");
        }
        assert_eq!(t(b"/foo/bar"), None);
    }

    /// The same vectors with Windows separators give the same results.
    #[test]
    fn windows_vectors() {
        use crate::transformations::normalize_path_win::normalize_path_win;
        for (input, want) in CASES {
            let win = input.replace('/', "\\");
            let out =
                normalize_path_win(win.as_bytes()).unwrap_or_else(|| win.clone().into_bytes());
            assert_eq!(String::from_utf8(out).unwrap(), want, "input {win:?}");
        }
    }

    #[test]
    fn never_panics() {
        for s in [
            "/..", "/.", "//", "..//..", "/../..", "a/..", ".../...", "/", "//..",
        ] {
            let _ = n(s);
        }
    }
}
