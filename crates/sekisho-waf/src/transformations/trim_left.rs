//! `t:trimLeft`: removes leading whitespace (space, `\t \n \v \f \r`).
//!
//! ```text
//! SecRule ARGS:user "@beginsWith admin" "id:1,phase:2,t:none,t:trimLeft,deny"
//! ```

pub(crate) fn trim_left(input: &[u8]) -> Option<Vec<u8>> {
    super::trim::trim_ends(input, true, false)
}

#[cfg(test)]
mod tests {
    use super::trim_left as t;

    #[test]
    fn vectors() {
        assert_eq!(t(b"a "), None);
        assert_eq!(t(b" \ta ").unwrap(), b"a ");
    }
}
