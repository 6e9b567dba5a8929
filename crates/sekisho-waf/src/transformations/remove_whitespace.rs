//! `t:removeWhitespace`: deletes whitespace (space, `\t \n \v \f \r`) and the non-breaking
//! space byte 0xA0.
//!
//! ```text
//! SecRule ARGS "@rx unionselect" "id:1,phase:2,t:none,t:lowercase,t:removeWhitespace,deny"
//! ```

use super::util::is_c_space;

fn is_removed(b: u8) -> bool {
    is_c_space(b) || b == 0xa0
}

pub(crate) fn remove_whitespace(input: &[u8]) -> Option<Vec<u8>> {
    if !input.iter().any(|&b| is_removed(b)) {
        return None;
    }
    // Sized up front: collected from a filter, the buffer grew (and was copied) several times.
    let mut out = Vec::with_capacity(input.len());
    out.extend(input.iter().copied().filter(|&b| !is_removed(b)));
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::remove_whitespace as t;

    #[test]
    fn vectors() {
        assert_eq!(t(b"abc"), None);
        assert_eq!(t(b" a\tb\r\nc\x0b\x0cd\xa0e ").unwrap(), b"abcde");
    }
}
