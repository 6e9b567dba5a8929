//! An in-process equivalent of CRS's test backend, albedo: any path answers 200 with no body;
//! `POST /reflect` answers with the status, headers and body its JSON asks for.

use base64::Engine as _;
use serde::Deserialize;

use super::frontend::Request;

#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(Vec<u8>, Vec<u8>)>,
    pub body: Vec<u8>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Reflection {
    #[serde(default)]
    status: i64,
    #[serde(default)]
    headers: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    body: String,
    #[serde(default)]
    encoded_body: String,
}

/// The backend's answer to a request that passed the WAF.
pub fn respond(request: &Request) -> Response {
    let path = request.uri.split(|&b| b == b'?').next().unwrap_or_default();
    let reflect = request.method == b"POST" && (path == b"/reflect" || path == b"/reflect/");
    if !reflect {
        return finish(200, Vec::new(), Vec::new());
    }
    let Ok(spec) = serde_json::from_slice::<Reflection>(&request.body) else {
        return finish(400, Vec::new(), b"Invalid JSON in request body".to_vec());
    };
    if (spec.status > 0 && spec.status < 100) || spec.status >= 600 {
        let msg = format!("Invalid status code: {}", spec.status);
        return finish(400, Vec::new(), msg.into_bytes());
    }
    let status = u16::try_from(spec.status)
        .ok()
        .filter(|&s| s != 0)
        .unwrap_or(200);
    let body = if !spec.body.is_empty() {
        spec.body.into_bytes()
    } else if !spec.encoded_body.is_empty() {
        match base64::engine::general_purpose::STANDARD.decode(spec.encoded_body.trim()) {
            Ok(b) => b,
            Err(_) => {
                return finish(
                    400,
                    Vec::new(),
                    b"invalid base64 encoding of response body".to_vec(),
                )
            }
        }
    } else {
        Vec::new()
    };
    let headers = spec
        .headers
        .into_iter()
        .map(|(k, v)| (k.into_bytes(), v.into_bytes()))
        .collect();
    finish(status, headers, body)
}

/// Adds what Go's net/http adds: a sniffed Content-Type for a body without one, and the length.
fn finish(status: u16, mut headers: Vec<(Vec<u8>, Vec<u8>)>, body: Vec<u8>) -> Response {
    let has = |h: &[(Vec<u8>, Vec<u8>)], n: &str| {
        h.iter().any(|(k, _)| k.eq_ignore_ascii_case(n.as_bytes()))
    };
    if !body.is_empty() && !has(&headers, "Content-Type") {
        headers.push((b"Content-Type".to_vec(), sniff(&body).as_bytes().to_vec()));
    }
    if !has(&headers, "Content-Length") {
        headers.push((
            b"Content-Length".to_vec(),
            body.len().to_string().into_bytes(),
        ));
    }
    headers.push((b"Date".to_vec(), b"Sun, 22 Nov 2026 12:00:00 GMT".to_vec()));
    Response {
        status,
        headers,
        body,
    }
}

/// A reduced `http.DetectContentType`: HTML and XML signatures, else text or binary.
fn sniff(body: &[u8]) -> &'static str {
    let start = body
        .iter()
        .position(|b| !b" \t\r\n\x0c".contains(b))
        .unwrap_or(body.len());
    let head = body.get(start..).unwrap_or_default();
    let upper: Vec<u8> = head.iter().take(16).map(u8::to_ascii_uppercase).collect();
    const HTML: &[&[u8]] = &[
        b"<!DOCTYPE HTML",
        b"<HTML",
        b"<HEAD",
        b"<SCRIPT",
        b"<IFRAME",
        b"<H1",
        b"<DIV",
        b"<FONT",
        b"<TABLE",
        b"<A",
        b"<STYLE",
        b"<TITLE",
        b"<B",
        b"<BODY",
        b"<BR",
        b"<P",
        b"<!--",
    ];
    for sig in HTML {
        if upper.starts_with(sig)
            && upper
                .get(sig.len())
                .is_some_and(|&b| b == b' ' || b == b'>')
        {
            return "text/html; charset=utf-8";
        }
    }
    if head.starts_with(b"<?xml") {
        return "text/xml; charset=utf-8";
    }
    let binary = body
        .iter()
        .take(512)
        .any(|&b| b < 0x20 && !b"\t\n\x0c\r\x1b".contains(&b));
    if binary {
        "application/octet-stream"
    } else {
        "text/plain; charset=utf-8"
    }
}
