//! `t:parityEven7bit`: sets bit 7 of each byte whose 8-bit parity is odd, clears it otherwise
//! (ModSecurity counts bit 7 itself in the parity).
//!
//! ```text
//! SecRule ARGS "@rx attack" "id:1,phase:2,t:none,t:parityZero7bit,deny"
//! ```

use super::util::changed;

/// Applies `f` to every byte's low 7 bits and its 8-bit parity (`true` when odd).
pub(crate) fn map_parity(input: &[u8], f: fn(u8, bool) -> u8) -> Option<Vec<u8>> {
    let out = input
        .iter()
        .map(|&b| f(b & 0x7f, b.count_ones() % 2 == 1))
        .collect();
    changed(input, out)
}

pub(crate) fn parity_even_7bit(input: &[u8]) -> Option<Vec<u8>> {
    map_parity(input, |low, odd| if odd { low | 0x80 } else { low })
}

#[cfg(test)]
mod tests {
    use super::parity_even_7bit as t;

    #[test]
    fn vectors() {
        assert_eq!(t(b"\x03"), None);
        assert_eq!(t(b"\x01\x83\x81").unwrap(), b"\x81\x83\x01");
    }
}
