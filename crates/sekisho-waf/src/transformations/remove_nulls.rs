//! `t:removeNulls`: deletes every NUL (0x00) byte.
//!
//! ```text
//! SecRule ARGS "@rx <script" "id:1,phase:2,t:none,t:removeNulls,deny"
//! ```

pub(crate) fn remove_nulls(input: &[u8]) -> Option<Vec<u8>> {
    if !input.contains(&0) {
        return None;
    }
    let mut out = Vec::with_capacity(input.len());
    out.extend(input.iter().copied().filter(|&b| b != 0));
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::remove_nulls as t;

    #[test]
    fn vectors() {
        assert_eq!(t(b"abc"), None);
        assert_eq!(t(b"\x00a\x00\x00b\x00").unwrap(), b"ab");
        assert_eq!(t(b"\x00").unwrap(), b"");
    }
}
