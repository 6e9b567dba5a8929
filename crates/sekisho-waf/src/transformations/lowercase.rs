//! `t:lowercase`: ASCII letters to lower case; other bytes (including ≥ 0x80) unchanged.
//!
//! ```text
//! SecRule REQUEST_HEADERS:User-Agent "@contains nikto" "id:1,phase:1,t:none,t:lowercase,deny"
//! ```

pub(crate) fn lowercase(input: &[u8]) -> Option<Vec<u8>> {
    if !input.iter().any(u8::is_ascii_uppercase) {
        return None;
    }
    Some(input.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::lowercase as t;

    #[test]
    fn vectors() {
        assert_eq!(t(b"abc"), None);
        assert!(t(b"").is_none());
        assert_eq!(t(b"SeLeCT \xc3\x89").unwrap(), b"select \xc3\x89");
    }
}
