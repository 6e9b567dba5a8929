//! Integer parsing shared by `@eq @ge @gt @le @lt`, as ModSecurity's `std::stoi`: leading
//! whitespace, an optional sign, then digits; anything else after them is ignored. A value
//! without digits, or out of the 32-bit range, counts as 0.

pub(crate) fn parse_int(s: &[u8]) -> i64 {
    let s = s.trim_ascii_start();
    let (neg, digits) = match s.first() {
        Some(b'-') => (true, s.get(1..).unwrap_or_default()),
        Some(b'+') => (false, s.get(1..).unwrap_or_default()),
        _ => (false, s),
    };
    let mut value: i64 = 0;
    for &d in digits.iter().take_while(|d| d.is_ascii_digit()) {
        value = value * 10 + i64::from(d - b'0');
        if value > i64::from(i32::MAX) + 1 {
            return 0;
        }
    }
    let value = if neg { -value } else { value };
    if i32::try_from(value).is_ok() {
        value
    } else {
        0
    }
}

/// A numeric comparison operator: `input <op> arg`.
#[derive(Debug)]
pub(crate) struct Compare {
    pub(crate) arg: i64,
    pub(crate) cmp: fn(i64, i64) -> bool,
}

impl super::Operator for Compare {
    fn matches(&self, input: &[u8], _out: &mut super::MatchOutput) -> bool {
        (self.cmp)(parse_int(input), self.arg)
    }
}

/// The comparison of `@eq @ge @gt @le @lt` by operator name (lower case).
pub(crate) fn comparison(name: &str) -> Option<fn(i64, i64) -> bool> {
    match name {
        "eq" => Some(|a, b| a == b),
        "ge" => Some(|a, b| a >= b),
        "gt" => Some(|a, b| a > b),
        "le" => Some(|a, b| a <= b),
        "lt" => Some(|a, b| a < b),
        _ => None,
    }
}

/// Builds a comparison; the argument is parsed like the input.
pub(crate) fn build_compare(
    arg: &str,
    cmp: fn(i64, i64) -> bool,
) -> Result<Box<dyn super::Operator>, String> {
    Ok(Box::new(Compare {
        arg: parse_int(arg.as_bytes()),
        cmp,
    }))
}

#[cfg(test)]
mod tests {
    use super::parse_int;

    #[test]
    fn stoi_semantics() {
        assert_eq!(parse_int(b"42"), 42);
        assert_eq!(parse_int(b"  -7abc"), -7);
        assert_eq!(parse_int(b"+3"), 3);
        assert_eq!(parse_int(b"abc"), 0);
        assert_eq!(parse_int(b""), 0);
        assert_eq!(parse_int(b"-"), 0);
        assert_eq!(parse_int(b"2147483647"), 2147483647);
        assert_eq!(parse_int(b"-2147483648"), -2147483648);
        assert_eq!(parse_int(b"2147483648"), 0);
        assert_eq!(parse_int(b"99999999999999999999999"), 0);
        assert_eq!(parse_int(b"1.5"), 1);
    }
}
