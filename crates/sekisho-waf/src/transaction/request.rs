//! Request line and header intake: fills `REQUEST_*`, `QUERY_STRING`, `ARGS_GET`,
//! `REQUEST_HEADERS` and `REQUEST_COOKIES` as ModSecurity v3 does.

use super::data::TxData;
use crate::bodies::urlencoded;

/// Decodes `%XX` escapes (not `+`); an invalid escape stays as written.
pub(crate) fn percent_decode(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while let Some(&b) = s.get(i) {
        if b == b'%' {
            let hex = |o: usize| s.get(i + o).and_then(|c| (*c as char).to_digit(16));
            if let (Some(h), Some(l)) = (hex(1), hex(2)) {
                out.push(u8::try_from(h * 16 + l).unwrap_or(b'%'));
                i += 3;
                continue;
            }
        }
        out.push(b);
        i += 1;
    }
    out
}

pub(crate) fn process_uri(d: &mut TxData, uri: &[u8], method: &str, protocol: &str, separator: u8) {
    d.request_method = method.as_bytes().to_vec();
    d.request_protocol = protocol.as_bytes().to_vec();
    let mut line = method.as_bytes().to_vec();
    line.push(b' ');
    line.extend_from_slice(uri);
    if !protocol.is_empty() {
        line.push(b' ');
        line.extend_from_slice(protocol.as_bytes());
    }
    d.request_line = line;
    d.request_uri_raw = uri.to_vec();
    d.request_uri = uri.to_vec();

    // Absolute form (`http://host/path`): the path starts after the authority. Only a
    // target that does not start with `/` and whose first `:` opens `//` is absolute, so a
    // query value such as `?u=http://x/` leaves the path alone (as in ModSecurity v3).
    let mut path_and_query = uri;
    if uri.first() != Some(&b'/') {
        if let Some(p) = uri.iter().position(|&b| b == b':') {
            if let Some(after) = uri.get(p + 1..).and_then(|a| a.strip_prefix(b"//")) {
                let slash = after.iter().position(|&b| b == b'/').unwrap_or(after.len());
                path_and_query = after.get(slash..).unwrap_or_default();
            }
        }
    }
    let (path, query) = match path_and_query.iter().position(|&b| b == b'?') {
        Some(q) => (
            path_and_query.get(..q).unwrap_or_default(),
            Some(path_and_query.get(q + 1..).unwrap_or_default()),
        ),
        None => (path_and_query, None),
    };
    d.request_filename = percent_decode(path);
    d.request_basename = match d
        .request_filename
        .iter()
        .rposition(|&b| b == b'/' || b == b'\\')
    {
        Some(i) => d.request_filename.get(i + 1..).unwrap_or_default().to_vec(),
        None => d.request_filename.clone(),
    };
    if let Some(q) = query {
        d.query_string = q.to_vec();
        for (k, v) in urlencoded::parse(q, separator) {
            d.args_get.entries.push((k, v));
        }
    }
}

pub(crate) fn add_header(d: &mut TxData, name: &[u8], value: &[u8]) {
    d.request_headers.add(name, value);
    if name.eq_ignore_ascii_case(b"cookie") {
        parse_cookies(d, value);
    }
}

/// Version 0 cookies as ModSecurity v3 parses them: `;`-separated `name=value` pairs,
/// leading spaces trimmed from names; a pair without `=` is a name with an empty value.
fn parse_cookies(d: &mut TxData, header: &[u8]) {
    for part in header.split(|&b| b == b';') {
        let part = trim_start(part);
        if part.is_empty() {
            continue;
        }
        let (k, v) = match part.iter().position(|&b| b == b'=') {
            Some(i) => (
                part.get(..i).unwrap_or_default(),
                part.get(i + 1..).unwrap_or_default(),
            ),
            None => (part, &b""[..]),
        };
        d.request_cookies.add(k, v);
    }
}

fn trim_start(s: &[u8]) -> &[u8] {
    let n = s.iter().take_while(|b| b.is_ascii_whitespace()).count();
    s.get(n..).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uri_parts() {
        let mut d = TxData::default();
        process_uri(&mut d, b"/a%20b/c.php?x=1&y=2", "GET", "HTTP/1.1", b'&');
        assert_eq!(d.request_filename, b"/a b/c.php");
        assert_eq!(d.request_basename, b"c.php");
        assert_eq!(d.query_string, b"x=1&y=2");
        assert_eq!(d.request_line, b"GET /a%20b/c.php?x=1&y=2 HTTP/1.1");
    }

    #[test]
    fn absolute_uri() {
        let mut d = TxData::default();
        process_uri(&mut d, b"http://example.com/p?q", "GET", "HTTP/1.1", b'&');
        assert_eq!(d.request_filename, b"/p");
        assert_eq!(d.query_string, b"q");
    }

    /// Regression (CRS 931100, 934120 …): a URL inside the query is no absolute-form target.
    #[test]
    fn url_in_query_keeps_path() {
        let mut d = TxData::default();
        process_uri(&mut d, b"/get?x=http://1.2.3.4/a", "GET", "HTTP/1.1", b'&');
        assert_eq!(d.request_filename, b"/get");
        assert_eq!(d.query_string, b"x=http://1.2.3.4/a");
    }

    #[test]
    fn cookies() {
        let mut d = TxData::default();
        add_header(&mut d, b"Cookie", b"a=1; b=x=y;c");
        assert_eq!(d.request_cookies.get(b"a"), Some(&b"1"[..]));
        assert_eq!(d.request_cookies.get(b"b"), Some(&b"x=y"[..]));
        assert_eq!(d.request_cookies.get(b"c"), Some(&b""[..]));
    }
}
