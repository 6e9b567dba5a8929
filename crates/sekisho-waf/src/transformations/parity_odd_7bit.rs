//! `t:parityOdd7bit`: clears bit 7 of each byte whose 8-bit parity is odd, sets it otherwise
//! (ModSecurity counts bit 7 itself in the parity).
//!
//! ```text
//! SecRule ARGS "@rx attack" "id:1,phase:2,t:none,t:parityZero7bit,deny"
//! ```

pub(crate) fn parity_odd_7bit(input: &[u8]) -> Option<Vec<u8>> {
    super::parity_even_7bit::map_parity(input, |low, odd| if odd { low } else { low | 0x80 })
}

#[cfg(test)]
mod tests {
    use super::parity_odd_7bit as t;

    #[test]
    fn vectors() {
        assert_eq!(t(b"\x01"), None);
        assert_eq!(t(b"\x03\x81\x83").unwrap(), b"\x83\x81\x03");
    }
}
