//! An Apache-httpd-like front end: parses a raw request leniently where Apache is lenient and
//! answers 400 where Apache 2.4 (`HttpProtocolOptions Strict`, CRS's CI reference) does, before
//! ModSecurity ever sees the request. The suite's `status: 400` expectations are Apache's.

/// A request as the web server hands it to the WAF.
#[derive(Debug, Default, Clone)]
pub struct Request {
    pub method: Vec<u8>,
    pub uri: Vec<u8>,
    pub protocol: Vec<u8>,
    pub headers: Vec<(Vec<u8>, Vec<u8>)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name.as_bytes()))
            .map(|(_, v)| v.as_slice())
    }
}

/// What the front end does with the bytes.
#[derive(Debug)]
pub enum Parsed {
    /// A request the WAF inspects.
    Request(Request),
    /// An HTTP/0.9 request (no version): the WAF sees it, but the response has no status line,
    /// which go-ftw reports as an error.
    Http09(Request),
    /// Rejected by the server itself with this status and why.
    Rejected(u16, &'static str),
}

/// Parses raw request bytes as Apache would.
pub fn parse(raw: &[u8]) -> Parsed {
    let mut rest = raw;
    // RFC 9112 §2.2: a server ignores at least one empty line before the request line.
    while let Some(r) = rest
        .strip_prefix(b"\r\n")
        .or_else(|| rest.strip_prefix(b"\n"))
    {
        rest = r;
    }
    let (line, after) = split_line(rest);
    rest = after;

    let parts: Vec<&[u8]> = line.split(|&b| b == b' ').collect();
    let (method, uri, protocol) = match parts.as_slice() {
        [m, u] => (*m, *u, &b""[..]),
        [m, u, p] => (*m, *u, *p),
        _ => return Parsed::Rejected(400, "malformed request line"),
    };
    if method.is_empty() || !method.iter().all(|&b| is_tchar(b)) {
        return Parsed::Rejected(400, "invalid method token");
    }
    if uri.is_empty() || uri.iter().any(|&b| b < 0x21 || b == 0x7f) {
        return Parsed::Rejected(400, "invalid characters in request target");
    }
    if !valid_target(method, uri) {
        return Parsed::Rejected(400, "invalid request target");
    }
    let mut request = Request {
        method: method.to_vec(),
        uri: uri.to_vec(),
        protocol: protocol.to_vec(),
        ..Request::default()
    };
    if protocol.is_empty() {
        // Apache answers `GET /` as HTTP/0.9: no headers are read, no status line is sent.
        request.protocol = b"HTTP/0.9".to_vec();
        return Parsed::Http09(request);
    }
    let Some((major, minor)) = version(protocol) else {
        return Parsed::Rejected(400, "invalid protocol");
    };
    if major == 0 {
        return Parsed::Rejected(400, "HTTP/0.x with a version is not accepted");
    }

    // Header section up to the empty line.
    loop {
        if rest.is_empty() {
            break;
        }
        let (line, after) = split_line(rest);
        rest = after;
        if line.is_empty() {
            break;
        }
        if line.first().is_some_and(|&b| b == b' ' || b == b'\t') {
            // obs-fold: Apache joins the continuation to the previous value.
            let Some((_, value)) = request.headers.last_mut() else {
                return Parsed::Rejected(400, "continuation line before any header");
            };
            value.push(b' ');
            value.extend_from_slice(trim(line));
            continue;
        }
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            return Parsed::Rejected(400, "header line without colon");
        };
        let (name, value) = line.split_at(colon);
        let value = trim(value.get(1..).unwrap_or_default());
        if name.is_empty() || !name.iter().all(|&b| is_tchar(b)) {
            return Parsed::Rejected(400, "invalid header name");
        }
        if value.iter().any(|&b| (b < 0x20 && b != b'\t') || b == 0x7f) {
            return Parsed::Rejected(400, "control character in header value");
        }
        // Apache merges repeated headers into one comma-separated value (apr_table_compress).
        match request
            .headers
            .iter_mut()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
        {
            Some((_, existing)) => {
                existing.extend_from_slice(b", ");
                existing.extend_from_slice(value);
            }
            None => request.headers.push((name.to_vec(), value.to_vec())),
        }
    }

    match request.header("Host") {
        Some(host) if !(valid_host(host) || host.is_empty() && (major, minor) < (1, 1)) => {
            return Parsed::Rejected(400, "invalid Host header");
        }
        None if (major, minor) >= (1, 1) => {
            return Parsed::Rejected(400, "HTTP/1.1 request without Host");
        }
        _ => {}
    }

    let chunked = request.header("Transfer-Encoding").map(|te| {
        te.rsplit(|&b| b == b',')
            .next()
            .map(trim)
            .is_some_and(|last| last.eq_ignore_ascii_case(b"chunked"))
    });
    match chunked {
        Some(true) => {
            // Apache drops Content-Length when the body is chunked and hands the WAF the
            // de-chunked body.
            request
                .headers
                .retain(|(k, _)| !k.eq_ignore_ascii_case(b"Content-Length"));
            match dechunk(rest) {
                Some(body) => request.body = body,
                None => return Parsed::Rejected(400, "malformed chunked body"),
            }
        }
        Some(false) => return Parsed::Rejected(501, "unknown transfer coding"),
        None => {
            if let Some(length) = request.header("Content-Length") {
                if length.is_empty() || !length.iter().all(u8::is_ascii_digit) {
                    return Parsed::Rejected(400, "invalid Content-Length");
                }
                let n: usize = std::str::from_utf8(length)
                    .ok()
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(usize::MAX);
                request.body = rest.get(..n.min(rest.len())).unwrap_or(rest).to_vec();
            }
        }
    }
    Parsed::Request(request)
}

/// Splits off one line ending in LF (a preceding CR is dropped).
fn split_line(bytes: &[u8]) -> (&[u8], &[u8]) {
    match bytes.iter().position(|&b| b == b'\n') {
        Some(i) => {
            let line = bytes.get(..i).unwrap_or_default();
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            (line, bytes.get(i + 1..).unwrap_or_default())
        }
        None => (bytes, &[]),
    }
}

fn trim(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|&b| b != b' ' && b != b'\t')
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|&b| b != b' ' && b != b'\t')
        .map_or(start, |i| i + 1);
    bytes.get(start..end).unwrap_or_default()
}

/// RFC 9110 token characters.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// `HTTP/d.d` only, as Apache's strict parser wants it.
fn version(protocol: &[u8]) -> Option<(u8, u8)> {
    match protocol {
        [b'H', b'T', b'T', b'P', b'/', major, b'.', minor]
            if major.is_ascii_digit() && minor.is_ascii_digit() =>
        {
            Some((major - b'0', minor - b'0'))
        }
        _ => None,
    }
}

/// Origin form (`/…`), absolute form (`scheme://…`), `*`, or `host:port` for CONNECT; never a
/// fragment.
fn valid_target(method: &[u8], uri: &[u8]) -> bool {
    if uri.contains(&b'#') {
        return false;
    }
    if method == b"CONNECT" {
        // Authority form needs a port.
        return uri
            .iter()
            .rposition(|&b| b == b':')
            .and_then(|i| uri.get(i + 1..))
            .is_some_and(|port| !port.is_empty() && port.iter().all(u8::is_ascii_digit));
    }
    if uri == b"*" || uri.first() == Some(&b'/') {
        return true;
    }
    // scheme ":" "//" …
    match uri.iter().position(|&b| b == b':') {
        Some(i) if i > 0 => {
            let scheme = uri.get(..i).unwrap_or_default();
            scheme.first().is_some_and(u8::is_ascii_alphabetic)
                && scheme
                    .iter()
                    .all(|&b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
                && uri.get(i + 1..).is_some_and(|r| r.starts_with(b"//"))
        }
        _ => false,
    }
}

/// Apache's `fix_hostname`: name characters or an IPv6 literal, then an optional numeric port.
fn valid_host(host: &[u8]) -> bool {
    if host.is_empty() {
        return false;
    }
    let (name, port) = if host.first() == Some(&b'[') {
        let Some(end) = host.iter().position(|&b| b == b']') else {
            return false;
        };
        let inner = host.get(1..end).unwrap_or_default();
        if !inner
            .iter()
            .all(|&b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
        {
            return false;
        }
        (&b"ipv6"[..], host.get(end + 1..).unwrap_or_default())
    } else {
        match host.iter().position(|&b| b == b':') {
            Some(i) => (
                host.get(..i).unwrap_or_default(),
                host.get(i..).unwrap_or_default(),
            ),
            None => (host, &b""[..]),
        }
    };
    let port_ok = match port.split_first() {
        None => true,
        Some((b':', digits)) => digits.iter().all(u8::is_ascii_digit),
        Some(_) => false,
    };
    port_ok
        && !name.is_empty()
        && name
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_')
}

/// Decodes a chunked body; trailers are ignored. `None` when the framing is broken.
fn dechunk(mut rest: &[u8]) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let (line, after) = split_line(rest);
        let size_text = line.split(|&b| b == b';').next().map(trim)?;
        let size = usize::from_str_radix(std::str::from_utf8(size_text).ok()?, 16).ok()?;
        if size == 0 {
            return Some(body);
        }
        body.extend_from_slice(after.get(..size)?);
        let after = after.get(size..)?;
        rest = after
            .strip_prefix(b"\r\n")
            .or_else(|| after.strip_prefix(b"\n"))?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(raw: &[u8]) -> u16 {
        match parse(raw) {
            Parsed::Request(_) => 200,
            Parsed::Http09(_) => 9,
            Parsed::Rejected(s, _) => s,
        }
    }

    #[test]
    fn apache_rejections() {
        assert_eq!(status(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"), 200);
        assert_eq!(status(b"\tGET / HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
        assert_eq!(status(b"GET / JUNK/1.0\r\nHost: a\r\n\r\n"), 400);
        assert_eq!(status(b"GET / HTTP/1.1\r\n\r\n"), 400);
        assert_eq!(status(b"GET / HTTP/1.0\r\nHost:\r\n\r\n"), 200);
        assert_eq!(status(b"GET /#x HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
        assert_eq!(status(b"GET / \r\n"), 9);
        assert_eq!(status(b"CONNECT a.b HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
        assert_eq!(
            status(b"CONNECT 1.2.3.4:80 HTTP/1.1\r\nHost: a\r\n\r\n"),
            200
        );
    }

    #[test]
    fn chunked_body_is_decoded() {
        let Parsed::Request(r) = parse(
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 7\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
        ) else {
            panic!("rejected")
        };
        assert_eq!(r.body, b"abc");
        assert!(r.header("Content-Length").is_none());
    }
}
