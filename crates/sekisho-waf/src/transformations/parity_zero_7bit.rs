//! `t:parityZero7bit`: clears bit 7 of every byte.
//!
//! ```text
//! SecRule ARGS "@rx attack" "id:1,phase:2,t:none,t:parityZero7bit,deny"
//! ```

pub(crate) fn parity_zero_7bit(input: &[u8]) -> Option<Vec<u8>> {
    super::parity_even_7bit::map_parity(input, |low, _| low)
}

#[cfg(test)]
mod tests {
    use super::parity_zero_7bit as t;

    #[test]
    fn vectors() {
        assert_eq!(t(b"abc"), None);
        assert_eq!(t(b"\xe1b").unwrap(), b"ab");
    }
}
