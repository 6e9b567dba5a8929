//! `POST /reflect`: the client describes the response it wants, like the CRS test
//! backend "albedo" — useful to test the WAF's response phases with any status, header
//! or body.
//!
//! Request: `{"status":403,"headers":{"X-A":"1"},"body":"text"}`; `encodedBody` (base64)
//! takes the place of `body` for binary content. Every field is optional (200, no
//! headers, empty body).

use crate::handlers::{error, read_body, Body};
use base64::Engine;
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{HeaderName, HeaderValue};
use hyper::{Request, Response, StatusCode};
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct Reflect {
    status: Option<u16>,
    headers: BTreeMap<String, String>,
    body: String,
    encoded_body: Option<String>,
}

pub(crate) async fn reflect(req: Request<Incoming>) -> Response<Body> {
    let raw = match read_body(req).await {
        Ok(raw) => raw,
        Err(resp) => return resp,
    };
    let spec: Reflect = if raw.is_empty() {
        Reflect::default()
    } else {
        match serde_json::from_slice(&raw) {
            Ok(spec) => spec,
            Err(e) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    &format!("invalid reflect request: {e}"),
                )
            }
        }
    };
    build(spec).unwrap_or_else(|message| error(StatusCode::BAD_REQUEST, &message))
}

fn build(spec: Reflect) -> Result<Response<Body>, String> {
    let status = StatusCode::from_u16(spec.status.unwrap_or(200))
        .map_err(|_| format!("invalid status `{}`", spec.status.unwrap_or_default()))?;
    let body = match spec.encoded_body {
        Some(b64) => base64::engine::general_purpose::STANDARD
            .decode(b64.as_bytes())
            .map_err(|e| format!("invalid `encodedBody`: {e}"))?,
        None => spec.body.into_bytes(),
    };
    let mut resp = Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() = status;
    for (name, value) in spec.headers {
        let n = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| format!("invalid header name `{name}`"))?;
        let v = HeaderValue::from_str(&value)
            .map_err(|_| format!("invalid value for header `{name}`"))?;
        resp.headers_mut().append(n, v);
    }
    Ok(resp)
}
