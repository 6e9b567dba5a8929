//! Test backends that record what reached them, a gateway started from TOML text, and
//! clients (hyper for well-formed requests, raw TCP for malformed ones).

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use sekisho_gateway::{Gateway, Options};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU16, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One request as a backend received it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path_and_query: String,
    pub headers: HashMap<String, String>,
    pub body: Bytes,
}

/// A backend that answers `200 <name>` and records every request (health probes apart).
pub struct Backend {
    pub name: String,
    pub addr: SocketAddr,
    pub seen: Arc<Mutex<Vec<Seen>>>,
    pub connections: Arc<AtomicUsize>,
    /// Status of every answer (200 by default).
    pub status: Arc<AtomicU16>,
    /// Delay before answering, in ms.
    pub delay_ms: Arc<AtomicU64>,
    /// What `/healthz` answers.
    pub healthy: Arc<AtomicBool>,
    pub probes: Arc<AtomicUsize>,
}

impl Backend {
    pub async fn start(name: &str) -> Backend {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let b = Backend {
            name: name.to_owned(),
            addr: listener.local_addr().unwrap(),
            seen: Arc::default(),
            connections: Arc::default(),
            status: Arc::new(AtomicU16::new(200)),
            delay_ms: Arc::default(),
            healthy: Arc::new(AtomicBool::new(true)),
            probes: Arc::default(),
        };
        let (seen, conns, status, delay, healthy, probes, name) = (
            b.seen.clone(),
            b.connections.clone(),
            b.status.clone(),
            b.delay_ms.clone(),
            b.healthy.clone(),
            b.probes.clone(),
            b.name.clone(),
        );
        tokio::spawn(async move {
            loop {
                let Ok((s, _)) = listener.accept().await else {
                    return;
                };
                conns.fetch_add(1, Ordering::SeqCst);
                let (seen, status, delay, healthy, probes, name) = (
                    seen.clone(),
                    status.clone(),
                    delay.clone(),
                    healthy.clone(),
                    probes.clone(),
                    name.clone(),
                );
                tokio::spawn(async move {
                    let svc = service_fn(move |req: http::Request<hyper::body::Incoming>| {
                        let (seen, status, delay, healthy, probes, name) = (
                            seen.clone(),
                            status.clone(),
                            delay.clone(),
                            healthy.clone(),
                            probes.clone(),
                            name.clone(),
                        );
                        async move {
                            if req.uri().path() == "/healthz" {
                                probes.fetch_add(1, Ordering::SeqCst);
                                let st = if healthy.load(Ordering::SeqCst) {
                                    200
                                } else {
                                    503
                                };
                                let mut r = http::Response::new(Full::new(Bytes::from("health")));
                                *r.status_mut() = http::StatusCode::from_u16(st).unwrap();
                                return Ok::<_, hyper::Error>(r);
                            }
                            let (parts, body) = req.into_parts();
                            let body = body.collect().await?.to_bytes();
                            seen.lock().unwrap().push(Seen {
                                method: parts.method.to_string(),
                                path_and_query: parts
                                    .uri
                                    .path_and_query()
                                    .map(|p| p.to_string())
                                    .unwrap_or_default(),
                                headers: parts
                                    .headers
                                    .iter()
                                    .map(|(k, v)| {
                                        (k.to_string(), v.to_str().unwrap_or("").to_owned())
                                    })
                                    .collect(),
                                body,
                            });
                            let d = delay.load(Ordering::SeqCst);
                            if d > 0 {
                                tokio::time::sleep(Duration::from_millis(d)).await;
                            }
                            let mut r = http::Response::new(Full::new(Bytes::from(name)));
                            *r.status_mut() =
                                http::StatusCode::from_u16(status.load(Ordering::SeqCst)).unwrap();
                            r.headers_mut()
                                .insert("server", "test-backend".parse().unwrap());
                            r.headers_mut()
                                .insert("x-internal", "secret".parse().unwrap());
                            Ok(r)
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(s), svc)
                        .await;
                });
            }
        });
        b
    }

    pub fn requests(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    pub fn count(&self) -> usize {
        self.seen.lock().unwrap().len()
    }
}

/// A gateway started from `toml` (listeners and admin on ephemeral ports are fine),
/// with its working directory for events.
pub struct Gw {
    pub gw: Gateway,
    pub addr: SocketAddr,
    pub dir: tempfile::TempDir,
    pub config: PathBuf,
}

impl Gw {
    pub async fn start(toml: &str) -> Gw {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("sekisho.toml");
        std::fs::write(&config, toml).unwrap();
        let cfg = sekisho_config::load(&config).unwrap_or_else(|e| panic!("{e}"));
        let gw = Gateway::start(cfg, Options::default()).await.unwrap();
        let addr = gw.listener_addrs()[0];
        Gw {
            gw,
            addr,
            dir,
            config,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }
}

/// The smallest config around one cluster: one listener, admin, one catch-all route.
pub fn simple(endpoints: &[&Backend], cluster_extra: &str) -> String {
    let eps: Vec<String> = endpoints
        .iter()
        .map(|b| format!("\"{}\"", b.addr))
        .collect();
    format!(
        r#"
[admin]
listen = "127.0.0.1:0"
[[listeners]]
listen = "127.0.0.1:0"
[[routes]]
name = "all"
path_prefix = "/"
cluster = "c"
[[clusters]]
name = "c"
endpoints = [{}]
{cluster_extra}
"#,
        eps.join(", ")
    )
}

pub type Client = hyper_util::client::legacy::Client<
    hyper_util::client::legacy::connect::HttpConnector,
    Full<Bytes>,
>;

pub fn client() -> Client {
    hyper_util::client::legacy::Client::builder(TokioExecutor::new()).build_http()
}

/// Sends one request; returns status, headers and body.
pub async fn send(c: &Client, req: http::Request<Full<Bytes>>) -> (u16, http::HeaderMap, String) {
    let resp = tokio::time::timeout(Duration::from_secs(10), c.request(req))
        .await
        .unwrap()
        .unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    (status, headers, String::from_utf8_lossy(&body).into_owned())
}

pub async fn get(c: &Client, url: &str) -> (u16, http::HeaderMap, String) {
    send(c, http::Request::get(url).body(Full::default()).unwrap()).await
}

/// Writes raw bytes and reads the answer until the gateway closes (or 3 s pass).
pub async fn raw(addr: SocketAddr, bytes: &[u8]) -> String {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(bytes).await.unwrap();
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(3), s.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out).into_owned()
}

/// Polls `f` every 20 ms until it holds, at most `secs` seconds.
pub async fn eventually(secs: u64, mut f: impl FnMut() -> bool) -> bool {
    for _ in 0..secs * 50 {
        if f() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    f()
}

/// Reads the admin `/metrics` text.
pub async fn metrics(gw: &Gw) -> String {
    get(&client(), &format!("http://{}/metrics", gw.gw.admin_addr()))
        .await
        .2
}

// The helpers below unwrap: they run only in tests.

/// An address nothing listens on: connecting is refused at once. The port stays bound
/// (without listening, without `SO_REUSEADDR`) until the test process ends, so that no
/// backend of a test running in parallel can be given it.
#[allow(clippy::unwrap_used)]
pub async fn dead_addr() -> SocketAddr {
    static RESERVED: Mutex<Vec<socket2::Socket>> = Mutex::new(Vec::new());
    let s = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    s.bind(&SocketAddr::from(([127, 0, 0, 1], 0)).into())
        .unwrap();
    let addr = s.local_addr().unwrap().as_socket().unwrap();
    RESERVED.lock().unwrap().push(s);
    addr
}

/// A backend that answers every request head with the same raw bytes (for headers a
/// hyper server would not send), keeping the connection open.
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
pub async fn raw_backend(response: &'static [u8]) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                loop {
                    let Ok(n) = s.read(&mut chunk).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    while let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        buf.drain(..end + 4);
                        if s.write_all(response).await.is_err() {
                            return;
                        }
                    }
                }
            });
        }
    });
    addr
}

/// Flushes the event sink and returns the access log `access.jsonl` in the gateway's
/// directory, one JSON value per line.
#[allow(clippy::unwrap_used)]
pub fn access_log(gw: &Gw) -> Vec<serde_json::Value> {
    if let Some(sink) = gw.gw.events() {
        sink.flush(Duration::from_secs(5)).unwrap();
    }
    let text = std::fs::read_to_string(gw.dir.path().join("access.jsonl")).unwrap_or_default();
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The `[events]` section writing `access.jsonl` and `events.db` next to the config.
pub const EVENTS: &str = "
[events]
access_log = \"access.jsonl\"
store = \"events.db\"
";

/// Value of the metric line that starts with `series` (name and labels), if any.
pub fn metric(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| {
            l.strip_prefix(series)
                .and_then(|rest| rest.strip_prefix(' '))
        })
        .and_then(|v| v.trim().parse().ok())
}
