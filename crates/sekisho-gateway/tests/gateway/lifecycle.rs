//! The admin listener (`/healthz`, `/readyz`, `/metrics`), configuration reload (good and
//! bad) and the graceful drain on shutdown.
// Helpers outside `#[test]` functions unwrap too: clippy.toml's test allowances stop there.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use crate::common::*;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn admin(gw: &Gw, path: &str) -> (u16, String) {
    let (st, _, body) = get(&client(), &format!("http://{}{path}", gw.gw.admin_addr())).await;
    (st, body)
}

/// Listener, admin and one route `api` (`/api/`) to backend `a`; `extra` goes at the end.
fn api_config(a: &Backend, extra: &str) -> String {
    format!(
        r#"
[admin]
listen = "127.0.0.1:0"
[[listeners]]
listen = "127.0.0.1:0"
[[routes]]
name = "api"
path_prefix = "/api/"
cluster = "c"
[[clusters]]
name = "c"
endpoints = ["{}"]
{extra}
"#,
        a.addr
    )
}

#[tokio::test]
async fn admin_health_and_readiness() {
    let a = Backend::start("a").await;
    let gw = Gw::start(&simple(&[&a], "")).await;
    assert_eq!(admin(&gw, "/healthz").await, (200, "ok\n".into()));
    assert_eq!(admin(&gw, "/readyz").await, (200, "ready\n".into()));
    assert_eq!(admin(&gw, "/nothing").await.0, 404);
    // The admin port is not a route: the data plane never sees its paths.
    assert_eq!(a.count(), 0);
    assert_eq!(gw.gw.shutdown(Duration::from_secs(1)).await, 0);
    // Draining: alive but not ready; the admin listener stays up.
    assert_eq!(admin(&gw, "/healthz").await, (200, "ok\n".into()));
    assert_eq!(admin(&gw, "/readyz").await, (503, "draining\n".into()));
    assert_eq!(metric(&metrics(&gw).await, "sekisho_draining"), Some(1.0));
}

#[tokio::test]
async fn metrics_requests_latency_and_upstream_health() {
    let a = Backend::start("a").await;
    let health =
        "[clusters.health_check]\npath = \"/healthz\"\ninterval = \"50ms\"\ntimeout = \"500ms\"\n\
healthy_threshold = 1\nunhealthy_threshold = 1\n";
    let gw = Gw::start(&api_config(&a, health)).await;
    let c = client();
    for _ in 0..3 {
        assert_eq!(get(&c, &gw.url("/api/x")).await.0, 200);
    }
    assert_eq!(get(&c, &gw.url("/elsewhere")).await.0, 404);
    let out = raw(gw.addr, b"GET / HTTP/1.1\r\nHost: h\r\nbroken\r\n\r\n").await;
    assert!(out.starts_with("HTTP/1.1 400"), "{out}");

    let mut text = String::new();
    for _ in 0..100 {
        text = metrics(&gw).await;
        if metric(
            &text,
            "sekisho_requests_total{route=\"api\",status=\"200\"}",
        ) == Some(3.0)
            && metric(&text, "sekisho_requests_total{route=\"\",status=\"400\"}") == Some(1.0)
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let m = |series: &str| metric(&text, series);
    assert_eq!(
        m("sekisho_requests_total{route=\"api\",status=\"200\"}"),
        Some(3.0),
        "{text}"
    );
    assert_eq!(
        m("sekisho_requests_total{route=\"\",status=\"404\"}"),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        m("sekisho_requests_total{route=\"\",status=\"400\"}"),
        Some(1.0),
        "{text}"
    );
    assert!(text.contains("# TYPE sekisho_requests_total counter\n"));
    // Latency histogram: cumulative buckets ending in +Inf = count.
    assert!(text.contains("# TYPE sekisho_request_duration_seconds histogram\n"));
    let buckets: Vec<f64> = text
        .lines()
        .filter(|l| l.starts_with("sekisho_request_duration_seconds_bucket{route=\"api\","))
        .map(|l| l.rsplit(' ').next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(buckets.len(), 15, "{text}");
    assert!(buckets.windows(2).all(|w| w[0] <= w[1]), "{buckets:?}");
    assert_eq!(buckets.last(), Some(&3.0));
    assert_eq!(
        m("sekisho_request_duration_seconds_bucket{route=\"api\",le=\"+Inf\"}"),
        Some(3.0)
    );
    assert_eq!(
        m("sekisho_request_duration_seconds_count{route=\"api\"}"),
        Some(3.0)
    );
    let sum = m("sekisho_request_duration_seconds_sum{route=\"api\"}").unwrap();
    assert!(sum > 0.0 && sum < 5.0, "{sum}");
    assert!(m("sekisho_connections_total").unwrap() >= 2.0);
    assert_eq!(m("sekisho_parse_errors_total"), Some(1.0));
    assert_eq!(m("sekisho_config_generation"), Some(1.0));
    assert_eq!(m("sekisho_events_dropped_total"), Some(0.0));
    assert_eq!(m("sekisho_draining"), Some(0.0));

    // Upstream endpoint health follows the active checks.
    let series = format!(
        "sekisho_upstream_endpoint_healthy{{cluster=\"c\",endpoint=\"{}\"}}",
        a.addr
    );
    assert_eq!(m(&series), Some(1.0), "{text}");
    a.healthy.store(false, Ordering::SeqCst);
    let mut down = false;
    for _ in 0..100 {
        if metric(&metrics(&gw).await, &series) == Some(0.0) {
            down = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(down, "endpoint never reported unhealthy");
    a.healthy.store(true, Ordering::SeqCst);
    let mut up = false;
    for _ in 0..100 {
        if metric(&metrics(&gw).await, &series) == Some(1.0) {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(up, "endpoint never came back");
}

#[tokio::test]
async fn metrics_count_dropped_events() {
    let a = Backend::start("a").await;
    let events = format!("{EVENTS}queue_size = 1\n");
    let gw = Gw::start(&api_config(&a, &events)).await;
    let c = client();
    // Stall the writer: the store is locked by another connection. Once the writer waits
    // for the lock (its first batch is due after 200 ms), the one-slot queue fills and
    // further events are dropped, without slowing a single request.
    let blocker = rusqlite::Connection::open(gw.dir.path().join("events.db")).unwrap();
    blocker.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let sink = gw.gw.events().unwrap();
    let mut sent = 0u64;
    let t = Instant::now();
    while sink.dropped() < 3 && t.elapsed() < Duration::from_secs(4) {
        let r = Instant::now();
        assert_eq!(get(&c, &gw.url("/api/x")).await.0, 200);
        assert!(r.elapsed() < Duration::from_secs(1), "{:?}", r.elapsed());
        sent += 1;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let text = metrics(&gw).await;
    let dropped = metric(&text, "sekisho_events_dropped_total").unwrap();
    assert!(dropped >= 3.0, "{text}");
    assert_eq!(metric(&text, "sekisho_events_queued"), Some(1.0), "{text}");
    blocker.execute_batch("COMMIT").unwrap();
    drop(blocker);
    gw.gw.shutdown(Duration::from_secs(2)).await;
    assert_eq!(sink.dropped(), dropped as u64);
    assert_eq!(sink.written() + sink.dropped(), sent);
    assert_eq!(sink.failed(), 0);
}

#[tokio::test]
async fn reload_changes_routing_and_bumps_generation() {
    let (a, b) = (Backend::start("a").await, Backend::start("b").await);
    a.delay_ms.store(300, Ordering::SeqCst);
    let gw = Gw::start(&api_config(&a, "")).await;
    assert_eq!(gw.gw.generation(), 1);
    let c = client();
    // A request in flight keeps the configuration it started with.
    let slow = tokio::spawn({
        let url = gw.url("/api/slow");
        let c = c.clone();
        async move { get(&c, &url).await }
    });
    assert!(eventually(2, || a.count() == 1).await);

    let new = format!(
        r#"
[admin]
listen = "127.0.0.1:0"
[[listeners]]
listen = "127.0.0.1:0"
[[routes]]
name = "v2"
path_prefix = "/v2/"
cluster = "b"
[[routes]]
name = "fixed"
path_exact = "/api/x"
respond = {{ status = 200, body = "reloaded" }}
[[clusters]]
name = "b"
endpoints = ["{}"]
"#,
        b.addr
    );
    std::fs::write(&gw.config, new).unwrap();
    assert_eq!(gw.gw.reload_from_file(&gw.config).await.unwrap(), 2);
    assert_eq!(gw.gw.generation(), 2);
    assert_eq!(get(&c, &gw.url("/api/x")).await.2, "reloaded");
    assert_eq!(get(&c, &gw.url("/v2/users")).await.2, "b");
    assert_eq!(get(&c, &gw.url("/api/other")).await.0, 404);
    let (st, _, body) = slow.await.unwrap();
    assert_eq!((st, body.as_str()), (200, "a"));
    assert_eq!(a.count(), 1);

    let text = metrics(&gw).await;
    assert_eq!(metric(&text, "sekisho_config_generation"), Some(2.0));
    assert_eq!(
        metric(&text, "sekisho_config_reloads_total{result=\"ok\"}"),
        Some(1.0)
    );
    assert_eq!(
        metric(&text, "sekisho_config_reloads_total{result=\"invalid\"}"),
        Some(0.0)
    );
    // The new cluster's endpoints are the ones reported.
    assert!(
        text.contains(&format!("cluster=\"b\",endpoint=\"{}\"", b.addr)),
        "{text}"
    );
    assert!(
        !text.contains(&format!("endpoint=\"{}\"", a.addr)),
        "{text}"
    );
}

#[tokio::test]
async fn reload_with_bad_config_keeps_the_old_one() {
    let a = Backend::start("a").await;
    let good = api_config(&a, "");
    let gw = Gw::start(&good).await;
    let c = client();
    let file = gw.config.display().to_string();

    // A TOML syntax error: named with its line, nothing changes.
    let broken = "[admin]\nlisten = \"127.0.0.1:0\"\n[[listeners]]\nlisten = \"127.0.0.1:0\"\n[[routes]]\nname = \"x\n";
    std::fs::write(&gw.config, broken).unwrap();
    let err = gw.gw.reload_from_file(&gw.config).await.unwrap_err();
    let text = err.to_string();
    assert!(text.starts_with(&format!("{file}:6: ")), "{text}");
    assert_eq!(gw.gw.generation(), 1);
    assert_eq!(get(&c, &gw.url("/api/x")).await.2, "a");

    // Valid TOML, invalid config: every error, each with its line.
    let invalid = format!(
        "{good}\n[[routes]]\nname = \"bad-cluster\"\npath_prefix = \"/b/\"\ncluster = \"nope\"\n\
[[routes]]\nname = \"bad-regex\"\npath_regex = \"([a-z]+\"\ncluster = \"c\"\n"
    );
    let line_of = |needle: &str| invalid.lines().position(|l| l.contains(needle)).unwrap() + 1;
    std::fs::write(&gw.config, &invalid).unwrap();
    let err = gw.gw.reload_from_file(&gw.config).await.unwrap_err();
    assert_eq!(err.0.len(), 2, "{err}");
    let text = err.to_string();
    assert!(
        text.contains(&format!(
            "{file}:{}: route `bad-cluster`: unknown cluster `nope`",
            line_of("\"nope\"")
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "{file}:{}: `routes.path_regex`",
            line_of("([a-z]+")
        )),
        "{text}"
    );
    assert_eq!(gw.gw.generation(), 1);
    assert_eq!(get(&c, &gw.url("/api/x")).await.2, "a");
    assert_eq!(get(&c, &gw.url("/b/x")).await.0, 404);

    // A missing file is an error too.
    std::fs::remove_file(&gw.config).unwrap();
    let err = gw
        .gw
        .reload_from_file(&gw.config)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.starts_with(&format!("{file}: cannot read")), "{err}");

    let text = metrics(&gw).await;
    assert_eq!(metric(&text, "sekisho_config_generation"), Some(1.0));
    assert_eq!(
        metric(&text, "sekisho_config_reloads_total{result=\"invalid\"}"),
        Some(3.0)
    );
    assert_eq!(
        metric(&text, "sekisho_config_reloads_total{result=\"ok\"}"),
        Some(0.0)
    );
    // A good file afterwards is taken.
    std::fs::write(&gw.config, &good).unwrap();
    assert_eq!(gw.gw.reload_from_file(&gw.config).await.unwrap(), 2);
}

#[tokio::test]
async fn drain_finishes_in_flight_and_refuses_new_connections() {
    let a = Backend::start("a").await;
    a.delay_ms.store(500, Ordering::SeqCst);
    let gw = Gw::start(&simple(&[&a], "")).await;
    let c = client();
    let url = gw.url("/slow");
    let request = async {
        send(
            &c,
            http::Request::get(&url).body(Default::default()).unwrap(),
        )
        .await
    };
    let drain = async {
        assert!(eventually(2, || a.count() == 1).await);
        let t = Instant::now();
        let left = gw.gw.shutdown(Duration::from_secs(4)).await;
        (left, t.elapsed())
    };
    let refused = async {
        // While draining: readiness is gone and new connections are refused.
        let mut ready = 200;
        for _ in 0..100 {
            ready = admin(&gw, "/readyz").await.0;
            if ready == 503 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(ready, 503);
        TcpStream::connect(gw.addr).await.err()
    };
    let ((st, h, body), (left, took), refused) = tokio::join!(request, drain, refused);
    assert_eq!((st, body.as_str()), (200, "a"));
    assert_eq!(h["connection"], "close");
    assert_eq!(left, 0);
    assert!(took < Duration::from_secs(3), "{took:?}");
    let e = refused.expect("connect during drain succeeded");
    assert_eq!(e.kind(), std::io::ErrorKind::ConnectionRefused);
    let e = TcpStream::connect(gw.addr).await.unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::ConnectionRefused);
}

#[tokio::test]
async fn drain_closes_keep_alive_connection_after_its_response() {
    let a = Backend::start("a").await;
    let gw = Gw::start(&simple(&[&a], "")).await;
    let mut s = TcpStream::connect(gw.addr).await.unwrap();
    // First request: a normal keep-alive answer.
    s.write_all(b"GET /one HTTP/1.1\r\nHost: h\r\n\r\n")
        .await
        .unwrap();
    let mut got = Vec::new();
    while !got.ends_with(b"\r\n\r\na") {
        let mut buf = [0u8; 4096];
        let n = tokio::time::timeout(Duration::from_secs(3), s.read(&mut buf))
            .await
            .unwrap()
            .unwrap();
        assert!(n > 0, "closed after the first response");
        got.extend_from_slice(&buf[..n]);
    }
    let first = String::from_utf8_lossy(&got).to_ascii_lowercase();
    assert!(first.starts_with("http/1.1 200"), "{first}");
    assert!(!first.contains("connection: close"), "{first}");
    // Second request in flight when the drain starts.
    a.delay_ms.store(400, Ordering::SeqCst);
    s.write_all(b"GET /two HTTP/1.1\r\nHost: h\r\n\r\n")
        .await
        .unwrap();
    assert!(eventually(2, || a.count() == 2).await);
    let (second, left) = tokio::join!(
        read_to_close(&mut s),
        gw.gw.shutdown(Duration::from_secs(3))
    );
    assert_answered_then_closed(&second);
    assert_eq!(left, 0);
}

/// Everything the gateway sends until it closes the connection, lower-cased.
async fn read_to_close(s: &mut TcpStream) -> String {
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(3), s.read_to_end(&mut out))
        .await
        .unwrap()
        .unwrap();
    String::from_utf8_lossy(&out).to_ascii_lowercase()
}

/// Answered in full (backend `a`'s body), told to close, then closed.
fn assert_answered_then_closed(resp: &str) {
    assert!(resp.starts_with("http/1.1 200"), "{resp}");
    assert!(resp.contains("\r\nconnection: close\r\n"), "{resp}");
    assert!(resp.ends_with("\r\n\r\na"), "{resp}");
}

/// A connection accepted before the drain gets its first request answered even when the
/// request arrives after the drain began: closing it unread would reset a request its client
/// had every reason to send (seen as failed requests during binary upgrades under load).
#[tokio::test]
async fn drain_answers_the_first_request_of_a_connection_accepted_before_it() {
    let a = Backend::start("a").await;
    let gw = Gw::start(&simple(&[&a], "")).await;
    let mut s = TcpStream::connect(gw.addr).await.unwrap();
    assert!(eventually(1, || gw.gw.open_connections() == 1).await);
    let late = async {
        // The drain below begins meanwhile.
        tokio::time::sleep(Duration::from_millis(300)).await;
        s.write_all(b"GET /late HTTP/1.1\r\nHost: h\r\n\r\n")
            .await
            .unwrap();
        read_to_close(&mut s).await
    };
    let (resp, left) = tokio::join!(late, gw.gw.shutdown(Duration::from_secs(3)));
    assert_answered_then_closed(&resp);
    assert_eq!(left, 0);
}

#[tokio::test]
async fn drain_does_not_wait_for_idle_connections() {
    let a = Backend::start("a").await;
    let gw = Gw::start(&simple(&[&a], "")).await;
    let c = client();
    assert_eq!(get(&c, &gw.url("/")).await.0, 200);
    // The pooled client connection stays open and idle.
    assert!(eventually(1, || gw.gw.open_connections() == 1).await);
    let t = Instant::now();
    assert_eq!(gw.gw.shutdown(Duration::from_secs(5)).await, 0);
    assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());
    let e = TcpStream::connect(gw.addr).await.unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::ConnectionRefused);
}

#[tokio::test]
async fn drain_gives_up_after_the_grace_period() {
    let a = Backend::start("a").await;
    a.delay_ms.store(3_000, Ordering::SeqCst);
    let gw = Gw::start(&simple(&[&a], "")).await;
    let url = gw.url("/stuck");
    let stuck = tokio::spawn(async move {
        let _ = tokio::time::timeout(Duration::from_secs(4), get(&client(), &url)).await;
    });
    assert!(eventually(2, || a.count() == 1).await);
    let t = Instant::now();
    let left = gw.gw.shutdown(Duration::from_millis(200)).await;
    let took = t.elapsed();
    assert_eq!(left, 1);
    assert!(
        took >= Duration::from_millis(150) && took < Duration::from_secs(2),
        "{took:?}"
    );
    stuck.abort();
}

#[tokio::test]
async fn connections_refused_as_soon_as_shutdown_returns() {
    let a = Backend::start("a").await;
    let gw = Gw::start(&simple(&[&a], "")).await;
    // No connection open: nothing to wait for, yet the listener must be closed on return.
    assert_eq!(gw.gw.shutdown(Duration::from_secs(1)).await, 0);
    let e = TcpStream::connect(gw.addr).await.unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::ConnectionRefused);
}

#[tokio::test]
async fn drain_lets_http2_streams_finish_then_closes() {
    use hyper_util::rt::{TokioExecutor, TokioIo};
    let a = Backend::start("a").await;
    a.delay_ms.store(400, Ordering::SeqCst);
    let gw = Gw::start(&simple(&[&a], "")).await;
    let tcp = TcpStream::connect(gw.addr).await.unwrap();
    let (mut send, conn) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tcp))
            .await
            .unwrap();
    let conn = tokio::spawn(conn);
    let req = http::Request::get(format!("http://{}/h2-slow", gw.addr))
        .body(http_body_util::Full::new(bytes::Bytes::new()))
        .unwrap();
    let in_flight = send.send_request(req);
    let drain = async {
        assert!(eventually(2, || a.count() == 1).await);
        gw.gw.shutdown(Duration::from_secs(3)).await
    };
    let (resp, left) = tokio::join!(in_flight, drain);
    let resp = resp.unwrap();
    assert_eq!(resp.status(), 200);
    let body = http_body_util::BodyExt::collect(resp.into_body())
        .await
        .unwrap();
    assert_eq!(&body.to_bytes()[..], b"a");
    assert_eq!(left, 0);
    // GOAWAY was sent: the connection ends and takes no new stream.
    let ended = tokio::time::timeout(Duration::from_secs(2), conn).await;
    assert!(
        ended.is_ok(),
        "HTTP/2 connection still open after the drain"
    );
    let req = http::Request::get(format!("http://{}/late", gw.addr))
        .body(http_body_util::Full::new(bytes::Bytes::new()))
        .unwrap();
    assert!(send.send_request(req).await.is_err());
    assert_eq!(a.count(), 1);
}
