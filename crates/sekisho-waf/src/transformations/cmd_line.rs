//! `t:cmdLine`: normalises a command line the way shells read it.
//!
//! Deletes `\ " ' ^`; turns runs of spaces, tabs, CR, LF, `,` and `;` into one space; drops a
//! space before `/` or `(`; lower-cases ASCII letters.
//!
//! ```text
//! SecRule ARGS "@rx /bin/sh" "id:1,phase:2,t:none,t:cmdLine,deny"
//! ```

use super::util::changed;

/// Whether `cmd_line` would change anything: most values pass untouched.
fn needs_change(input: &[u8]) -> bool {
    let mut prev_space = false;
    for &b in input {
        match b {
            b'A'..=b'Z' | b'"' | b'\'' | b'\\' | b'^' | b',' | b';' | b'\t' | b'\r' | b'\n' => {
                return true
            }
            b' ' if prev_space => return true,
            b'/' | b'(' if prev_space => return true,
            _ => {}
        }
        prev_space = b == b' ';
    }
    false
}

pub(crate) fn cmd_line(input: &[u8]) -> Option<Vec<u8>> {
    if !needs_change(input) {
        return None;
    }
    let mut out = Vec::with_capacity(input.len());
    let mut space = false;
    for &b in input {
        match b {
            b'"' | b'\'' | b'\\' | b'^' => {}
            b' ' | b',' | b';' | b'\t' | b'\r' | b'\n' => {
                if !space {
                    out.push(b' ');
                    space = true;
                }
            }
            b'/' | b'(' => {
                if space {
                    out.pop();
                }
                space = false;
                out.push(b);
            }
            _ => {
                out.push(b.to_ascii_lowercase());
                space = false;
            }
        }
    }
    changed(input, out)
}

#[cfg(test)]
mod tests {
    use super::cmd_line as t;

    #[test]
    fn vectors() {
        assert_eq!(t(b"cat"), None);
        assert_eq!(t(b"C^A\"T' /etc/passwd").unwrap(), b"cat/etc/passwd");
        assert_eq!(t(b"ls ,; \t-la").unwrap(), b"ls -la");
        assert_eq!(t(b"echo  (x)").unwrap(), b"echo(x)");
        assert_eq!(t(b"w\\h\\o\\a\\m\\i").unwrap(), b"whoami");
        assert_eq!(t(b" "), None);
        assert!(t(b"\xc3\x89").is_none());
    }
}
