//! `t:trimRight`: removes trailing whitespace (space, `\t \n \v \f \r`).
//!
//! ```text
//! SecRule ARGS:user "@endsWith admin" "id:1,phase:2,t:none,t:trimRight,deny"
//! ```

pub(crate) fn trim_right(input: &[u8]) -> Option<Vec<u8>> {
    super::trim::trim_ends(input, false, true)
}

#[cfg(test)]
mod tests {
    use super::trim_right as t;

    #[test]
    fn vectors() {
        assert_eq!(t(b" a"), None);
        assert_eq!(t(b" a \r\n").unwrap(), b" a");
    }
}
