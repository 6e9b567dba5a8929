//! Upstream behaviour: active and passive health, retries and their budget, timeouts,
//! connect failures, request body limits, keep-alive pooling and streamed bodies.

use crate::common::*;
use bytes::Bytes;
use http_body_util::Full;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;

/// Admin, one listener, `routes` (all to cluster `c`), and cluster `c` over `endpoints`.
fn config(routes: &str, endpoints: &[SocketAddr], cluster_extra: &str) -> String {
    let eps: Vec<String> = endpoints.iter().map(|a| format!("\"{a}\"")).collect();
    format!(
        "[admin]\nlisten = \"127.0.0.1:0\"\n[[listeners]]\nlisten = \"127.0.0.1:0\"\n{routes}\n\
[[clusters]]\nname = \"c\"\nendpoints = [{}]\n{cluster_extra}\n",
        eps.join(", ")
    )
}

const ALL: &str = "[[routes]]\nname = \"all\"\npath_prefix = \"/\"\ncluster = \"c\"\n";

/// The status codes of every response in `out`, in order.
fn statuses(out: &str) -> Vec<u16> {
    out.match_indices("HTTP/1.1 ")
        .filter_map(|(i, _)| out.get(i + 9..i + 12))
        .filter_map(|s| s.parse().ok())
        .collect()
}

/// Like [`raw`], but a write cut short by the gateway closing early is not an error.
#[allow(clippy::unwrap_used)] // a helper of tests: failing loudly is the point
async fn raw_lenient(addr: SocketAddr, bytes: &[u8]) -> String {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let _ = s.write_all(bytes).await;
    read_to_close(&mut s).await
}

/// Everything the gateway sends until it closes the connection (or 3 s pass).
async fn read_to_close(s: &mut tokio::net::TcpStream) -> String {
    let mut out = Vec::new();
    let _ = tokio::time::timeout(
        Duration::from_secs(3),
        tokio::io::AsyncReadExt::read_to_end(s, &mut out),
    )
    .await;
    String::from_utf8_lossy(&out).into_owned()
}

/// A chunked `POST path` whose body is `chunks` chunks of `size` bytes of `fill`, then `tail`
/// (raw chunk framing, e.g. `1\r\nx\r\n`) and the last chunk.
fn chunked_post(path: &str, chunks: usize, size: usize, fill: u8, tail: &[u8]) -> Vec<u8> {
    let mut req = format!("POST {path} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        .into_bytes();
    for _ in 0..chunks {
        req.extend_from_slice(format!("{size:x}\r\n").as_bytes());
        req.extend(std::iter::repeat_n(fill, size));
        req.extend_from_slice(b"\r\n");
    }
    req.extend_from_slice(tail);
    req.extend_from_slice(b"0\r\n\r\n");
    req
}

#[allow(clippy::unwrap_used)] // a helper of tests: failing loudly is the point
async fn request(c: &Client, method: &str, url: &str, body: &[u8]) -> (u16, String) {
    let req = http::Request::builder()
        .method(method)
        .uri(url)
        .body(Full::new(Bytes::copy_from_slice(body)))
        .unwrap();
    let (st, _, body) = send(c, req).await;
    (st, body)
}

#[tokio::test]
async fn active_health_check_ejects_and_restores() {
    let (a, b) = (Backend::start("a").await, Backend::start("b").await);
    let hc =
        "[clusters.health_check]\npath = \"/healthz\"\ninterval = \"50ms\"\ntimeout = \"500ms\"\n\
unhealthy_threshold = 3\nhealthy_threshold = 2\n";
    let gw = Gw::start(&simple(&[&a, &b], hc)).await;
    let c = client();
    for _ in 0..10 {
        assert_eq!(get(&c, &gw.url("/")).await.0, 200);
    }
    assert_eq!((a.count(), b.count()), (5, 5));

    // /healthz turns 503: after `unhealthy_threshold` failed probes, no more traffic.
    let p0 = b.probes.load(Ordering::SeqCst);
    b.healthy.store(false, Ordering::SeqCst);
    let deadline = Instant::now() + Duration::from_secs(3);
    let mut streak = 0;
    while streak < 10 {
        assert!(Instant::now() < deadline, "b never ejected");
        let (st, _, body) = get(&c, &gw.url("/")).await;
        assert_eq!(st, 200);
        streak = if body == "a" { streak + 1 } else { 0 };
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let probes = b.probes.load(Ordering::SeqCst) - p0;
    assert!(probes >= 3, "ejected after {probes} probes");
    let before = b.count();
    for _ in 0..20 {
        let (st, _, body) = get(&c, &gw.url("/")).await;
        assert_eq!((st, body.as_str()), (200, "a"));
    }
    assert_eq!(b.count(), before);

    // Healthy again: back after `healthy_threshold` good probes.
    let p1 = b.probes.load(Ordering::SeqCst);
    b.healthy.store(true, Ordering::SeqCst);
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        assert!(Instant::now() < deadline, "b never restored");
        let (st, _, body) = get(&c, &gw.url("/")).await;
        assert_eq!(st, 200);
        if body == "b" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let probes = b.probes.load(Ordering::SeqCst) - p1;
    assert!(probes >= 2, "restored after {probes} probes");
    // And it takes its share again.
    let before = b.count();
    for _ in 0..10 {
        get(&c, &gw.url("/")).await;
    }
    assert_eq!(b.count() - before, 5);
}

#[tokio::test]
async fn health_checks_probe_every_endpoint_on_their_path() {
    let (a, b) = (Backend::start("a").await, Backend::start("b").await);
    let hc = "[clusters.health_check]\ninterval = \"50ms\"\n";
    let _gw = Gw::start(&simple(&[&a, &b], hc)).await;
    assert!(
        eventually(3, || a.probes.load(Ordering::SeqCst) >= 3
            && b.probes.load(Ordering::SeqCst) >= 3)
        .await
    );
    // Probes are not requests.
    assert_eq!((a.count(), b.count()), (0, 0));
}

#[tokio::test]
async fn all_endpoints_unhealthy_is_503() {
    let a = Backend::start("a").await;
    a.healthy.store(false, Ordering::SeqCst);
    let hc = "[clusters.health_check]\ninterval = \"50ms\"\nunhealthy_threshold = 1\n";
    let gw = Gw::start(&simple(&[&a], hc)).await;
    assert!(eventually(3, || a.probes.load(Ordering::SeqCst) >= 2).await);
    let (st, _, body) = get(&client(), &gw.url("/")).await;
    assert_eq!(st, 503, "{body}");
    assert_eq!(a.count(), 0);
}

#[tokio::test]
async fn passive_ejection_after_5xx_and_return() {
    let (a, b) = (Backend::start("a").await, Backend::start("b").await);
    a.status.store(500, Ordering::SeqCst);
    let extra = "[clusters.passive]\nconsecutive_failures = 3\nejection = \"1s\"\n\
[clusters.retry]\nattempts = 0\n";
    let gw = Gw::start(&simple(&[&a, &b], extra)).await;
    let c = client();
    let mut errors = 0;
    for _ in 0..20 {
        if a.count() == 3 {
            break;
        }
        let (st, _, _) = get(&c, &gw.url("/")).await;
        if st == 500 {
            errors += 1;
        }
    }
    let ejected_at = Instant::now();
    assert_eq!((a.count(), errors), (3, 3));
    // Ejected: everything goes to b.
    for _ in 0..10 {
        let (st, _, body) = get(&c, &gw.url("/")).await;
        assert_eq!((st, body.as_str()), (200, "b"));
    }
    assert!(
        ejected_at.elapsed() < Duration::from_secs(1),
        "test too slow"
    );
    assert_eq!(a.count(), 3);
    // After the ejection time a takes traffic again.
    a.status.store(200, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(1100).saturating_sub(ejected_at.elapsed())).await;
    for _ in 0..10 {
        assert_eq!(get(&c, &gw.url("/")).await.0, 200);
    }
    assert_eq!(a.count(), 3 + 5);
}

#[tokio::test]
async fn passive_ejection_after_connection_refused() {
    let b = Backend::start("b").await;
    let dead = dead_addr().await;
    let extra = "[clusters.passive]\nconsecutive_failures = 3\nejection = \"30s\"\n\
[clusters.retry]\nattempts = 0\n";
    let gw = Gw::start(&config(ALL, &[dead, b.addr], extra)).await;
    let c = client();
    let mut got = Vec::new();
    for _ in 0..20 {
        got.push(get(&c, &gw.url("/")).await.0);
    }
    assert_eq!(got.iter().filter(|&&s| s == 502).count(), 3, "{got:?}");
    assert_eq!(got.iter().filter(|&&s| s == 200).count(), 17, "{got:?}");
    // The last 14 all went to b without a failed attempt.
    assert!(got[6..].iter().all(|&s| s == 200), "{got:?}");
}

#[tokio::test]
async fn passive_ejection_can_be_switched_off() {
    let (a, b) = (Backend::start("a").await, Backend::start("b").await);
    a.status.store(500, Ordering::SeqCst);
    let extra = "[clusters.passive]\nconsecutive_failures = 0\n";
    let gw = Gw::start(&simple(&[&a, &b], extra)).await;
    let c = client();
    for _ in 0..20 {
        get(&c, &gw.url("/")).await;
    }
    assert_eq!((a.count(), b.count()), (10, 10));
}

#[tokio::test]
async fn get_is_retried_on_another_endpoint() {
    let (a, b) = (Backend::start("a").await, Backend::start("b").await);
    a.status.store(503, Ordering::SeqCst);
    let extra = "[clusters.passive]\nconsecutive_failures = 0\n";
    let gw = Gw::start(&simple(&[&a, &b], extra)).await;
    let c = client();
    for method in [
        "GET", "GET", "GET", "GET", "HEAD", "PUT", "DELETE", "OPTIONS",
    ] {
        let (st, body) = request(&c, method, &gw.url("/r"), b"").await;
        assert_eq!(st, 200, "{method}");
        if method != "HEAD" {
            assert_eq!(body, "b", "{method}");
        }
    }
    assert!(a.count() >= 1, "a was never tried");
    assert_eq!(b.count(), 8);
    // A retried request carries its whole body again.
    let (st, _) = request(&c, "PUT", &gw.url("/put"), b"payload").await;
    assert_eq!(st, 200);
    let last = b.requests().pop().unwrap();
    assert_eq!(
        (last.method.as_str(), &last.body[..]),
        ("PUT", &b"payload"[..])
    );
}

#[tokio::test]
async fn get_is_retried_after_connection_refused() {
    let b = Backend::start("b").await;
    let dead = dead_addr().await;
    let extra = "[clusters.passive]\nconsecutive_failures = 0\n";
    let gw = Gw::start(&config(ALL, &[dead, b.addr], extra)).await;
    let c = client();
    for _ in 0..10 {
        let (st, _, body) = get(&c, &gw.url("/")).await;
        assert_eq!((st, body.as_str()), (200, "b"));
    }
    assert_eq!(b.count(), 10);
}

#[tokio::test]
async fn post_is_not_retried() {
    let (a, b) = (Backend::start("a").await, Backend::start("b").await);
    a.status.store(503, Ordering::SeqCst);
    let extra = "[clusters.passive]\nconsecutive_failures = 0\n";
    let gw = Gw::start(&simple(&[&a, &b], extra)).await;
    let c = client();
    let mut unavailable = 0;
    for method in ["POST", "PATCH"] {
        for _ in 0..5 {
            let (st, body) = request(&c, method, &gw.url("/p"), b"once").await;
            match st {
                503 => unavailable += 1,
                200 => assert_eq!(body, "b"),
                other => panic!("{method}: {other}"),
            }
        }
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    // Every request reached exactly one backend, once.
    assert_eq!(a.count() + b.count(), 10);
    assert_eq!(unavailable, a.count());
    assert!(a.count() >= 1);
    assert!(a.requests().iter().all(|s| &s.body[..] == b"once"));
}

#[tokio::test]
async fn post_is_not_retried_after_connection_refused() {
    let b = Backend::start("b").await;
    let dead = dead_addr().await;
    let extra = "[clusters.passive]\nconsecutive_failures = 0\n";
    let gw = Gw::start(&config(ALL, &[dead, b.addr], extra)).await;
    let c = client();
    let mut got = Vec::new();
    for _ in 0..10 {
        got.push(request(&c, "POST", &gw.url("/"), b"x").await.0);
    }
    let refused = got.iter().filter(|&&s| s == 502).count();
    assert_eq!(refused + b.count(), 10, "{got:?}");
    assert!(refused >= 1, "{got:?}");
}

#[tokio::test]
async fn retry_budget_limits_retries() {
    let (a, b) = (Backend::start("a").await, Backend::start("b").await);
    a.status.store(503, Ordering::SeqCst);
    // At most 2 retries a second, whatever the traffic.
    let extra = "[clusters.passive]\nconsecutive_failures = 0\n\
[clusters.retry]\nattempts = 1\nbudget_ratio = 0.0\nmin_per_second = 2\n";
    let started = Instant::now();
    let gw = Gw::start(&simple(&[&a, &b], extra)).await;
    let c = client();
    let mut got = Vec::new();
    for _ in 0..20 {
        got.push(get(&c, &gw.url("/")).await.0);
    }
    // Budget windows are one second long; count every window the test touched.
    let windows = started.elapsed().as_secs() + 2;
    let retries = (a.count() + b.count()) as u64 - 20;
    assert!(retries >= 1, "no retry at all: {got:?}");
    assert!(retries <= 2 * windows, "{retries} retries: {got:?}");
    let ok = got.iter().filter(|&&s| s == 200).count();
    assert_eq!(ok, b.count(), "{got:?}");
    assert_eq!(got.len() - ok, a.count() - retries as usize, "{got:?}");
    assert!(got.contains(&503), "{got:?}");
}

#[tokio::test]
async fn request_timeout_is_504_and_not_retried() {
    let (a, b) = (Backend::start("a").await, Backend::start("b").await);
    a.delay_ms.store(3000, Ordering::SeqCst);
    b.delay_ms.store(3000, Ordering::SeqCst);
    let extra = "request_timeout = \"200ms\"\n";
    let gw = Gw::start(&simple(&[&a, &b], extra)).await;
    let t = Instant::now();
    let (st, _, body) = get(&client(), &gw.url("/slow")).await;
    assert_eq!(st, 504, "{body}");
    assert!(
        t.elapsed() < Duration::from_millis(1500),
        "{:?}",
        t.elapsed()
    );
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(a.count() + b.count(), 1);
}

#[tokio::test]
async fn dead_upstream_is_502() {
    let dead = dead_addr().await;
    let gw = Gw::start(&config(ALL, &[dead], "")).await;
    let c = client();
    let t = Instant::now();
    let (st, _, body) = get(&c, &gw.url("/")).await;
    assert_eq!(st, 502, "{body}");
    let (st, body) = request(&c, "POST", &gw.url("/"), b"x").await;
    assert_eq!(st, 502, "{body}");
    assert!(t.elapsed() < Duration::from_secs(2));
}

/// A route `/limited` with a 1 KiB body limit and a catch-all one.
fn limited(b: &Backend) -> String {
    let routes = "[[routes]]\nname = \"limited\"\npath_prefix = \"/limited\"\ncluster = \"c\"\n\
max_body_bytes = 1024\n";
    config(routes, &[b.addr], "")
}

#[tokio::test]
async fn body_over_limit_with_content_length_is_413() {
    let b = Backend::start("b").await;
    let gw = Gw::start(&limited(&b)).await;
    let mut req = b"POST /limited HTTP/1.1\r\nHost: x\r\nContent-Length: 1025\r\n\r\n".to_vec();
    req.extend_from_slice(&[b'a'; 1025]);
    let out = raw_lenient(gw.addr, &req).await;
    assert_eq!(statuses(&out), [413], "{out}");
    // Refused on the declared length alone, before any body byte is read.
    let out = raw(
        gw.addr,
        b"POST /limited HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n",
    )
    .await;
    assert_eq!(statuses(&out), [413], "{out}");
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(b.count(), 0);
}

#[tokio::test]
async fn body_over_limit_chunked_is_413() {
    let b = Backend::start("b").await;
    let gw = Gw::start(&limited(&b)).await;
    let req = chunked_post("/limited", 3, 0x200, b'a', b"");
    let out = raw_lenient(gw.addr, &req).await;
    assert_eq!(statuses(&out), [413], "{out}");
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(b.count(), 0);
}

#[tokio::test]
async fn body_at_limit_is_forwarded_whole() {
    let b = Backend::start("b").await;
    let gw = Gw::start(&limited(&b)).await;
    let body: Vec<u8> = (0..1024u32).map(|i| b'a' + (i % 26) as u8).collect();
    let (st, _) = request(&client(), "POST", &gw.url("/limited"), &body).await;
    assert_eq!(st, 200);
    // The same bytes, chunked in uneven pieces.
    let mut req = b"POST /limited/chunked HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n".to_vec();
    for piece in body.chunks(300) {
        req.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
        req.extend_from_slice(piece);
        req.extend_from_slice(b"\r\n");
    }
    req.extend_from_slice(b"0\r\n\r\n");
    assert_eq!(statuses(&raw(gw.addr, &req).await), [200]);
    let seen = b.requests();
    assert_eq!(seen.len(), 2);
    for s in &seen {
        assert_eq!(s.body.len(), 1024);
        assert_eq!(&s.body[..], &body[..]);
        assert_eq!(s.headers["content-length"], "1024");
    }
}

#[tokio::test]
async fn default_body_limit_is_one_mebibyte() {
    let b = Backend::start("b").await;
    let gw = Gw::start(&simple(&[&b], "")).await;
    let c = client();
    let (st, _) = request(&c, "POST", &gw.url("/"), &vec![b'x'; 1 << 20]).await;
    assert_eq!(st, 200);
    let head = format!(
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n",
        (1 << 20) + 1
    );
    let out = raw_lenient(gw.addr, head.as_bytes()).await;
    assert_eq!(statuses(&out), [413], "{out}");
    // Chunked, so that the gateway has to count.
    let req = chunked_post("/", 16, 0x10000, b'x', b"1\r\nx\r\n");
    let out = raw_lenient(gw.addr, &req).await;
    assert_eq!(statuses(&out), [413], "{out}");
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(b.count(), 1);
    assert_eq!(b.requests()[0].body.len(), 1 << 20);
}

#[tokio::test]
async fn upstream_connections_are_pooled() {
    let b = Backend::start("b").await;
    let gw = Gw::start(&simple(&[&b], "")).await;
    let c = client();
    for i in 0..40 {
        let (st, _) = request(&c, "POST", &gw.url(&format!("/{i}")), b"body").await;
        assert_eq!(st, 200);
    }
    // Every client connection new: the upstream side is still reused.
    for _ in 0..20 {
        let out = raw(
            gw.addr,
            b"GET /fresh HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        )
        .await;
        assert_eq!(statuses(&out), [200]);
    }
    assert_eq!(b.count(), 60);
    let conns = b.connections.load(Ordering::SeqCst);
    assert!(conns <= 2, "{conns} upstream connections for 60 requests");
}

#[tokio::test]
async fn stream_body_route_forwards_large_body() {
    let b = Backend::start("b").await;
    let routes = "[[routes]]\nname = \"buffered\"\npath_prefix = \"/buffered\"\ncluster = \"c\"\n\
max_body_bytes = 65536\n\
[[routes]]\nname = \"stream\"\npath_prefix = \"/stream\"\ncluster = \"c\"\nstream_body = true\n\
max_body_bytes = 8388608\n";
    let gw = Gw::start(&config(routes, &[b.addr], "")).await;
    let c = client();
    let body: Vec<u8> = (0..3 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
    let head = format!(
        "POST /buffered HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    let out = raw_lenient(gw.addr, head.as_bytes()).await;
    assert_eq!(statuses(&out), [413], "{out}");
    assert_eq!(b.count(), 0);
    let (st, reply) = request(&c, "POST", &gw.url("/stream"), &body).await;
    assert_eq!((st, reply.as_str()), (200, "b"));
    let seen = b.requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].body.len(), body.len());
    assert!(seen[0].body[..] == body[..]);
    // Chunked from the client, streamed on as it comes.
    let mut s = tokio::net::TcpStream::connect(gw.addr).await.unwrap();
    s.write_all(b"POST /stream/chunked HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    for piece in body.chunks(100_000) {
        s.write_all(format!("{:x}\r\n", piece.len()).as_bytes())
            .await
            .unwrap();
        s.write_all(piece).await.unwrap();
        s.write_all(b"\r\n").await.unwrap();
    }
    s.write_all(b"0\r\n\r\n").await.unwrap();
    let mut out = Vec::new();
    let _ = tokio::time::timeout(
        Duration::from_secs(5),
        tokio::io::AsyncReadExt::read_to_end(&mut s, &mut out),
    )
    .await;
    assert_eq!(statuses(&String::from_utf8_lossy(&out)), [200]);
    let seen = b.requests();
    assert_eq!(seen.len(), 2);
    assert!(seen[1].body[..] == body[..]);
}

#[tokio::test]
async fn stream_body_route_still_enforces_its_limit() {
    let b = Backend::start("b").await;
    let routes =
        "[[routes]]\nname = \"stream\"\npath_prefix = \"/\"\ncluster = \"c\"\nstream_body = true\n\
max_body_bytes = 65536\n";
    let gw = Gw::start(&config(routes, &[b.addr], "")).await;
    // Declared too large: refused before the upstream is contacted.
    let out = raw(
        gw.addr,
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n",
    )
    .await;
    assert_eq!(statuses(&out), [413], "{out}");
    // Chunked: cut off once over the limit; the upstream never gets a whole request.
    let req = chunked_post("/", 10, 0x2800, b'a', b"");
    let out = raw_lenient(gw.addr, &req).await;
    assert_eq!(statuses(&out), [413], "{out}");
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(b.count(), 0);
}

#[tokio::test]
async fn aborted_streaming_upload_does_not_eject_endpoint() {
    // A client that gives up mid-upload is not the upstream's failure.
    let b = Backend::start("b").await;
    let routes =
        "[[routes]]\nname = \"stream\"\npath_prefix = \"/\"\ncluster = \"c\"\nstream_body = true\n";
    let extra = "[clusters.passive]\nconsecutive_failures = 1\nejection = \"30s\"\n";
    let gw = Gw::start(&config(routes, &[b.addr], extra)).await;
    for _ in 0..2 {
        let mut s = tokio::net::TcpStream::connect(gw.addr).await.unwrap();
        s.write_all(b"POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\npartial")
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        drop(s);
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let (st, _, body) = get(&client(), &gw.url("/after")).await;
    assert_eq!((st, body.as_str()), (200, "b"));
}

#[tokio::test]
async fn retries_do_not_skew_round_robin() {
    // One endpoint failing: it still gets only its turn of first attempts.
    let (a, b, c) = (
        Backend::start("a").await,
        Backend::start("b").await,
        Backend::start("c").await,
    );
    a.status.store(503, Ordering::SeqCst);
    let extra = "[clusters.passive]\nconsecutive_failures = 0\n";
    let gw = Gw::start(&simple(&[&a, &b, &c], extra)).await;
    let cl = client();
    for _ in 0..30 {
        assert_eq!(get(&cl, &gw.url("/")).await.0, 200);
    }
    assert_eq!(a.count(), 10);
    assert_eq!(b.count() + c.count(), 30);
}

/// A backend that answers every request `200 ok` with keep-alive framing (no
/// `Connection: close`) and counts the connections that ended. With `close_after`, it
/// answers one request per connection and closes it that long after: what an endpoint with
/// a short keep-alive timeout does to a pooled connection.
async fn keepalive_backend(
    close_after: Option<Duration>,
    served: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    closed: std::sync::Arc<std::sync::atomic::AtomicUsize>,
) -> SocketAddr {
    use tokio::io::AsyncReadExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let (served, closed) = (served.clone(), closed.clone());
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                loop {
                    match s.read(&mut chunk).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                    if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        buf.drain(..end + 4);
                        let _ = s
                            .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                            .await;
                        served.fetch_add(1, Ordering::SeqCst);
                        if let Some(d) = close_after {
                            tokio::time::sleep(d).await;
                            break;
                        }
                    }
                }
                closed.fetch_add(1, Ordering::SeqCst);
            });
        }
    });
    addr
}

/// Regression for the gateway's own connection pool: a pooled connection the endpoint
/// closed while idle is never used for a request, so neither GET nor POST fails (a POST
/// is never retried, so it must not be sent on a dead connection in the first place).
#[tokio::test]
async fn idle_connections_closed_by_the_endpoint_cause_no_errors() {
    let served = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let addr = keepalive_backend(
        Some(Duration::from_millis(20)),
        served.clone(),
        Default::default(),
    )
    .await;
    let gw = Gw::start(&config(ALL, &[addr], "")).await;
    let c = client();
    for i in 0..8 {
        let method = if i % 2 == 0 { "GET" } else { "POST" };
        let (st, body) = request(&c, method, &gw.url("/x"), b"data").await;
        assert_eq!((st, body.as_str()), (200, "ok"), "request {i} ({method})");
        // Longer than the endpoint keeps the connection: the pooled one is dead by now.
        tokio::time::sleep(Duration::from_millis(60)).await;
    }
    assert_eq!(served.load(Ordering::SeqCst), 8);
}

/// Idle pooled connections are closed after the cluster's `idle_timeout`, even when no
/// further request comes along to notice them.
#[tokio::test]
async fn idle_pooled_connections_close_after_idle_timeout() {
    let closed = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let addr = keepalive_backend(None, Default::default(), closed.clone()).await;
    let gw = Gw::start(&config(ALL, &[addr], "idle_timeout = \"200ms\"")).await;
    let (st, _) = request(&client(), "GET", &gw.url("/x"), b"").await;
    assert_eq!(st, 200);
    assert_eq!(
        closed.load(Ordering::SeqCst),
        0,
        "closed before the idle timeout"
    );
    assert!(
        eventually(3, || closed.load(Ordering::SeqCst) == 1).await,
        "the idle connection was not closed after idle_timeout"
    );
}

/// Sends `head` and `first` body bytes, then nothing more; returns what came back before the
/// gateway closed (or 3 s passed) and how long that took.
#[allow(clippy::unwrap_used)] // a helper of tests: failing loudly is the point
async fn stall_after(addr: SocketAddr, head: &[u8], first: &[u8]) -> (String, Duration) {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(head).await.unwrap();
    s.write_all(first).await.unwrap();
    let started = Instant::now();
    let out = read_to_close(&mut s).await;
    (out, started.elapsed())
}

#[tokio::test]
async fn stalled_request_body_gets_408_and_nothing_reaches_the_upstream() {
    let b = Backend::start("b").await;
    let routes = "[server]\nbody_read_timeout = \"300ms\"\n\
[[routes]]\nname = \"buffered\"\npath_prefix = \"/\"\ncluster = \"c\"\n";
    let gw = Gw::start(&config(routes, &[b.addr], EVENTS)).await;
    let head = b"POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n";
    let (out, took) = stall_after(gw.addr, head, b"abc").await;
    assert_eq!(statuses(&out), [408], "{out}");
    assert!(out.contains("connection: close"), "{out}");
    assert!(took < Duration::from_secs(2), "took {took:?}");
    assert_eq!(b.count(), 0);
    // The event says why.
    assert!(
        eventually(3, || access_log(&gw).iter().any(|e| e["status"] == 408)).await,
        "no event for the 408"
    );
}

#[tokio::test]
async fn stalled_streamed_body_gets_408() {
    let b = Backend::start("b").await;
    let routes = "[server]\nbody_read_timeout = \"300ms\"\n\
[[routes]]\nname = \"stream\"\npath_prefix = \"/\"\ncluster = \"c\"\nstream_body = true\n";
    let gw = Gw::start(&config(routes, &[b.addr], "")).await;
    let head = b"POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n";
    let (out, took) = stall_after(gw.addr, head, b"abc").await;
    assert_eq!(statuses(&out), [408], "{out}");
    assert!(took < Duration::from_secs(2), "took {took:?}");
    // The upstream never got a whole request.
    assert!(b.requests().iter().all(|r| r.body.len() < 10));
}

#[tokio::test]
async fn slow_streamed_upload_is_not_cut_by_the_request_timeout() {
    // `request_timeout` waits for the answer once the body is sent; a long upload that keeps
    // coming is bounded by `body_read_timeout` between reads, not by it.
    let b = Backend::start("b").await;
    let routes = "[server]\nbody_read_timeout = \"2s\"\n\
[[routes]]\nname = \"stream\"\npath_prefix = \"/\"\ncluster = \"c\"\nstream_body = true\n";
    let gw = Gw::start(&config(routes, &[b.addr], "request_timeout = \"300ms\"")).await;
    let mut s = tokio::net::TcpStream::connect(gw.addr).await.unwrap();
    s.write_all(b"POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 30\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    for _ in 0..6 {
        s.write_all(b"abcde").await.unwrap();
        tokio::time::sleep(Duration::from_millis(120)).await;
    }
    let out = read_to_close(&mut s).await;
    assert_eq!(statuses(&out), [200], "{out}");
    let seen = b.requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].body[..], b"abcde".repeat(6)[..]);
}

#[tokio::test]
async fn single_endpoint_503_is_not_sent_back_to_it() {
    // With nowhere else to go, a 503 answer is passed on, not retried on the endpoint that
    // just gave it.
    let a = Backend::start("a").await;
    a.status.store(503, Ordering::SeqCst);
    let extra = "[clusters.passive]\nconsecutive_failures = 0\n";
    let gw = Gw::start(&simple(&[&a], extra)).await;
    let (st, _, _) = get(&client(), &gw.url("/r")).await;
    assert_eq!(st, 503);
    assert_eq!(a.count(), 1);
}

#[tokio::test]
async fn single_endpoint_connect_failure_is_retried() {
    // A request that never left is retried as it is, even with one endpoint. The endpoint
    // stays down here, so the retry shows only in the event: one `retry` decision.
    let dead = dead_addr().await;
    let gw = Gw::start(&format!("{}{EVENTS}", config(ALL, &[dead], ""))).await;
    let (st, _, _) = get(&client(), &gw.url("/r")).await;
    assert_eq!(st, 502);
    let log = access_log(&gw);
    let ev = log.last().expect("an event");
    let retries = ev["decisions"]
        .as_array()
        .map_or(0, |d| d.iter().filter(|x| x["action"] == "retry").count());
    assert_eq!(retries, 1, "{ev}");
}

#[tokio::test]
async fn silent_slow_and_idle_clients_are_cut_by_the_header_read_timeout() {
    // The client that never sends a byte (before the protocol is even known), the one that
    // sends half a head, and the idle keep-alive connection after a request: each is closed
    // once `header_read_timeout` has passed, and none reaches the upstream.
    let b = Backend::start("b").await;
    let routes = "[server]\nheader_read_timeout = \"300ms\"\n\
[[routes]]\nname = \"all\"\npath_prefix = \"/\"\ncluster = \"c\"\n";
    let gw = Gw::start(&config(routes, &[b.addr], "")).await;
    for (what, sent) in [
        ("silent", &b""[..]),
        ("half a head", &b"GET /x HTTP/1.1\r\nHost:"[..]),
        ("P, as if HTTP/2 were coming", &b"P"[..]),
    ] {
        let (out, took) = stall_after(gw.addr, sent, b"").await;
        assert!(
            took < Duration::from_secs(2),
            "{what}: took {took:?}: {out}"
        );
    }
    let (out, took) = stall_after(gw.addr, b"GET /y HTTP/1.1\r\nHost: x\r\n\r\n", b"").await;
    assert_eq!(statuses(&out), [200], "{out}");
    assert!(
        took < Duration::from_secs(2),
        "idle keep-alive: took {took:?}"
    );
    assert_eq!(b.count(), 1);
}

/// Sends `req` on a kept-alive connection and returns the answer's first read (small answers:
/// all of it), failing after 3 s.
#[allow(clippy::unwrap_used)] // a helper of tests: failing loudly is the point
async fn ask(s: &mut tokio::net::TcpStream, req: &[u8]) -> String {
    s.write_all(req).await.unwrap();
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(
        Duration::from_secs(3),
        tokio::io::AsyncReadExt::read(s, &mut buf),
    )
    .await
    .expect("an answer within 3 s")
    .unwrap();
    String::from_utf8_lossy(buf.get(..n).unwrap_or_default()).into_owned()
}

#[tokio::test]
async fn a_slow_upstream_is_not_cut_by_the_header_read_timeout() {
    // The header read timeout bounds a connection with nothing in flight; a request the
    // upstream takes longer than that to answer is not cut, and its connection is still
    // good for the next request.
    let b = Backend::start("b").await;
    b.delay_ms.store(700, Ordering::SeqCst);
    let routes = "[server]\nheader_read_timeout = \"250ms\"\n\
[[routes]]\nname = \"all\"\npath_prefix = \"/\"\ncluster = \"c\"\n";
    let gw = Gw::start(&config(routes, &[b.addr], "")).await;
    let mut s = tokio::net::TcpStream::connect(gw.addr).await.unwrap();
    for _ in 0..2 {
        let text = ask(&mut s, b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n").await;
        assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    }
    assert_eq!(b.count(), 2);
}

#[tokio::test]
async fn request_timeout_keeps_the_connection_and_holds_after_the_client_left() {
    // Two timeouts in a row on one kept-alive connection are each answered 504 in time, and
    // the connection stays usable; a request whose client left while it waited still ends
    // at its deadline (its event says 504).
    let b = Backend::start("b").await;
    b.delay_ms.store(3000, Ordering::SeqCst);
    let cfg = format!(
        "{}{EVENTS}",
        config(ALL, &[b.addr], "request_timeout = \"200ms\"")
    );
    let gw = Gw::start(&cfg).await;
    let mut s = tokio::net::TcpStream::connect(gw.addr).await.unwrap();
    for _ in 0..2 {
        let t = Instant::now();
        let text = ask(&mut s, b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n").await;
        assert!(text.starts_with("HTTP/1.1 504"), "{text}");
        assert!(
            t.elapsed() < Duration::from_millis(1500),
            "{:?}",
            t.elapsed()
        );
    }
    {
        let mut gone = tokio::net::TcpStream::connect(gw.addr).await.unwrap();
        gone.write_all(b"GET /slow HTTP/1.1\r\nHost: x\r\nX-Request-Id: gone-504\r\n\r\n")
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let t = Instant::now();
    assert!(
        eventually(3, || access_log(&gw)
            .iter()
            .any(|e| e["request_id"] == "gone-504" && e["status"] == 504))
        .await,
        "no 504 event for the request whose client left"
    );
    assert!(
        t.elapsed() < Duration::from_millis(1500),
        "{:?}",
        t.elapsed()
    );
}
