//! Builds a stage's raw request bytes exactly as go-ftw writes them on the wire.
//!
//! go-ftw (ftwhttp/request.go): request line `METHOD URI VERSION\r\n`; headers from the YAML map
//! in sorted name order, then `ordered_headers`; with `autocomplete_headers` (default true) and a
//! body it adds `Content-Type: application/x-www-form-urlencoded` when none is given and
//! query-escapes unescaped form data; multipart bodies get every LF turned into CRLF; then
//! `Connection: close` and `Content-Length` when missing. `encoded_request` replaces all of it.

use base64::Engine as _;

use super::model::{scalar, Input};

const FORM: &str = "application/x-www-form-urlencoded";

/// The raw request of one stage.
pub fn raw_request(input: &Input) -> Result<Vec<u8>, String> {
    if let Some(encoded) = &input.encoded_request {
        return decode_base64(encoded).map_err(|e| format!("bad encoded_request: {e}"));
    }
    let method = input
        .method
        .as_ref()
        .map(scalar)
        .unwrap_or_else(|| "GET".to_owned());
    let uri = input
        .uri
        .as_ref()
        .map(scalar)
        .unwrap_or_else(|| "/".to_owned());
    let version = input
        .version
        .as_ref()
        .map(scalar)
        .unwrap_or_else(|| "HTTP/1.1".to_owned());
    let mut headers: Vec<(String, String)> = input
        .headers
        .iter()
        .map(|(k, v)| (k.clone(), scalar(v)))
        .collect();
    // BTreeMap orders by bytes, as Go's slices.Sort on strings does.
    for h in &input.ordered_headers {
        headers.push((h.name.clone(), scalar(&h.value)));
    }
    let mut data: Vec<u8> = match (&input.encoded_data, &input.data) {
        (Some(enc), _) => decode_base64(enc).map_err(|e| format!("bad encoded_data: {e}"))?,
        (None, Some(v)) => expand_template(&scalar(v)).into_bytes(),
        (None, None) => Vec::new(),
    };
    let autocomplete = input.autocomplete_headers.unwrap_or(true);

    if !data.is_empty() && autocomplete {
        if !has(&headers, "Content-Type") {
            headers.push(("Content-Type".to_owned(), FORM.to_owned()));
        }
        if headers
            .iter()
            .any(|(k, v)| eq_name(k, "Content-Type") && v.eq_ignore_ascii_case(FORM))
        {
            data = encode_form(&data);
        }
    }
    if headers.iter().any(|(k, v)| {
        eq_name(k, "Content-Type") && v.to_ascii_lowercase().contains("multipart/form-data;")
    }) {
        data = lf_to_crlf(&data);
    }
    if autocomplete {
        if !has(&headers, "Connection") {
            headers.push(("Connection".to_owned(), "close".to_owned()));
        }
        if !has(&headers, "Content-Length") && (!data.is_empty() || method_with_body(&method)) {
            headers.push(("Content-Length".to_owned(), data.len().to_string()));
        }
    }

    let mut raw = format!("{method} {uri} {version}\r\n").into_bytes();
    for (k, v) in &headers {
        raw.extend_from_slice(k.as_bytes());
        raw.extend_from_slice(b": ");
        raw.extend_from_slice(v.as_bytes());
        raw.extend_from_slice(b"\r\n");
    }
    raw.extend_from_slice(b"\r\n");
    raw.extend_from_slice(&data);
    Ok(raw)
}

fn decode_base64(text: &str) -> Result<Vec<u8>, base64::DecodeError> {
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    base64::engine::general_purpose::STANDARD.decode(compact)
}

/// Header names compare as Go's `CanonicalMIMEHeaderKey` would: case-insensitively.
fn eq_name(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

fn has(headers: &[(String, String)], name: &str) -> bool {
    headers.iter().any(|(k, _)| eq_name(k, name))
}

/// go-ftw's `^POST|PUT|PATCH|DELETE$`, alternation precedence included.
fn method_with_body(method: &str) -> bool {
    method.starts_with("POST")
        || method.contains("PUT")
        || method.contains("PATCH")
        || method.ends_with("DELETE")
}

fn lf_to_crlf(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 16);
    for &b in data {
        if b == b'\n' {
            out.push(b'\r');
        }
        out.push(b);
    }
    out
}

/// go-ftw escapes form data only when unescaping would change nothing (no `%` and no `+`):
/// each `&`-separated token's key and value go through Go's `url.QueryEscape`.
fn encode_form(data: &[u8]) -> Vec<u8> {
    if data.iter().any(|&b| b == b'%' || b == b'+') {
        return data.to_vec();
    }
    let mut out = Vec::with_capacity(data.len() * 2);
    // Go's loop stops when nothing remains, so one trailing `&` vanishes.
    let data = data.strip_suffix(b"&").unwrap_or(data);
    for (i, token) in data.split(|&b| b == b'&').enumerate() {
        if i > 0 {
            out.push(b'&');
        }
        match token.iter().position(|&b| b == b'=') {
            Some(eq) => {
                let (key, value) = token.split_at(eq);
                query_escape(key, &mut out);
                out.push(b'=');
                query_escape(value.get(1..).unwrap_or_default(), &mut out);
            }
            None => query_escape(token, &mut out),
        }
    }
    out
}

/// Go's `url.QueryEscape`: unreserved bytes stay, space becomes `+`, the rest `%XX`.
fn query_escape(bytes: &[u8], out: &mut Vec<u8>) {
    for &b in bytes {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b),
            b' ' => out.push(b'+'),
            _ => {
                out.extend_from_slice(format!("%{b:02X}").as_bytes());
            }
        }
    }
}

/// go-ftw runs `data` through Go's text/template with sprig's functions; the suite uses only
/// `{{ "S" | repeat N }}`. Anything else between braces stays as written (go-ftw keeps data
/// whose template does not parse, such as 941380's `{{constructor…}}`).
fn expand_template(data: &str) -> String {
    let mut out = String::with_capacity(data.len());
    let mut rest = data;
    while let Some(start) = rest.find("{{") {
        let Some(len) = rest[start..].find("}}") else {
            break;
        };
        let inner = rest[start + 2..start + len].trim();
        out.push_str(&rest[..start]);
        match parse_repeat(inner) {
            Some((text, n)) => out.push_str(&text.repeat(n)),
            None => out.push_str(&rest[start..start + len + 2]),
        }
        rest = &rest[start + len + 2..];
    }
    out.push_str(rest);
    out
}

/// `"S" | repeat N` → (S, N).
fn parse_repeat(inner: &str) -> Option<(&str, usize)> {
    let (lit, func) = inner.split_once('|')?;
    let text = lit.trim().strip_prefix('"')?.strip_suffix('"')?;
    let n = func.trim().strip_prefix("repeat")?.trim().parse().ok()?;
    Some((text, n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_escaping_matches_go() {
        assert_eq!(encode_form(b"a=b c&d=<x>"), b"a=b+c&d=%3Cx%3E");
        assert_eq!(encode_form(b"a=%20"), b"a=%20");
        assert_eq!(encode_form(b"k"), b"k");
        assert_eq!(encode_form(b"a=b&"), b"a=b");
    }
}
