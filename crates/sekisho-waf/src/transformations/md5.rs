//! `t:md5`: replaces the value with its raw 16-byte MD5 digest (combine with `t:hexEncode`).
//!
//! ```text
//! SecRule ARGS:file "@streq d41d8cd98f00b204e9800998ecf8427e" "id:1,phase:2,t:none,t:md5,t:hexEncode,deny"
//! ```

pub(crate) fn md5(input: &[u8]) -> Option<Vec<u8>> {
    super::util::changed(input, ::md5::compute(input).0.to_vec())
}

#[cfg(test)]
mod tests {
    use super::md5 as t;
    use crate::transformations::hex_encode::hex_encode;

    #[test]
    fn vectors() {
        let hex = |v: &[u8]| hex_encode(&t(v).unwrap()).unwrap();
        assert_eq!(hex(b""), b"d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(hex(b"abc"), b"900150983cd24fb0d6963f7d28e17f72");
    }
}
