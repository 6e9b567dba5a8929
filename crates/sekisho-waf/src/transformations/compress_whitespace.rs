//! `t:compressWhitespace`: turns each run of whitespace (space, `\t \n \v \f \r`) into one
//! space.
//!
//! ```text
//! SecRule ARGS "@rx union select" "id:1,phase:2,t:none,t:compressWhitespace,deny"
//! ```

use super::util::{changed, is_c_space};

pub(crate) fn compress_whitespace(input: &[u8]) -> Option<Vec<u8>> {
    // Fast path: nothing to do unless some whitespace is not a lone space.
    let mut prev_space = false;
    let needs = input.iter().any(|&b| {
        let space = is_c_space(b);
        let hit = space && (prev_space || b != b' ');
        prev_space = space;
        hit
    });
    if !needs {
        return None;
    }
    let mut out = Vec::with_capacity(input.len());
    let mut in_space = false;
    for &b in input {
        if is_c_space(b) {
            if !in_space {
                out.push(b' ');
                in_space = true;
            }
        } else {
            out.push(b);
            in_space = false;
        }
    }
    changed(input, out)
}

#[cfg(test)]
mod tests {
    use super::compress_whitespace as t;

    #[test]
    fn vectors() {
        assert_eq!(t(b"a b c"), None);
        assert_eq!(t(b"a  \t\nb\x0bc ").unwrap(), b"a b c ");
        assert_eq!(t(b"\t").unwrap(), b" ");
        assert_eq!(t(b"a\xa0b"), None);
    }
}
