//! Byte helpers shared by the transformations (C-locale `ctype` semantics, as ModSecurity).

/// Value of one ASCII hex digit.
pub(crate) fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Byte of two hex digits, or `None` when either is not a hex digit.
pub(crate) fn hex_pair(hi: Option<&u8>, lo: Option<&u8>) -> Option<u8> {
    Some((hex_val(*hi?)? << 4) | hex_val(*lo?)?)
}

/// `isspace()` in the C locale: space, `\t`, `\n`, `\v`, `\f`, `\r`.
pub(crate) fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t'..=b'\r')
}

/// `f` or `F`: the high byte of a full-width `%uFFxx` code.
pub(crate) fn is_f(b: Option<&u8>) -> bool {
    matches!(b, Some(b'f' | b'F'))
}

/// Maps a full-width ASCII code (`U+FF01`–`U+FF5E`) to ASCII; any other code keeps its low byte.
pub(crate) fn full_width_low_byte(high_is_ff: bool, low: u8) -> u8 {
    if high_is_ff && low > 0x00 && low < 0x5f {
        low + 0x20
    } else {
        low
    }
}

/// `Some(out)` when `out` differs from `input`: the registry's "unchanged" contract.
pub(crate) fn changed(input: &[u8], out: Vec<u8>) -> Option<Vec<u8>> {
    if out == input {
        None
    } else {
        Some(out)
    }
}

/// Lower-case hex digit of a nibble.
pub(crate) fn hex_digit(n: u8) -> u8 {
    match n & 0x0f {
        d @ 0..=9 => b'0' + d,
        d => b'a' + d - 10,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_helpers() {
        assert_eq!(hex_pair(Some(&b'4'), Some(&b'1')), Some(0x41));
        assert_eq!(hex_pair(Some(&b'f'), Some(&b'F')), Some(0xff));
        assert_eq!(hex_pair(Some(&b'g'), Some(&b'1')), None);
        assert_eq!(hex_pair(Some(&b'1'), None), None);
        assert_eq!(hex_digit(0xa), b'a');
        assert!(is_c_space(0x0b) && !is_c_space(0xa0));
        assert_eq!(full_width_low_byte(true, 0x01), b'!');
        assert_eq!(full_width_low_byte(false, 0x01), 0x01);
    }
}
