//! `t:none`: leaves the value as it is. The engine reads `none` as "drop the transformations
//! inherited so far" (from `SecDefaultAction`); it is registered so that lookups succeed.
//!
//! ```text
//! SecRule ARGS "@rx attack" "id:1,phase:2,t:none,t:lowercase,deny"
//! ```

pub(crate) fn none(_input: &[u8]) -> Option<Vec<u8>> {
    None
}

#[cfg(test)]
mod tests {
    #[test]
    fn identity() {
        assert_eq!(super::none(b"x"), None);
    }
}
