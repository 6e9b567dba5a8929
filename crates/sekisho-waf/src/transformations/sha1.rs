//! `t:sha1`: replaces the value with its raw 20-byte SHA-1 digest (combine with `t:hexEncode`).
//!
//! ```text
//! SecRule REQUEST_HEADERS:User-Agent "@unconditionalMatch" "id:1,phase:1,t:none,t:sha1,t:hexEncode,setvar:tx.ua_hash=%{MATCHED_VAR},pass"
//! ```

use sha1::{Digest, Sha1};

pub(crate) fn sha1(input: &[u8]) -> Option<Vec<u8>> {
    super::util::changed(input, Sha1::digest(input).to_vec())
}

#[cfg(test)]
mod tests {
    use super::sha1 as t;
    use crate::transformations::hex_encode::hex_encode;

    #[test]
    fn vectors() {
        let hex = |v: &[u8]| hex_encode(&t(v).unwrap()).unwrap();
        assert_eq!(hex(b""), b"da39a3ee5e6b4b0d3255bfef95601890afd80709");
        assert_eq!(hex(b"abc"), b"a9993e364706816aba3e25717850c26c9cd0d89d");
    }
}
