//! `t:uppercase`: ASCII letters to upper case; other bytes unchanged.
//!
//! ```text
//! SecRule REQUEST_METHOD "@streq POST" "id:1,phase:1,t:none,t:uppercase,pass"
//! ```

pub(crate) fn uppercase(input: &[u8]) -> Option<Vec<u8>> {
    if !input.iter().any(u8::is_ascii_lowercase) {
        return None;
    }
    Some(input.to_ascii_uppercase())
}

#[cfg(test)]
mod tests {
    use super::uppercase as t;

    #[test]
    fn vectors() {
        assert_eq!(t(b"ABC1"), None);
        assert_eq!(t(b"post \xe9").unwrap(), b"POST \xe9");
    }
}
