//! `t:length`: replaces the value with its length in bytes, in decimal.
//!
//! ```text
//! SecRule ARGS "@gt 400" "id:1,phase:2,t:none,t:length,deny"
//! ```

pub(crate) fn length(input: &[u8]) -> Option<Vec<u8>> {
    super::util::changed(input, input.len().to_string().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::length as t;

    #[test]
    fn vectors() {
        assert_eq!(t(b"").unwrap(), b"0");
        assert_eq!(t(b"1"), None);
        assert_eq!(t(b"\x00\xffabc").unwrap(), b"5");
    }
}
