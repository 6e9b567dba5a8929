//! `application/x-www-form-urlencoded` bodies and query strings, the ModSecurity v3 way.

use super::Arg;

/// Splits `body` into arguments on `separator` (`SecArgumentSeparator`, default `b'&'`), name and
/// value on the first `=`, both URL-decoded as ModSecurity does (`+` is a space, an invalid `%`
/// escape stays as is). Used for the request body (`ARGS_POST`) and for the query string
/// (`ARGS_GET`) alike.
///
/// Empty pieces are kept as ModSecurity v3 keeps them: `a&&b` gives `a`, an argument with an
/// empty name, and `b`; a trailing separator adds nothing; a piece without `=` is a name with an
/// empty value.
///
/// Example: `parse(b"a=1&b=x+y", b'&')` gives `[("a", "1"), ("b", "x y")]`.
pub fn parse(body: &[u8], separator: u8) -> Vec<Arg> {
    parse_flagged(body, separator).0
}

/// [`parse`], and whether any `%` escape was invalid (ModSecurity's `URLENCODED_ERROR`).
///
/// Example: `parse_flagged(b"a=%zz", b'&')` gives `([("a", "%zz")], true)`.
pub fn parse_flagged(body: &[u8], separator: u8) -> (Vec<Arg>, bool) {
    let mut invalid = false;
    let mut args = Vec::new();
    let mut pieces: Vec<&[u8]> = body.split(|&c| c == separator).collect();
    // Like C++ `getline`: a trailing separator does not make a last, empty piece.
    if pieces.last().is_some_and(|p| p.is_empty()) {
        pieces.pop();
    }
    for piece in pieces {
        let (name, value) = match piece.iter().position(|&c| c == b'=') {
            Some(eq) => (
                piece.get(..eq).unwrap_or_default(),
                piece.get(eq + 1..).unwrap_or_default(),
            ),
            None => (piece, &b""[..]),
        };
        args.push((decode(name, &mut invalid), decode(value, &mut invalid)));
    }
    (args, invalid)
}

/// ModSecurity's non-strict URL decoding: `%XX` with two hex digits is decoded, `+` becomes a
/// space, any other `%` is kept and sets `invalid`.
///
/// Example: `decode(b"a%41+%4", …)` gives `aA %4` and sets `invalid`.
pub fn decode(input: &[u8], invalid: &mut bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while let Some(&c) = input.get(i) {
        match c {
            b'%' => {
                let hex = (input.get(i + 1), input.get(i + 2));
                if let (Some(&h), Some(&l)) = hex {
                    if let (Some(h), Some(l)) = (hex_value(h), hex_value(l)) {
                        out.push(h << 4 | l);
                        i += 3;
                        continue;
                    }
                }
                *invalid = true;
                out.push(b'%');
            }
            b'+' => out.push(b' '),
            _ => out.push(c),
        }
        i += 1;
    }
    out
}

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(body: &[u8]) -> Vec<(String, String)> {
        parse(body, b'&')
            .into_iter()
            .map(|(n, v)| {
                (
                    String::from_utf8_lossy(&n).into(),
                    String::from_utf8_lossy(&v).into(),
                )
            })
            .collect()
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn splits_and_decodes() {
        assert_eq!(args(b"a=1&b=x+y"), pairs(&[("a", "1"), ("b", "x y")]));
        assert_eq!(args(b"a=%3Cscript%3E"), pairs(&[("a", "<script>")]));
        assert_eq!(args(b"a%5B%5D=1"), pairs(&[("a[]", "1")]));
    }

    #[test]
    fn value_keeps_later_equals() {
        assert_eq!(args(b"a=b=c"), pairs(&[("a", "b=c")]));
    }

    #[test]
    fn empty_pieces_as_modsecurity_v3() {
        assert_eq!(args(b""), pairs(&[]));
        assert_eq!(args(b"a&&b"), pairs(&[("a", ""), ("", ""), ("b", "")]));
        assert_eq!(args(b"a=1&"), pairs(&[("a", "1")]));
        assert_eq!(args(b"&a=1"), pairs(&[("", ""), ("a", "1")]));
        assert_eq!(args(b"=x"), pairs(&[("", "x")]));
    }

    #[test]
    fn invalid_escapes_stay_and_flag() {
        let (list, invalid) = parse_flagged(b"a=%zz&b=%4&c=%", b'&');
        assert!(invalid);
        let values: Vec<&[u8]> = list.iter().map(|(_, v)| v.as_slice()).collect();
        assert_eq!(values, vec![&b"%zz"[..], b"%4", b"%"]);
        assert!(!parse_flagged(b"a=%41", b'&').1);
    }

    #[test]
    fn custom_separator() {
        assert_eq!(parse(b"a=1;b=2", b';').len(), 2);
        assert_eq!(parse(b"a=1&b=2", b';').len(), 1);
    }

    #[test]
    fn raw_bytes_survive() {
        let list = parse(b"a=%ff%00\xfe", b'&');
        assert_eq!(list, vec![(b"a".to_vec(), vec![0xff, 0x00, 0xfe])]);
    }
}
