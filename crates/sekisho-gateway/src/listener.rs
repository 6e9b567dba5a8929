//! Accepting client connections and serving HTTP/1.1 and HTTP/2 on them (plain or TLS),
//! each request going through [`crate::pipeline::handle`].

use crate::gateway::{ConnGuard, Shared};
use crate::strict::{HeadScanner, Scanned, Verdicts};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use sekisho_events::{Decision, Event, TlsInfo};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;

/// What the pipeline knows about the connection a request came on.
#[derive(Debug)]
pub struct ConnInfo {
    pub peer: SocketAddr,
    pub tls: Option<TlsInfo>,
    /// Strict-parse verdicts for this connection's HTTP/1 request heads.
    pub verdicts: Arc<Verdicts>,
}

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// Accepts until the gateway starts draining; then the listening socket is closed.
pub async fn accept_loop(shared: Arc<Shared>, listener: TcpListener, tls: Option<TlsAcceptor>) {
    let mut drain = shared.drain_tx.subscribe();
    loop {
        let accepted = tokio::select! {
            biased;
            () = draining(&mut drain) => return,
            r = listener.accept() => r,
        };
        let (stream, peer) = match accepted {
            Ok(x) => x,
            Err(e) => {
                // EMFILE and friends: back off instead of spinning.
                tracing::warn!("accept failed: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            }
        };
        shared
            .metrics
            .connections_total
            .fetch_add(1, Ordering::Relaxed);
        // Connection guard: the per-IP connection limit is checked before any byte is read.
        let Some(guard) = shared.admit(peer.ip()) else {
            shared
                .metrics
                .connections_refused
                .fetch_add(1, Ordering::Relaxed);
            continue;
        };
        let _ = stream.set_nodelay(true);
        tokio::spawn(serve(Arc::clone(&shared), stream, peer, tls.clone(), guard));
    }
}

async fn serve(
    shared: Arc<Shared>,
    stream: TcpStream,
    peer: SocketAddr,
    tls: Option<TlsAcceptor>,
    _guard: ConnGuard,
) {
    let live = shared.live.load_full();
    let server = &live.config.server;
    let started = Instant::now();
    let (io, tls_info): (Box<dyn Io>, Option<TlsInfo>) = match tls {
        None => (Box::new(stream), None),
        Some(acceptor) => {
            // The handshake is bounded like a header section: a slow client holds nothing long.
            match tokio::time::timeout(server.header_read_timeout, acceptor.accept(stream)).await {
                Ok(Ok(s)) => {
                    let (_, c) = s.get_ref();
                    let info = TlsInfo {
                        version: c
                            .protocol_version()
                            .and_then(|v| v.as_str())
                            .unwrap_or("")
                            .replace("TLSv1_", "TLSv1.")
                            .to_owned(),
                        cipher: c
                            .negotiated_cipher_suite()
                            .and_then(|s| s.suite().as_str())
                            .unwrap_or("")
                            .to_owned(),
                        sni: c.server_name().unwrap_or("").to_owned(),
                        alpn: c
                            .alpn_protocol()
                            .map(|a| String::from_utf8_lossy(a).into_owned())
                            .unwrap_or_default(),
                    };
                    (Box::new(s), Some(info))
                }
                _ => return,
            }
        }
    };
    let verdicts = Arc::new(Verdicts::default());
    let io = Scanned::new(
        io,
        HeadScanner::new(server.max_header_bytes, Arc::clone(&verdicts)),
    );
    let conn = Arc::new(ConnInfo {
        peer,
        tls: tls_info,
        verdicts,
    });
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(server.header_read_timeout)
        .max_buf_size(server.max_header_bytes)
        .keep_alive(true);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_header_list_size(u32::try_from(server.max_header_bytes).unwrap_or(u32::MAX));
    drop(live);
    let svc_shared = Arc::clone(&shared);
    let svc_conn = Arc::clone(&conn);
    let service = service_fn(move |req| {
        let shared = Arc::clone(&svc_shared);
        let conn = Arc::clone(&svc_conn);
        async move { Ok::<_, Infallible>(crate::pipeline::handle(shared, conn, req).await) }
    });
    let connection = builder.serve_connection(TokioIo::new(io), service);
    tokio::pin!(connection);
    let mut drain = shared.drain_tx.subscribe();
    let result = tokio::select! {
        r = connection.as_mut() => r,
        () = draining(&mut drain) => {
            // HTTP/1: finish the request in flight, then close; HTTP/2: GOAWAY.
            connection.as_mut().graceful_shutdown();
            connection.as_mut().await
        }
    };
    if let Err(e) = result {
        parse_error_event(&shared, &conn, &*e, started);
    }
}

/// hyper answers malformed request heads itself (400, 431, 414); the pipeline never sees
/// them, so their event is written here.
fn parse_error_event(
    shared: &Shared,
    conn: &ConnInfo,
    err: &(dyn std::error::Error + 'static),
    started: Instant,
) {
    let Some(h) = err.downcast_ref::<hyper::Error>() else {
        return;
    };
    if !h.is_parse() {
        return;
    }
    let text = h.to_string();
    let status = if h.is_parse_too_large() {
        431
    } else if text.contains("URI too long") {
        414
    } else {
        400
    };
    shared.metrics.parse_errors.fetch_add(1, Ordering::Relaxed);
    shared.metrics.request("", status, started.elapsed());
    let Some(sink) = &shared.sink else { return };
    let mut ev = Event::new();
    ev.request_id = crate::forwarded::new_request_id();
    ev.client_ip = conn.peer.ip().to_string();
    ev.protocol = "HTTP/1.1".into();
    ev.status = status;
    ev.latency_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
    ev.tls = conn.tls.clone();
    ev.decisions.push(Decision {
        phase: "parse".into(),
        action: "deny".into(),
        rule: String::new(),
        reason: text,
    });
    sink.emit(ev);
}

/// Resolves once the gateway drains (the watch guard must not live across an await).
pub(crate) async fn draining(rx: &mut tokio::sync::watch::Receiver<bool>) {
    let _ = rx.wait_for(|d| *d).await;
}
