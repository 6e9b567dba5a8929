//! `t:trim`: removes whitespace (space, `\t \n \v \f \r`) from both ends.
//!
//! ```text
//! SecRule ARGS:user "@streq admin" "id:1,phase:2,t:none,t:trim,deny"
//! ```

use super::util::is_c_space;

/// `input` without leading (`left`) and/or trailing (`right`) whitespace; `None` if unchanged.
pub(crate) fn trim_ends(input: &[u8], left: bool, right: bool) -> Option<Vec<u8>> {
    let start = if left {
        input.iter().take_while(|&&b| is_c_space(b)).count()
    } else {
        0
    };
    let rest = input.get(start..).unwrap_or_default();
    let end = if right {
        rest.len() - rest.iter().rev().take_while(|&&b| is_c_space(b)).count()
    } else {
        rest.len()
    };
    if start == 0 && end == rest.len() {
        return None;
    }
    Some(rest.get(..end).unwrap_or_default().to_vec())
}

pub(crate) fn trim(input: &[u8]) -> Option<Vec<u8>> {
    trim_ends(input, true, true)
}

#[cfg(test)]
mod tests {
    use super::trim as t;

    #[test]
    fn vectors() {
        assert_eq!(t(b"a b"), None);
        assert_eq!(t(b" \t a b \r\n").unwrap(), b"a b");
        assert_eq!(t(b"   ").unwrap(), b"");
        assert_eq!(t(b"\xa0a"), None);
    }
}
