//! `t:hexDecode`: decodes pairs of hex digits into bytes. As in ModSecurity, a pair is not
//! validated (a non-hex digit gives a meaningless but stable byte) and an odd final digit is
//! dropped.
//!
//! ```text
//! SecRule ARGS:data "@rx <script" "id:1,phase:2,t:none,t:hexDecode,deny"
//! ```

/// ModSecurity's `x2c` digit arithmetic, total for any byte.
fn digit(c: u8) -> u8 {
    if c >= b'A' {
        (c & 0xdf).wrapping_sub(b'A').wrapping_add(10)
    } else {
        c.wrapping_sub(b'0')
    }
}

pub(crate) fn hex_decode(input: &[u8]) -> Option<Vec<u8>> {
    let out = input
        .chunks_exact(2)
        .map(|p| {
            let hi = p.first().copied().map_or(0, digit);
            let lo = p.get(1).copied().map_or(0, digit);
            hi.wrapping_mul(16).wrapping_add(lo)
        })
        .collect();
    super::util::changed(input, out)
}

#[cfg(test)]
mod tests {
    use super::hex_decode as t;

    #[test]
    fn vectors() {
        assert_eq!(t(b""), None);
        assert_eq!(t(b"3c7363726970743E").unwrap(), b"<script>");
        assert_eq!(t(b"414").unwrap(), b"A");
        assert_eq!(t(b"00ff").unwrap(), b"\x00\xff");
        let _ = t(b"zz\xff\x00");
    }
}
