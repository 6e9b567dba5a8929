//! Route matching (host, path, method, headers, order), fixed answers, path rewrites,
//! header edits, hop-by-hop removal, the trusted-proxy client IP and the request id.
// Helpers outside `#[test]` functions unwrap too: clippy.toml's test allowances stop there.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use crate::common::*;
use bytes::Bytes;
use http_body_util::Full;

/// Sends `method path` with extra headers to the gateway.
async fn req(
    gw: &Gw,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> (u16, http::HeaderMap, String) {
    let mut b = http::Request::builder().method(method).uri(gw.url(path));
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    send(&client(), b.body(Full::new(Bytes::new())).unwrap()).await
}

/// Admin + listener + `routes`, then one cluster `c` per backend, named after it.
fn config(routes: &str, backends: &[&Backend], extra: &str) -> String {
    let mut s = format!(
        "{extra}\n[admin]\nlisten = \"127.0.0.1:0\"\n[[listeners]]\nlisten = \"127.0.0.1:0\"\n{routes}\n"
    );
    for b in backends {
        s.push_str(&format!(
            "[[clusters]]\nname = \"{}\"\nendpoints = [\"{}\"]\n",
            b.name, b.addr
        ));
    }
    s
}

#[tokio::test]
async fn host_exact_and_wildcard() {
    let (api, wild, any) = (
        Backend::start("api").await,
        Backend::start("wild").await,
        Backend::start("any").await,
    );
    let routes = r#"
[[routes]]
name = "api"
host = "api.example.com"
cluster = "api"
[[routes]]
name = "wild"
host = "*.example.com"
cluster = "wild"
[[routes]]
name = "other"
host = "other.test"
cluster = "any"
"#;
    let gw = Gw::start(&config(routes, &[&api, &wild, &any], "")).await;
    for (host, want) in [
        ("api.example.com", "api"),
        ("API.Example.COM:8080", "api"),
        ("www.example.com", "wild"),
        ("a.b.example.com", "wild"),
        ("other.test", "any"),
    ] {
        let (st, _, body) = req(&gw, "GET", "/x", &[("host", host)]).await;
        assert_eq!((st, body.as_str()), (200, want), "host {host}");
    }
    // The wildcard needs a subdomain; look-alike suffixes and unknown hosts match nothing.
    for host in [
        "example.com",
        "badexample.com",
        "example.com.evil.test",
        "nothing.test",
    ] {
        let (st, _, body) = req(&gw, "GET", "/x", &[("host", host)]).await;
        assert_eq!(st, 404, "host {host}: {body}");
    }
    assert_eq!(api.count(), 2);
    assert_eq!(wild.count(), 2);
    assert_eq!(any.count(), 1);
}

#[tokio::test]
async fn path_exact_prefix_and_regex() {
    let (e, p, r) = (
        Backend::start("exact").await,
        Backend::start("prefix").await,
        Backend::start("regex").await,
    );
    let routes = r#"
[[routes]]
name = "exact"
path_exact = "/status"
cluster = "exact"
[[routes]]
name = "prefix"
path_prefix = "/api/"
cluster = "prefix"
[[routes]]
name = "regex"
path_regex = "^/orders/[0-9]+$"
cluster = "regex"
"#;
    let gw = Gw::start(&config(routes, &[&e, &p, &r], "")).await;
    for (path, want) in [
        ("/status", Some("exact")),
        ("/status?verbose=1", Some("exact")),
        ("/status/", None),
        ("/statusx", None),
        ("/api/", Some("prefix")),
        ("/api/users/7", Some("prefix")),
        ("/api", None),
        ("/orders/42", Some("regex")),
        ("/orders/42?x=y", Some("regex")),
        ("/orders/abc", None),
        ("/orders/42/items", None),
        ("/", None),
    ] {
        let (st, _, body) = req(&gw, "GET", path, &[]).await;
        match want {
            Some(w) => assert_eq!((st, body.as_str()), (200, w), "path {path}"),
            None => assert_eq!(st, 404, "path {path}: {body}"),
        }
    }
    // The query string is not part of the path match but reaches the backend.
    assert_eq!(e.requests()[1].path_and_query, "/status?verbose=1");
    assert_eq!(r.requests()[1].path_and_query, "/orders/42?x=y");
}

#[tokio::test]
async fn methods_and_required_headers() {
    let (w, v2, rest) = (
        Backend::start("write").await,
        Backend::start("v2").await,
        Backend::start("rest").await,
    );
    let routes = r#"
[[routes]]
name = "write"
path_prefix = "/"
methods = ["post", "PUT"]
cluster = "write"
[[routes]]
name = "v2"
path_prefix = "/"
headers = { "X-Api-Version" = "2", "x-tenant" = "acme" }
cluster = "v2"
[[routes]]
name = "rest"
path_prefix = "/"
methods = ["GET", "HEAD"]
cluster = "rest"
"#;
    let gw = Gw::start(&config(routes, &[&w, &v2, &rest], "")).await;
    assert_eq!(req(&gw, "POST", "/a", &[]).await.2, "write");
    assert_eq!(req(&gw, "PUT", "/a", &[]).await.2, "write");
    let both = [("x-api-version", "2"), ("x-tenant", "acme")];
    assert_eq!(req(&gw, "GET", "/a", &both).await.2, "v2");
    // Methods are matched before headers: a POST with the headers still goes to `write`.
    assert_eq!(req(&gw, "POST", "/a", &both).await.2, "write");
    // Every listed header must be present with exactly that value.
    assert_eq!(
        req(&gw, "GET", "/a", &[("x-api-version", "2")]).await.2,
        "rest"
    );
    assert_eq!(
        req(
            &gw,
            "GET",
            "/a",
            &[("x-api-version", "3"), ("x-tenant", "acme")]
        )
        .await
        .2,
        "rest"
    );
    assert_eq!(
        req(
            &gw,
            "GET",
            "/a",
            &[("x-api-version", "2 "), ("x-tenant", "ACME")]
        )
        .await
        .2,
        "rest"
    );
    // No route takes DELETE without the headers.
    let (st, _, _) = req(&gw, "DELETE", "/a", &[]).await;
    assert_eq!(st, 404);
    let (st, _, body) = req(&gw, "DELETE", "/a", &both).await;
    assert_eq!((st, body.as_str()), (200, "v2"));
    assert_eq!(v2.requests().last().unwrap().method, "DELETE");
}

#[tokio::test]
async fn first_match_in_file_order_wins() {
    let (a, b) = (Backend::start("a").await, Backend::start("b").await);
    let routes = r#"
[[routes]]
name = "broad"
path_prefix = "/shop"
cluster = "a"
[[routes]]
name = "narrow"
path_exact = "/shop/cart"
cluster = "b"
[[routes]]
name = "narrow-first"
path_exact = "/cart"
respond = { status = 200, body = "fixed" }
[[routes]]
name = "broad-after"
path_prefix = "/"
cluster = "b"
"#;
    let gw = Gw::start(&config(routes, &[&a, &b], "")).await;
    // The more specific route comes second and never wins.
    assert_eq!(req(&gw, "GET", "/shop/cart", &[]).await.2, "a");
    assert_eq!(req(&gw, "GET", "/cart", &[]).await.2, "fixed");
    assert_eq!(req(&gw, "GET", "/elsewhere", &[]).await.2, "b");
    assert_eq!(a.count(), 1);
    assert_eq!(b.count(), 1);
}

#[tokio::test]
async fn no_route_is_404_with_request_id() {
    let a = Backend::start("a").await;
    let routes = "[[routes]]\nname = \"only\"\npath_exact = \"/only\"\ncluster = \"a\"\n";
    let gw = Gw::start(&config(routes, &[&a], "")).await;
    let (st, h, body) = req(&gw, "GET", "/nothing", &[]).await;
    assert_eq!(st, 404);
    assert_eq!(body, "no route\n");
    assert_eq!(h.get("x-request-id").unwrap().len(), 32);
    // A 404 leaves the connection usable (nothing unread) and the backend untouched.
    assert!(h.get("connection").is_none());
    let out = raw(
        gw.addr,
        b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /only HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(out.starts_with("HTTP/1.1 404"), "{out}");
    assert_eq!(out.matches("HTTP/1.1 ").count(), 2, "{out}");
    assert!(out.contains("HTTP/1.1 200"), "{out}");
    assert_eq!(a.count(), 1);
}

#[tokio::test]
async fn fixed_response_routes() {
    let a = Backend::start("a").await;
    let routes = r#"
[[routes]]
name = "teapot"
path_exact = "/tea"
respond = { status = 418, body = "short and stout", content_type = "text/x-tea" }
[[routes]]
name = "ping"
path_exact = "/ping"
methods = ["GET", "HEAD"]
respond = { status = 200, body = "pong\n" }
response_headers_set = { "cache-control" = "no-store" }
[[routes]]
name = "empty"
path_exact = "/gone"
respond = { status = 410 }
"#;
    let gw = Gw::start(&config(routes, &[&a], "")).await;
    let (st, h, body) = req(&gw, "GET", "/tea", &[]).await;
    assert_eq!((st, body.as_str()), (418, "short and stout"));
    assert_eq!(h["content-type"], "text/x-tea");
    assert_eq!(h["content-length"], "15");
    assert!(h.contains_key("x-request-id"));
    let (st, h, body) = req(&gw, "GET", "/ping", &[]).await;
    assert_eq!((st, body.as_str()), (200, "pong\n"));
    assert_eq!(h["content-type"], "text/plain; charset=utf-8");
    assert_eq!(h["cache-control"], "no-store");
    let (st, h, body) = req(&gw, "HEAD", "/ping", &[]).await;
    assert_eq!((st, body.as_str()), (200, ""));
    assert_eq!(h["content-length"], "5");
    let (st, _, body) = req(&gw, "GET", "/gone", &[]).await;
    assert_eq!((st, body.as_str()), (410, ""));
    // Fixed routes answer without an upstream; the method list still applies.
    assert_eq!(req(&gw, "POST", "/ping", &[]).await.0, 404);
    assert_eq!(a.count(), 0);
}

#[tokio::test]
async fn path_rewrites() {
    let a = Backend::start("a").await;
    let routes = r#"
[[routes]]
name = "v2"
path_prefix = "/v2/users"
rewrite_prefix = "/users"
cluster = "a"
[[routes]]
name = "strip"
path_prefix = "/api/"
rewrite_prefix = "/"
cluster = "a"
[[routes]]
name = "legacy"
path_prefix = "/old/"
rewrite_regex = { pattern = "^/old/([^/]+)/(.*)$", replace = "/new/$2/of/$1" }
cluster = "a"
[[routes]]
name = "ids"
path_regex = "^/item-[0-9]+$"
rewrite_regex = { pattern = "^/item-([0-9]+)$", replace = "/items/${1}" }
cluster = "a"
[[routes]]
name = "plain"
path_prefix = "/"
cluster = "a"
"#;
    let gw = Gw::start(&config(routes, &[&a], "")).await;
    let cases = [
        ("/v2/users/7?x=1&y=2", "/users/7?x=1&y=2"),
        ("/v2/users", "/users"),
        ("/api/users", "/users"),
        ("/api/", "/"),
        ("/old/books/a/b?q=%20x", "/new/a/b/of/books?q=%20x"),
        // The regex does not match: the path goes up unchanged.
        ("/old/flat", "/old/flat"),
        ("/item-12", "/items/12"),
        ("/untouched/path%2Fenc?z", "/untouched/path%2Fenc?z"),
    ];
    for (path, _) in cases {
        let (st, _, _) = req(&gw, "GET", path, &[]).await;
        assert_eq!(st, 200, "{path}");
    }
    let seen: Vec<String> = a.requests().into_iter().map(|s| s.path_and_query).collect();
    let want: Vec<&str> = cases.iter().map(|c| c.1).collect();
    assert_eq!(seen, want);
}

#[tokio::test]
async fn request_and_response_header_edits() {
    let (a, b) = (Backend::start("a").await, Backend::start("b").await);
    let routes = r#"
[[routes]]
name = "edited"
path_prefix = "/edited"
cluster = "a"
request_headers_set = { "x-gateway" = "sekisho", "x-override" = "from-gateway" }
request_headers_remove = ["cookie", "X-Debug"]
response_headers_set = { "strict-transport-security" = "max-age=31536000", "x-frame-options" = "DENY" }
response_headers_remove = ["server", "X-Internal"]
[[routes]]
name = "untouched"
path_prefix = "/"
cluster = "b"
"#;
    let gw = Gw::start(&config(routes, &[&a, &b], "")).await;
    let hdrs = [
        ("cookie", "session=1"),
        ("x-debug", "1"),
        ("x-override", "from-client"),
        ("x-keep", "yes"),
    ];
    let (st, h, _) = req(&gw, "GET", "/edited", &hdrs).await;
    assert_eq!(st, 200);
    let seen = &a.requests()[0].headers;
    assert_eq!(seen["x-gateway"], "sekisho");
    assert_eq!(seen["x-override"], "from-gateway");
    assert_eq!(seen["x-keep"], "yes");
    assert!(!seen.contains_key("cookie"), "{seen:?}");
    assert!(!seen.contains_key("x-debug"), "{seen:?}");
    assert_eq!(h["strict-transport-security"], "max-age=31536000");
    assert_eq!(h["x-frame-options"], "DENY");
    assert!(h.get("server").is_none(), "{h:?}");
    assert!(h.get("x-internal").is_none(), "{h:?}");
    // Another route leaves both directions alone.
    let (_, h, _) = req(&gw, "GET", "/other", &hdrs).await;
    let seen = &b.requests()[0].headers;
    assert_eq!(seen["cookie"], "session=1");
    assert_eq!(seen["x-override"], "from-client");
    assert!(!seen.contains_key("x-gateway"));
    assert_eq!(h["server"], "test-backend");
    assert_eq!(h["x-internal"], "secret");
    assert!(h.get("strict-transport-security").is_none());
}

#[tokio::test]
async fn route_cannot_forge_forwarding_headers() {
    let a = Backend::start("a").await;
    let routes = r#"
[[routes]]
name = "forge"
path_prefix = "/"
cluster = "a"
request_headers_set = { "x-forwarded-for" = "6.6.6.6", "x-request-id" = "forged" }
"#;
    let gw = Gw::start(&config(routes, &[&a], "")).await;
    let (_, h, _) = req(&gw, "GET", "/", &[]).await;
    let seen = &a.requests()[0].headers;
    assert_eq!(seen["x-forwarded-for"], "127.0.0.1");
    assert_eq!(seen["x-request-id"], h["x-request-id"].to_str().unwrap());
    assert_ne!(seen["x-request-id"], "forged");
}

#[tokio::test]
async fn hop_by_hop_request_headers_are_not_forwarded() {
    let a = Backend::start("a").await;
    let gw = Gw::start(&simple(&[&a], "")).await;
    let out = raw(
        gw.addr,
        b"GET /hop HTTP/1.1\r\nHost: x\r\nConnection: close, X-Secret\r\nX-Secret: s\r\n\
Keep-Alive: timeout=5\r\nTE: trailers\r\nTrailer: x-t\r\nProxy-Authorization: Basic Zm9vOmJhcg==\r\n\
Proxy-Connection: keep-alive\r\nX-End-To-End: kept\r\n\r\n",
    )
    .await;
    assert!(out.starts_with("HTTP/1.1 200"), "{out}");
    let seen = &a.requests()[0].headers;
    for h in [
        "x-secret",
        "keep-alive",
        "te",
        "trailer",
        "proxy-authorization",
        "proxy-connection",
        "transfer-encoding",
        "upgrade",
    ] {
        assert!(!seen.contains_key(h), "{h} forwarded: {seen:?}");
    }
    // The upstream connection is the gateway's own (pooled): never `close` from the client.
    assert_ne!(
        seen.get("connection").map(String::as_str),
        Some("close"),
        "{seen:?}"
    );
    assert_eq!(seen["x-end-to-end"], "kept");
    assert_eq!(seen["host"], "x");
    assert_eq!(seen["via"], "1.1 sekisho");
}

#[tokio::test]
async fn hop_by_hop_response_headers_are_not_returned() {
    let up = raw_backend(
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: X-Hop\r\nX-Hop: 1\r\n\
Keep-Alive: timeout=5, max=100\r\nProxy-Authenticate: Basic\r\nUpgrade: h2c\r\nX-Kept: yes\r\n\r\nok",
    )
    .await;
    let toml = format!(
        "[admin]\nlisten = \"127.0.0.1:0\"\n[[listeners]]\nlisten = \"127.0.0.1:0\"\n\
[[routes]]\npath_prefix = \"/\"\ncluster = \"c\"\n[[clusters]]\nname = \"c\"\nendpoints = [\"{up}\"]\n"
    );
    let gw = Gw::start(&toml).await;
    let (st, h, body) = req(&gw, "GET", "/", &[]).await;
    assert_eq!((st, body.as_str()), (200, "ok"));
    assert_eq!(h["x-kept"], "yes");
    for name in [
        "x-hop",
        "keep-alive",
        "proxy-authenticate",
        "upgrade",
        "connection",
    ] {
        assert!(h.get(name).is_none(), "{name} returned: {h:?}");
    }
}

/// A gateway with events in its directory, trusting `trusted`.
async fn proxy_gw(a: &Backend, trusted: &str) -> Gw {
    let extra = format!("[server]\ntrusted_proxies = [{trusted}]\n");
    Gw::start(&format!("{extra}{}{EVENTS}", simple(&[a], ""))).await
}

#[tokio::test]
async fn forwarded_for_believed_from_trusted_peer() {
    let a = Backend::start("a").await;
    let gw = proxy_gw(&a, "\"127.0.0.1\", \"10.0.0.0/8\"").await;
    let cases: [(&[(&str, &str)], &str); 5] = [
        (&[("x-forwarded-for", "203.0.113.9")], "203.0.113.9"),
        // Walk from the right past trusted proxies; the first untrusted one is the client.
        (
            &[("x-forwarded-for", "198.51.100.7, 203.0.113.9, 10.0.0.2")],
            "203.0.113.9",
        ),
        (
            &[("forwarded", "for=\"[2001:db8::1]:443\";proto=https")],
            "2001:db8::1",
        ),
        (
            &[("forwarded", "for=192.0.2.60;proto=http;by=203.0.113.43")],
            "192.0.2.60",
        ),
        // A garbled chain cannot be walked: only the peer is believed.
        (
            &[("x-forwarded-for", "203.0.113.9, not-an-ip")],
            "127.0.0.1",
        ),
    ];
    for (i, (hdrs, _)) in cases.iter().enumerate() {
        let id = format!("fwd-{i}");
        let mut h = hdrs.to_vec();
        h.push(("x-request-id", &id));
        assert_eq!(req(&gw, "GET", "/", &h).await.0, 200);
    }
    let events = access_log(&gw);
    for (i, (_, want)) in cases.iter().enumerate() {
        let ev = events
            .iter()
            .find(|e| e["request_id"] == format!("fwd-{i}"))
            .unwrap();
        assert_eq!(ev["client_ip"], *want, "case {i}");
    }
    let seen = a.requests();
    // A trusted peer's chain is extended with the peer; its proto is kept.
    assert_eq!(seen[0].headers["x-forwarded-for"], "203.0.113.9, 127.0.0.1");
    assert_eq!(
        seen[1].headers["x-forwarded-for"],
        "198.51.100.7, 203.0.113.9, 10.0.0.2, 127.0.0.1"
    );
    assert_eq!(seen[0].headers["x-forwarded-proto"], "http");
    assert_eq!(
        seen[2].headers["forwarded"],
        "for=\"[2001:db8::1]:443\";proto=https"
    );
    let (_, _, _) = req(&gw, "GET", "/", &[("x-forwarded-proto", "https")]).await;
    assert_eq!(
        a.requests().last().unwrap().headers["x-forwarded-proto"],
        "https"
    );
}

#[tokio::test]
async fn forwarded_for_ignored_from_untrusted_peer() {
    let a = Backend::start("a").await;
    let gw = proxy_gw(&a, "\"10.0.0.0/8\"").await;
    let spoof: [&[(&str, &str)]; 2] = [
        &[
            ("x-forwarded-for", "203.0.113.9"),
            ("x-forwarded-proto", "https"),
            ("x-request-id", "spoof-0"),
        ],
        &[
            ("forwarded", "for=203.0.113.9;proto=https"),
            ("x-request-id", "spoof-1"),
        ],
    ];
    for h in spoof {
        assert_eq!(req(&gw, "GET", "/", h).await.0, 200);
    }
    let events = access_log(&gw);
    for id in ["spoof-0", "spoof-1"] {
        let ev = events.iter().find(|e| e["request_id"] == id).unwrap();
        assert_eq!(ev["client_ip"], "127.0.0.1", "{id}");
    }
    // The upstream never sees the made-up addresses as if a proxy had vouched for them.
    for s in a.requests() {
        assert_eq!(s.headers["x-forwarded-for"], "127.0.0.1", "{:?}", s.headers);
        assert_eq!(s.headers["x-forwarded-proto"], "http", "{:?}", s.headers);
        assert!(!s.headers.contains_key("forwarded"), "{:?}", s.headers);
    }
}

#[tokio::test]
async fn request_id_generated_or_propagated() {
    let a = Backend::start("a").await;
    let gw = Gw::start(&simple(&[&a], "")).await;
    // Absent: generated, sent upstream and returned, different for every request.
    let (_, h1, _) = req(&gw, "GET", "/", &[]).await;
    let (_, h2, _) = req(&gw, "GET", "/", &[]).await;
    let id1 = h1["x-request-id"].to_str().unwrap().to_owned();
    let id2 = h2["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(id1.len(), 32);
    assert!(id1.bytes().all(|b| b.is_ascii_hexdigit()), "{id1}");
    assert_ne!(id1, id2);
    // Sent by the client: propagated as is, both ways.
    let (_, h3, _) = req(&gw, "GET", "/", &[("x-request-id", "client-id_1.2:3")]).await;
    assert_eq!(h3["x-request-id"], "client-id_1.2:3");
    // Not plain (spaces, too long): replaced by a generated one.
    let long = "a".repeat(129);
    let (_, h4, _) = req(&gw, "GET", "/", &[("x-request-id", "two words")]).await;
    let (_, h5, _) = req(&gw, "GET", "/", &[("x-request-id", &long)]).await;
    let id4 = h4["x-request-id"].to_str().unwrap().to_owned();
    let id5 = h5["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!((id4.len(), id5.len()), (32, 32));
    let seen: Vec<String> = a
        .requests()
        .iter()
        .map(|s| s.headers["x-request-id"].clone())
        .collect();
    assert_eq!(seen, [id1, id2, "client-id_1.2:3".into(), id4, id5]);
}

#[tokio::test]
async fn request_id_header_is_configurable() {
    let a = Backend::start("a").await;
    let extra = "[server]\nrequest_id_header = \"X-Correlation-Id\"\n";
    let gw = Gw::start(&format!("{extra}{}", simple(&[&a], ""))).await;
    let (_, h, _) = req(
        &gw,
        "GET",
        "/",
        &[("x-correlation-id", "corr-7"), ("x-request-id", "other")],
    )
    .await;
    assert_eq!(h["x-correlation-id"], "corr-7");
    let seen = &a.requests()[0].headers;
    assert_eq!(seen["x-correlation-id"], "corr-7");
    // The default header is just another header now.
    assert_eq!(seen["x-request-id"], "other");
    let (_, h, _) = req(&gw, "GET", "/", &[]).await;
    assert_eq!(h["x-correlation-id"].len(), 32);
}
