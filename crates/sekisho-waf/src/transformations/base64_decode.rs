//! `t:base64Decode`: decodes Base64 (padding optional). Decoding stops at the first byte
//! that is neither in the Base64 alphabet nor CR/LF (`=` included) and returns what was
//! decoded so far; a final lone sextet is dropped.
//!
//! ```text
//! SecRule REQUEST_HEADERS:Authorization "@rx ^admin:" "id:1,phase:1,t:none,t:base64Decode,deny"
//! ```

/// Value of a standard Base64 alphabet byte.
pub(crate) fn sextet(b: u8) -> Option<u8> {
    match b {
        b'A'..=b'Z' => Some(b - b'A'),
        b'a'..=b'z' => Some(b - b'a' + 26),
        b'0'..=b'9' => Some(b - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

/// Accumulates sextets into bytes.
#[derive(Default)]
pub(crate) struct Decoder {
    acc: u32,
    n: u8,
    pub(crate) out: Vec<u8>,
}

impl Decoder {
    pub(crate) fn push(&mut self, v: u8) {
        self.acc = (self.acc << 6) | u32::from(v);
        self.n += 1;
        if self.n == 4 {
            self.out.extend_from_slice(&[
                (self.acc >> 16) as u8,
                (self.acc >> 8) as u8,
                self.acc as u8,
            ]);
            self.acc = 0;
            self.n = 0;
        }
    }

    pub(crate) fn finish(mut self) -> Vec<u8> {
        match self.n {
            2 => self.out.push((self.acc >> 4) as u8),
            3 => self
                .out
                .extend_from_slice(&[(self.acc >> 10) as u8, (self.acc >> 2) as u8]),
            _ => {}
        }
        self.out
    }
}

pub(crate) fn base64_decode(input: &[u8]) -> Option<Vec<u8>> {
    let mut d = Decoder {
        out: Vec::with_capacity(input.len() / 4 * 3 + 3),
        ..Decoder::default()
    };
    for &b in input {
        if b == b'\r' || b == b'\n' {
            continue;
        }
        match sextet(b) {
            Some(v) => d.push(v),
            None => break,
        }
    }
    super::util::changed(input, d.finish())
}

#[cfg(test)]
mod tests {
    use super::base64_decode as t;

    #[test]
    fn vectors() {
        assert_eq!(t(b""), None);
        assert_eq!(t(b"VGVzdENhc2U=").unwrap(), b"TestCase");
        assert_eq!(t(b"VGVzdENhc2U").unwrap(), b"TestCase");
        assert_eq!(t(b"VGVz\r\ndA==").unwrap(), b"Test");
        assert_eq!(t(b"VGVzdA==VGVzdA==").unwrap(), b"Test");
        assert_eq!(t(b"VGVz dA").unwrap(), b"Tes");
        assert_eq!(t(b"VGVzd").unwrap(), b"Tes");
        assert_eq!(t(b"P.HNjcmlwd").unwrap(), b"");
        assert_eq!(t(b"\xff").unwrap(), b"");
    }
}
