//! `t:urlDecode`: decodes `%XX` escapes and `+` (to a space); invalid escapes stay as they are.
//!
//! ```text
//! SecRule REQUEST_BASENAME "@streq admin.php" "id:1,phase:1,t:none,t:urlDecode,deny"
//! ```

use super::util::{changed, hex_pair};

pub(crate) fn url_decode(input: &[u8]) -> Option<Vec<u8>> {
    if !input.iter().any(|&b| b == b'%' || b == b'+') {
        return None;
    }
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while let Some(rest) = input.get(i..).filter(|r| !r.is_empty()) {
        // Copy the run of plain bytes at once.
        let run = rest
            .iter()
            .position(|&b| b == b'%' || b == b'+')
            .unwrap_or(rest.len());
        out.extend_from_slice(rest.get(..run).unwrap_or_default());
        i += run;
        let Some(&b) = input.get(i) else { break };
        match b {
            b'%' => match hex_pair(input.get(i + 1), input.get(i + 2)) {
                Some(c) => {
                    out.push(c);
                    i += 3;
                }
                None => {
                    out.push(b'%');
                    i += 1;
                }
            },
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    changed(input, out)
}

#[cfg(test)]
mod tests {
    use super::url_decode as t;

    #[test]
    fn vectors() {
        assert_eq!(t(b"plain"), None);
        assert_eq!(t(b"a%20b+c%3d").unwrap(), b"a b c=");
        assert_eq!(t(b"%00%ff").unwrap(), b"\x00\xff");
        // No `%u` support: `%u0041` stays.
        assert_eq!(t(b"%u0041"), None);
        assert_eq!(t(b"%"), None);
        assert_eq!(t(b"%2"), None);
        assert_eq!(t(b"%%2541").unwrap(), b"%%41");
    }
}
