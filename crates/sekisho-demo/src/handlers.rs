//! The demo API's endpoints. Bodies of the read endpoints are static bytes so that the
//! backend costs the benchmark as little as possible.

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{HeaderValue, ALLOW, CONTENT_TYPE};
use hyper::{Method, Request, Response, StatusCode};
use serde::Deserialize;
use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};

/// Largest request body the demo reads (orders, reflect requests).
pub(crate) const MAX_BODY: usize = 1024 * 1024;

const INDEX: &str = r#"{"service":"sekisho-demo","endpoints":[
{"method":"GET","path":"/api/users"},
{"method":"GET","path":"/api/users/{id}"},
{"method":"POST","path":"/api/orders"},
{"method":"GET","path":"/api/status"},
{"method":"GET","path":"/healthz"},
{"method":"POST","path":"/reflect"}]}
"#;

/// `(id, JSON)` of each user; `/api/users` is their list.
const USERS: &[(u64, &str)] = &[
    (
        1,
        r#"{"id":1,"name":"Aiko Tanaka","email":"aiko@example.com","tier":"gold"}"#,
    ),
    (
        2,
        r#"{"id":2,"name":"Kenji Sato","email":"kenji@example.com","tier":"silver"}"#,
    ),
    (
        3,
        r#"{"id":3,"name":"Mei Suzuki","email":"mei@example.com","tier":"bronze"}"#,
    ),
];

const USER_LIST: &str = concat!(
    r#"{"users":["#,
    r#"{"id":1,"name":"Aiko Tanaka","email":"aiko@example.com","tier":"gold"},"#,
    r#"{"id":2,"name":"Kenji Sato","email":"kenji@example.com","tier":"silver"},"#,
    r#"{"id":3,"name":"Mei Suzuki","email":"mei@example.com","tier":"bronze"}"#,
    "]}\n"
);

static NEXT_ORDER: AtomicU64 = AtomicU64::new(1000);

pub(crate) type Body = Full<Bytes>;

/// Routes one request. Never fails: every problem is a JSON error response.
pub(crate) async fn handle(req: Request<Incoming>) -> Result<Response<Body>, Infallible> {
    let path = req.uri().path();
    let resp = match path {
        "/" => only_get(&req, || json(StatusCode::OK, INDEX)),
        "/healthz" => only_get(&req, || json(StatusCode::OK, "{\"status\":\"ok\"}\n")),
        "/api/status" => only_get(&req, || json(StatusCode::OK, &status())),
        "/api/users" => only_get(&req, || json(StatusCode::OK, USER_LIST)),
        "/api/orders" => {
            if req.method() == Method::POST {
                create_order(req).await
            } else {
                not_allowed("POST")
            }
        }
        "/reflect" => {
            if req.method() == Method::POST {
                crate::reflect::reflect(req).await
            } else {
                not_allowed("POST")
            }
        }
        _ => match path.strip_prefix("/api/users/") {
            Some(id) => only_get(&req, || user(id)),
            None => error(StatusCode::NOT_FOUND, "no such endpoint"),
        },
    };
    Ok(resp)
}

fn only_get(req: &Request<Incoming>, f: impl FnOnce() -> Response<Body>) -> Response<Body> {
    match *req.method() {
        Method::GET | Method::HEAD => f(),
        _ => not_allowed("GET, HEAD"),
    }
}

fn user(id: &str) -> Response<Body> {
    let found = id
        .parse::<u64>()
        .ok()
        .and_then(|id| USERS.iter().find(|(uid, _)| *uid == id));
    match found {
        Some((_, body)) => json(StatusCode::OK, body),
        None => error(StatusCode::NOT_FOUND, "no such user"),
    }
}

fn status() -> String {
    format!(
        "{{\"status\":\"ok\",\"service\":\"sekisho-demo\",\"version\":\"{}\",\"orders\":{}}}\n",
        env!("CARGO_PKG_VERSION"),
        NEXT_ORDER.load(Ordering::Relaxed) - 1000
    )
}

#[derive(Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
struct Order {
    user_id: u64,
    items: Vec<Item>,
}

#[derive(Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
struct Item {
    sku: String,
    qty: u32,
}

/// `POST /api/orders` with `{"user_id":1,"items":[{"sku":"A-1","qty":2}]}` → 201 with the
/// order and a new id; 400 when the body is not such an order, 422 for an unknown user.
async fn create_order(req: Request<Incoming>) -> Response<Body> {
    let body = match read_body(req).await {
        Ok(body) => body,
        Err(resp) => return resp,
    };
    let order: Order = match serde_json::from_slice(&body) {
        Ok(order) => order,
        Err(e) => return error(StatusCode::BAD_REQUEST, &format!("invalid order: {e}")),
    };
    if order.items.is_empty() || order.items.iter().any(|i| i.qty == 0 || i.sku.is_empty()) {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid order: items must be non-empty, each with a sku and qty > 0",
        );
    }
    if !USERS.iter().any(|(id, _)| *id == order.user_id) {
        return error(StatusCode::UNPROCESSABLE_ENTITY, "no such user");
    }
    let id = NEXT_ORDER.fetch_add(1, Ordering::Relaxed);
    let out = serde_json::json!({
        "id": id,
        "user_id": order.user_id,
        "items": order.items,
        "status": "accepted",
    });
    json(StatusCode::CREATED, &format!("{out}\n"))
}

/// Reads the whole body up to [`MAX_BODY`]; 413 beyond it, 400 when the client breaks off.
pub(crate) async fn read_body(req: Request<Incoming>) -> Result<Bytes, Response<Body>> {
    match Limited::new(req.into_body(), MAX_BODY).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => {
            Err(error(StatusCode::PAYLOAD_TOO_LARGE, "body too large"))
        }
        Err(_) => Err(error(StatusCode::BAD_REQUEST, "cannot read the body")),
    }
}

pub(crate) fn json(status: StatusCode, body: &str) -> Response<Body> {
    let mut resp = Response::new(Full::new(Bytes::copy_from_slice(body.as_bytes())));
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp
}

pub(crate) fn error(status: StatusCode, message: &str) -> Response<Body> {
    let body = serde_json::json!({ "error": message, "status": status.as_u16() });
    json(status, &format!("{body}\n"))
}

fn not_allowed(allow: &'static str) -> Response<Body> {
    let mut resp = error(StatusCode::METHOD_NOT_ALLOWED, "method not allowed");
    resp.headers_mut()
        .insert(ALLOW, HeaderValue::from_static(allow));
    resp
}
