//! Request events: exactly one per request, rejected ones included, with the same count
//! in the JSON-lines access log and the SQLite store.
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
use serde_json::Value;
use std::time::Duration;

/// Routes: `/api/` (backend `a`, bodies up to 16 bytes), `/slow/` (backend `slow`),
/// `/dead/` (nothing listens), `/fixed`; anything else: 404.
async fn events_gw(a: &Backend, slow: &Backend) -> Gw {
    let dead = dead_addr().await;
    let toml = format!(
        r#"
[admin]
listen = "127.0.0.1:0"
[[listeners]]
listen = "127.0.0.1:0"
[[routes]]
name = "api"
path_prefix = "/api/"
cluster = "a"
max_body_bytes = 16
[[routes]]
name = "slow"
path_prefix = "/slow/"
cluster = "slow"
[[routes]]
name = "dead"
path_prefix = "/dead/"
cluster = "dead"
[[routes]]
name = "fixed"
path_exact = "/fixed"
respond = {{ status = 202, body = "accepted" }}
[[clusters]]
name = "a"
endpoints = ["{}"]
[[clusters]]
name = "slow"
endpoints = ["{}"]
[[clusters]]
name = "dead"
endpoints = ["{dead}"]
connect_timeout = "1s"
[clusters.retry]
attempts = 0
{EVENTS}
"#,
        a.addr, slow.addr
    );
    Gw::start(&toml).await
}

/// The rows of the store: (request_id, status, route, client_ip, method, path).
fn store_rows(gw: &Gw) -> Vec<(String, u16, String, String, String, String)> {
    let db = rusqlite::Connection::open(gw.dir.path().join("events.db")).unwrap();
    let mut stmt = db
        .prepare("SELECT request_id, status, route, client_ip, method, path, event FROM events ORDER BY id")
        .unwrap();
    let rows = stmt
        .query_map([], |r| {
            let json: String = r.get(6)?;
            let ev: Value = serde_json::from_str(&json).unwrap();
            let id: String = r.get(0)?;
            // The indexed columns agree with the stored event.
            assert_eq!(ev["request_id"], id.as_str());
            Ok((id, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?))
        })
        .unwrap();
    rows.map(Result::unwrap).collect()
}

fn by_id<'a>(events: &'a [Value], id: &str) -> &'a Value {
    let found: Vec<&Value> = events.iter().filter(|e| e["request_id"] == id).collect();
    assert_eq!(found.len(), 1, "events for {id}: {found:?}");
    found[0]
}

fn decisions(ev: &Value) -> Vec<(String, String)> {
    ev["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["phase"].as_str().unwrap().to_owned(),
                d["action"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn u(ev: &Value, field: &str) -> u64 {
    ev[field]
        .as_u64()
        .unwrap_or_else(|| panic!("{field} in {ev}"))
}

#[tokio::test]
async fn one_event_per_request_in_log_and_store() {
    let (a, slow) = (Backend::start("a").await, Backend::start("slow").await);
    slow.delay_ms.store(40, std::sync::atomic::Ordering::SeqCst);
    let gw = events_gw(&a, &slow).await;
    let c = client();
    let host = format!("{}", gw.addr);

    // 200 from the upstream, with a query string.
    let r = http::Request::get(gw.url("/api/users?id=7&x=y"))
        .header("x-request-id", "ev-ok")
        .header("user-agent", "events-test")
        .body(Full::default())
        .unwrap();
    let (st, h, body) = send(&c, r).await;
    assert_eq!((st, body.as_str()), (200, "a"));
    assert_eq!(h["x-request-id"], "ev-ok");
    // 200 with a request body.
    let r = http::Request::post(gw.url("/api/post"))
        .header("x-request-id", "ev-post")
        .body(Full::new(Bytes::from_static(b"0123456789")))
        .unwrap();
    assert_eq!(send(&c, r).await.0, 200);
    // A slow upstream.
    let r = http::Request::get(gw.url("/slow/x")).header("x-request-id", "ev-slow");
    assert_eq!(send(&c, r.body(Full::default()).unwrap()).await.0, 200);
    // A fixed answer and a HEAD of it.
    let r = http::Request::get(gw.url("/fixed")).header("x-request-id", "ev-fixed");
    assert_eq!(send(&c, r.body(Full::default()).unwrap()).await.0, 202);
    let r = http::Request::head(gw.url("/fixed")).header("x-request-id", "ev-head");
    assert_eq!(send(&c, r.body(Full::default()).unwrap()).await.0, 202);
    // 404: no route.
    let r = http::Request::get(gw.url("/nowhere?a=1")).header("x-request-id", "ev-404");
    assert_eq!(send(&c, r.body(Full::default()).unwrap()).await.0, 404);
    // 502: nothing listens upstream.
    let r = http::Request::get(gw.url("/dead/x")).header("x-request-id", "ev-502");
    assert_eq!(send(&c, r.body(Full::default()).unwrap()).await.0, 502);
    // 413: declared body larger than the route allows; and a chunked one that grows past it.
    let out = raw(
        gw.addr,
        b"POST /api/big HTTP/1.1\r\nHost: h\r\nX-Request-Id: ev-413\r\nContent-Length: 100\r\n\r\n0123456789",
    )
    .await;
    assert!(out.starts_with("HTTP/1.1 413"), "{out}");
    let out = raw(
        gw.addr,
        b"POST /api/big HTTP/1.1\r\nHost: h\r\nX-Request-Id: ev-413c\r\nTransfer-Encoding: chunked\r\n\r\n\
a\r\n0123456789\r\na\r\n0123456789\r\n0\r\n\r\n",
    )
    .await;
    assert!(out.starts_with("HTTP/1.1 413"), "{out}");
    // 400 from hyper's parser (a header line without a colon): the pipeline never sees it.
    let out = raw(
        gw.addr,
        b"GET /api/x HTTP/1.1\r\nHost: h\r\nno colon here\r\n\r\n",
    )
    .await;
    assert!(out.starts_with("HTTP/1.1 400"), "{out}");
    // 400 from the strict checks (request smuggling shape).
    let out = raw(
        gw.addr,
        b"POST /api/x HTTP/1.1\r\nHost: h\r\nX-Request-Id: ev-smuggle\r\nContent-Length: 4\r\n\
Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    )
    .await;
    assert!(out.starts_with("HTTP/1.1 400"), "{out}");
    // 431: header section too large.
    let big = format!(
        "GET /api/x HTTP/1.1\r\nHost: h\r\nX-Big: {}\r\n\r\n",
        "b".repeat(20_000)
    );
    let out = raw(gw.addr, big.as_bytes()).await;
    assert!(out.starts_with("HTTP/1.1 431"), "{out}");
    const SENT: usize = 12;

    assert_eq!(gw.gw.shutdown(Duration::from_secs(3)).await, 0);
    let events = access_log(&gw);
    assert_eq!(events.len(), SENT, "{events:#?}");
    let mut ids: Vec<&str> = events
        .iter()
        .map(|e| e["request_id"].as_str().unwrap())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), SENT, "request ids are unique");

    // Every event has every field, of the documented type.
    for e in &events {
        assert_eq!(e["v"], 1);
        let t = e["time"].as_str().unwrap();
        assert!(
            t.len() == 24 && t.ends_with('Z') && t.as_bytes()[10] == b'T',
            "{t}"
        );
        assert_eq!(e["client_ip"], "127.0.0.1");
        for f in [
            "request_id",
            "method",
            "host",
            "path",
            "query",
            "protocol",
            "route",
            "upstream",
        ] {
            assert!(e[f].is_string(), "{f} in {e}");
        }
        for f in ["status", "bytes_in", "bytes_out", "latency_us"] {
            u(e, f);
        }
        assert!(e["tls"].is_null());
        assert!(e["decisions"].is_array());
        assert!(u(e, "bytes_in") > 0, "{e}");
    }

    let ok = by_id(&events, "ev-ok");
    assert_eq!(ok["method"], "GET");
    assert_eq!(ok["host"], host.as_str());
    assert_eq!(ok["path"], "/api/users");
    assert_eq!(ok["query"], "id=7&x=y");
    assert_eq!(ok["protocol"], "HTTP/1.1");
    assert_eq!(ok["status"], 200);
    assert_eq!(ok["route"], "api");
    assert_eq!(ok["upstream"], a.addr.to_string());
    assert!(decisions(ok).is_empty(), "{ok}");
    // Body "a" plus a header section.
    assert!(u(ok, "bytes_out") > 1 + 20, "{ok}");
    assert!(
        u(ok, "bytes_in") > "GET /api/users?id=7&x=y HTTP/1.1\r\n".len() as u64,
        "{ok}"
    );

    let post = by_id(&events, "ev-post");
    assert_eq!(
        (post["method"].as_str(), post["status"].as_u64()),
        (Some("POST"), Some(200))
    );
    let get_in = u(by_id(&events, "ev-fixed"), "bytes_in");
    assert!(u(post, "bytes_in") >= 10 + 20, "{post} vs {get_in}");

    let slow_ev = by_id(&events, "ev-slow");
    assert!(u(slow_ev, "latency_us") >= 40_000, "{slow_ev}");
    assert_eq!(slow_ev["upstream"], slow.addr.to_string());

    let fixed = by_id(&events, "ev-fixed");
    assert_eq!(
        (fixed["status"].as_u64(), fixed["route"].as_str()),
        (Some(202), Some("fixed"))
    );
    assert_eq!(fixed["upstream"], "");
    assert!(u(fixed, "bytes_out") >= "accepted".len() as u64);
    let head = by_id(&events, "ev-head");
    assert_eq!(
        (head["method"].as_str(), head["status"].as_u64()),
        (Some("HEAD"), Some(202))
    );

    let nf = by_id(&events, "ev-404");
    assert_eq!(
        (nf["status"].as_u64(), nf["route"].as_str()),
        (Some(404), Some(""))
    );
    assert_eq!(
        (nf["path"].as_str(), nf["query"].as_str()),
        (Some("/nowhere"), Some("a=1"))
    );
    assert_eq!(decisions(nf), [("route".into(), "deny".into())]);

    let bad_gw = by_id(&events, "ev-502");
    assert_eq!(
        (bad_gw["status"].as_u64(), bad_gw["route"].as_str()),
        (Some(502), Some("dead"))
    );
    assert_eq!(decisions(bad_gw), [("upstream".into(), "error".into())]);
    let reason = bad_gw["decisions"][0]["reason"].as_str().unwrap();
    assert!(reason.contains("connect to"), "{reason}");

    for id in ["ev-413", "ev-413c"] {
        let e = by_id(&events, id);
        assert_eq!(
            (e["status"].as_u64(), e["route"].as_str()),
            (Some(413), Some("api")),
            "{e}"
        );
        assert_eq!(decisions(e), [("body".into(), "deny".into())]);
        assert_eq!(e["upstream"], "");
    }

    let smuggle = by_id(&events, "ev-smuggle");
    assert_eq!(smuggle["status"], 400);
    assert_eq!(decisions(smuggle), [("parse".into(), "deny".into())]);

    // hyper's own refusals: the id is generated, the decision names the parser.
    for status in [400, 431] {
        let e: Vec<&Value> = events
            .iter()
            .filter(|e| {
                e["status"] == status && !e["request_id"].as_str().unwrap().starts_with("ev-")
            })
            .collect();
        assert_eq!(e.len(), 1, "status {status}: {events:#?}");
        assert_eq!(decisions(e[0]), [("parse".into(), "deny".into())]);
        assert_eq!(e[0]["request_id"].as_str().unwrap().len(), 32);
        // What can be read of the refused head is recorded.
        assert_eq!(
            (e[0]["method"].as_str(), e[0]["path"].as_str()),
            (Some("GET"), Some("/api/x"))
        );
        assert_eq!(e[0]["host"], "h");
        assert!(
            u(e[0], "bytes_out") > "HTTP/1.1 400 Bad Request\r\n".len() as u64,
            "{}",
            e[0]
        );
    }
    let malformed = events
        .iter()
        .find(|e| e["status"] == 400 && e["request_id"] != "ev-smuggle")
        .unwrap();
    let sent = "GET /api/x HTTP/1.1\r\nHost: h\r\nno colon here\r\n\r\n".len() as u64;
    assert_eq!(u(malformed, "bytes_in"), sent, "{malformed}");
    let too_big = events.iter().find(|e| e["status"] == 431).unwrap();
    assert!(u(too_big, "bytes_in") >= 16_384, "{too_big}");
    assert_eq!(a.count(), 2, "refused requests never reach the upstream");

    // The store holds the same events.
    let rows = store_rows(&gw);
    assert_eq!(rows.len(), SENT);
    let mut store_ids: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    store_ids.sort_unstable();
    assert_eq!(store_ids, ids);
    let ok_row = rows.iter().find(|r| r.0 == "ev-ok").unwrap();
    assert_eq!(
        ok_row,
        &(
            "ev-ok".into(),
            200,
            "api".into(),
            "127.0.0.1".into(),
            "GET".into(),
            "/api/users".into()
        )
    );
    let sink = gw.gw.events().unwrap();
    assert_eq!(
        (sink.written(), sink.dropped(), sink.failed()),
        (SENT as u64, 0, 0)
    );
}

#[tokio::test]
async fn client_gone_before_the_response_still_gets_its_event() {
    let (a, slow) = (Backend::start("a").await, Backend::start("slow").await);
    slow.delay_ms
        .store(300, std::sync::atomic::Ordering::SeqCst);
    let gw = events_gw(&a, &slow).await;
    {
        use tokio::io::AsyncWriteExt;
        let mut s = tokio::net::TcpStream::connect(gw.addr).await.unwrap();
        s.write_all(b"GET /slow/x HTTP/1.1\r\nHost: h\r\nX-Request-Id: ev-gone\r\n\r\n")
            .await
            .unwrap();
        assert!(eventually(2, || slow.count() == 1).await);
        // The client hangs up while the upstream is still working.
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    gw.gw.shutdown(Duration::from_secs(2)).await;
    let events = access_log(&gw);
    assert_eq!(events.len(), 1, "{events:#?}");
    let e = by_id(&events, "ev-gone");
    assert_eq!(e["route"], "slow");
    // The upstream answered; the client never got it, and the event says so.
    assert_eq!(e["status"], 200);
    assert_eq!(e["upstream"], slow.addr.to_string());
    assert_eq!(decisions(e), [("response".into(), "error".into())]);
    assert_eq!(store_rows(&gw).len(), 1);
}

#[tokio::test]
async fn http2_requests_are_events_too() {
    use hyper_util::rt::{TokioExecutor, TokioIo};
    let (a, slow) = (Backend::start("a").await, Backend::start("slow").await);
    let gw = events_gw(&a, &slow).await;
    let tcp = tokio::net::TcpStream::connect(gw.addr).await.unwrap();
    let (mut send, conn) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tcp))
            .await
            .unwrap();
    tokio::spawn(conn);
    for (path, id) in [("/api/h2?q=2", "h2-ok"), ("/missing", "h2-404")] {
        let req = http::Request::get(format!("http://example.test{path}"))
            .header("x-request-id", id)
            .body(Full::new(Bytes::new()))
            .unwrap();
        let resp = tokio::time::timeout(Duration::from_secs(5), send.send_request(req))
            .await
            .unwrap()
            .unwrap();
        http_body_util::BodyExt::collect(resp.into_body())
            .await
            .unwrap();
    }
    drop(send);
    gw.gw.shutdown(Duration::from_secs(2)).await;
    let events = access_log(&gw);
    assert_eq!(events.len(), 2);
    let ok = by_id(&events, "h2-ok");
    assert_eq!(ok["protocol"], "HTTP/2.0");
    assert_eq!(ok["host"], "example.test");
    assert_eq!(
        (ok["path"].as_str(), ok["query"].as_str()),
        (Some("/api/h2"), Some("q=2"))
    );
    assert_eq!(ok["status"], 200);
    assert_eq!(by_id(&events, "h2-404")["status"], 404);
    assert_eq!(store_rows(&gw).len(), 2);
}
