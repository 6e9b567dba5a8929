//! `t:replaceNulls`: replaces every NUL (0x00) byte with a space.
//!
//! ```text
//! SecRule ARGS "@rx a b" "id:1,phase:2,t:none,t:replaceNulls,deny"
//! ```

pub(crate) fn replace_nulls(input: &[u8]) -> Option<Vec<u8>> {
    if !input.contains(&0) {
        return None;
    }
    Some(
        input
            .iter()
            .map(|&b| if b == 0 { b' ' } else { b })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::replace_nulls as t;

    #[test]
    fn vectors() {
        assert_eq!(t(b"abc"), None);
        assert_eq!(t(b"a\x00b\x00").unwrap(), b"a b ");
    }
}
