//! HTTPS listeners (certificate made here with rcgen): HTTP/1.1 and HTTP/2 chosen by
//! ALPN, and HTTP/2 with prior knowledge (h2c) on a plain listener.
// Helpers outside `#[test]` functions unwrap too: clippy.toml's test allowances stop there.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use crate::common::*;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

/// A self-signed certificate for `localhost` and its key, as PEM files in a temp dir.
struct Cert {
    _dir: tempfile::TempDir,
    cert: PathBuf,
    key: PathBuf,
    der: rustls::pki_types::CertificateDer<'static>,
}

fn cert() -> Cert {
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cert = dir.path().join("server.pem");
    let key = dir.path().join("server.key");
    std::fs::write(&cert, ck.cert.pem()).unwrap();
    std::fs::write(&key, ck.key_pair.serialize_pem()).unwrap();
    Cert {
        _dir: dir,
        cert,
        key,
        der: ck.cert.der().clone(),
    }
}

/// One HTTPS listener (first) and one plain listener, routing to `b`, with events.
async fn tls_gw(c: &Cert, b: &Backend) -> Gw {
    let toml = format!(
        r#"
[admin]
listen = "127.0.0.1:0"
[[listeners]]
name = "https"
listen = "127.0.0.1:0"
[listeners.tls]
cert = "{}"
key = "{}"
[[listeners]]
name = "http"
listen = "127.0.0.1:0"
[[routes]]
name = "all"
path_prefix = "/"
cluster = "c"
[[clusters]]
name = "c"
endpoints = ["{}"]
{EVENTS}
"#,
        c.cert.display(),
        c.key.display(),
        b.addr
    );
    Gw::start(&toml).await
}

/// A TLS connection to `addr` trusting only `c`, offering `alpn`.
async fn connect(c: &Cert, addr: std::net::SocketAddr, alpn: &[&[u8]]) -> TlsStream<TcpStream> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(c.der.clone()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    cfg.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(cfg));
    let tcp = TcpStream::connect(addr).await.unwrap();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    tokio::time::timeout(Duration::from_secs(5), connector.connect(name, tcp))
        .await
        .unwrap()
        .unwrap()
}

async fn body_text(resp: http::Response<hyper::body::Incoming>) -> String {
    let b = resp.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8_lossy(&b).into_owned()
}

#[tokio::test]
async fn https_http1_by_alpn() {
    let (c, b) = (cert(), Backend::start("b").await);
    let gw = tls_gw(&c, &b).await;
    let tls = connect(&c, gw.addr, &[b"http/1.1"]).await;
    assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"http/1.1"[..]));
    let (mut send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
        .await
        .unwrap();
    tokio::spawn(conn);
    for i in 0..2 {
        let req = http::Request::get(format!("/over-tls/{i}?q=1"))
            .header("host", "localhost")
            .body(Full::new(Bytes::new()))
            .unwrap();
        let resp = tokio::time::timeout(Duration::from_secs(5), send.send_request(req))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(resp.version(), http::Version::HTTP_11);
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.headers()["x-request-id"].len(), 32);
        assert_eq!(body_text(resp).await, "b");
    }
    let seen = b.requests();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[1].path_and_query, "/over-tls/1?q=1");
    assert_eq!(seen[0].headers["x-forwarded-proto"], "https");
    gw.gw.shutdown(Duration::from_secs(2)).await;
    let events = access_log(&gw);
    assert_eq!(events.len(), 2);
    let tls = &events[0]["tls"];
    assert_eq!(tls["alpn"], "http/1.1");
    assert_eq!(tls["sni"], "localhost");
    assert_eq!(tls["version"], "TLSv1.3");
    assert!(
        tls["cipher"].as_str().unwrap().starts_with("TLS13_"),
        "{tls}"
    );
    assert_eq!(events[0]["protocol"], "HTTP/1.1");
}

#[tokio::test]
async fn https_http2_by_alpn() {
    let (c, b) = (cert(), Backend::start("b").await);
    let gw = tls_gw(&c, &b).await;
    let tls = connect(&c, gw.addr, &[b"h2", b"http/1.1"]).await;
    assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    let (send, conn) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tls))
            .await
            .unwrap();
    tokio::spawn(conn);
    // Several streams at once on the one connection.
    let mut tasks = Vec::new();
    for i in 0..4 {
        let mut send = send.clone();
        tasks.push(tokio::spawn(async move {
            let req = http::Request::get(format!("https://localhost/h2/{i}"))
                .body(Full::new(Bytes::new()))
                .unwrap();
            let resp = tokio::time::timeout(Duration::from_secs(5), send.send_request(req))
                .await
                .unwrap()
                .unwrap();
            assert_eq!(resp.version(), http::Version::HTTP_2);
            assert_eq!(resp.status(), 200);
            assert!(resp.headers().contains_key("x-request-id"));
            assert!(!resp.headers().contains_key("connection"));
            body_text(resp).await
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), "b");
    }
    let mut paths: Vec<String> = b.requests().into_iter().map(|s| s.path_and_query).collect();
    paths.sort();
    assert_eq!(paths, ["/h2/0", "/h2/1", "/h2/2", "/h2/3"]);
    for s in b.requests() {
        // Upstream is HTTP/1.1: `:authority` became `Host`.
        assert_eq!(s.headers["host"], "localhost");
        assert_eq!(s.headers["x-forwarded-proto"], "https");
    }
    gw.gw.shutdown(Duration::from_secs(2)).await;
    let events = access_log(&gw);
    assert_eq!(events.len(), 4);
    for e in &events {
        assert_eq!(e["protocol"], "HTTP/2.0");
        assert_eq!(e["tls"]["alpn"], "h2");
        assert_eq!(e["host"], "localhost");
        assert_eq!(e["status"], 200);
    }
}

#[tokio::test]
async fn h2c_prior_knowledge_on_plain_listener() {
    let b = Backend::start("b").await;
    let gw = Gw::start(&simple(&[&b], "")).await;
    let tcp = TcpStream::connect(gw.addr).await.unwrap();
    let (mut send, conn) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tcp))
            .await
            .unwrap();
    tokio::spawn(conn);
    let req = http::Request::post(format!("http://{}/h2c?x=1", gw.addr))
        .body(Full::new(Bytes::from_static(b"payload")))
        .unwrap();
    let resp = tokio::time::timeout(Duration::from_secs(5), send.send_request(req))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(resp.version(), http::Version::HTTP_2);
    assert_eq!(resp.status(), 200);
    assert_eq!(body_text(resp).await, "b");
    let seen = &b.requests()[0];
    assert_eq!(seen.method, "POST");
    assert_eq!(seen.path_and_query, "/h2c?x=1");
    assert_eq!(&seen.body[..], b"payload");
    assert_eq!(seen.headers["x-forwarded-proto"], "http");
}

#[tokio::test]
async fn plain_http_to_tls_listener_gets_no_answer() {
    let (c, b) = (cert(), Backend::start("b").await);
    let gw = tls_gw(&c, &b).await;
    let out = raw(gw.addr, b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n").await;
    assert!(!out.contains("HTTP/1.1"), "{out}");
    assert_eq!(b.count(), 0);
    // The listener still serves TLS afterwards, and the plain listener plain HTTP.
    let tls = connect(&c, gw.addr, &[b"http/1.1"]).await;
    assert!(tls.get_ref().1.protocol_version().is_some());
    let plain = gw.gw.listener_addrs()[1];
    assert_eq!(get(&client(), &format!("http://{plain}/")).await.0, 200);
}

#[tokio::test]
async fn unusable_certificate_fails_start_naming_listener() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bad.pem"), "not a certificate\n").unwrap();
    std::fs::write(dir.path().join("bad.key"), "not a key\n").unwrap();
    let toml = r#"
[admin]
listen = "127.0.0.1:0"
[[listeners]]
name = "secure"
listen = "127.0.0.1:0"
[listeners.tls]
cert = "bad.pem"
key = "bad.key"
"#;
    let path = dir.path().join("sekisho.toml");
    std::fs::write(&path, toml).unwrap();
    let cfg = sekisho_config::load(&path).unwrap();
    let err = sekisho_gateway::Gateway::start(cfg, sekisho_gateway::Options::default())
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.starts_with("listener `secure`: no certificate in `"),
        "{err}"
    );
    assert!(err.contains("bad.pem"), "{err}");
}
