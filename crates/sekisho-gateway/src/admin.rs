//! The admin listener: `/healthz` (the process runs), `/readyz` (it takes traffic: not
//! draining) and `/metrics` (Prometheus text). Loopback by default: it is not for clients.

use crate::body::{full, RespBody};
use crate::gateway::Shared;
use crate::metrics::{escape, get, single};
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::convert::Infallible;
use std::fmt::Write;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use tokio::net::TcpListener;

pub async fn serve(shared: Arc<Shared>, listener: TcpListener) {
    // The admin port stays open while draining (so /readyz can say 503) and closes
    // with the process.
    loop {
        let accepted = listener.accept().await;
        let Ok((stream, _)) = accepted else {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            continue;
        };
        let shared = Arc::clone(&shared);
        tokio::spawn(async move {
            let svc = service_fn(move |req: http::Request<hyper::body::Incoming>| {
                let resp = answer(&shared, req.uri().path());
                async move { Ok::<_, Infallible>(resp) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(std::time::Duration::from_secs(10))
                .serve_connection(TokioIo::new(stream), svc)
                .await;
        });
    }
}

fn answer(shared: &Shared, path: &str) -> http::Response<RespBody> {
    let (status, ctype, body) = match path {
        "/healthz" => (200, "text/plain", "ok\n".to_owned()),
        "/readyz" if shared.draining.load(Ordering::Relaxed) => {
            (503, "text/plain", "draining\n".to_owned())
        }
        "/readyz" => (200, "text/plain", "ready\n".to_owned()),
        "/metrics" => (200, "text/plain; version=0.0.4", metrics(shared)),
        _ => (404, "text/plain", "not found\n".to_owned()),
    };
    let mut resp = http::Response::new(full(body));
    *resp.status_mut() = http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::OK);
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static(ctype),
    );
    resp
}

fn metrics(shared: &Shared) -> String {
    let mut out = String::with_capacity(4096);
    shared.metrics.render_requests(&mut out);
    let live = shared.live.load();
    single(
        &mut out,
        "sekisho_config_generation",
        "gauge",
        "Generation of the live configuration.",
        live.generation,
    );
    out.push_str("# HELP sekisho_config_reloads_total Reload attempts, by result.\n# TYPE sekisho_config_reloads_total counter\n");
    let _ = writeln!(
        out,
        "sekisho_config_reloads_total{{result=\"ok\"}} {}",
        get(&shared.metrics.reloads_ok)
    );
    let _ = writeln!(
        out,
        "sekisho_config_reloads_total{{result=\"invalid\"}} {}",
        get(&shared.metrics.reloads_failed)
    );
    out.push_str("# HELP sekisho_upstream_endpoint_healthy 1 when the endpoint takes traffic (healthy and not ejected).\n# TYPE sekisho_upstream_endpoint_healthy gauge\n");
    for c in &live.clusters {
        for e in &c.endpoints {
            let _ = writeln!(
                out,
                "sekisho_upstream_endpoint_healthy{{cluster=\"{}\",endpoint=\"{}\"}} {}",
                escape(&c.config.name),
                e.addr,
                u8::from(c.available(e))
            );
        }
    }
    single(
        &mut out,
        "sekisho_connections_open",
        "gauge",
        "Open client connections.",
        shared.open_connections(),
    );
    single(
        &mut out,
        "sekisho_connections_total",
        "counter",
        "Accepted client connections.",
        get(&shared.metrics.connections_total),
    );
    single(
        &mut out,
        "sekisho_connections_refused_total",
        "counter",
        "Connections refused by the per-IP limit.",
        get(&shared.metrics.connections_refused),
    );
    single(
        &mut out,
        "sekisho_parse_errors_total",
        "counter",
        "Malformed request heads answered by the HTTP parser.",
        get(&shared.metrics.parse_errors),
    );
    let (dropped, written, failed, pending) = shared.sink.as_ref().map_or((0, 0, 0, 0), |s| {
        (s.dropped(), s.written(), s.failed(), s.pending())
    });
    single(
        &mut out,
        "sekisho_events_dropped_total",
        "counter",
        "Events dropped because the event queue was full.",
        dropped,
    );
    single(
        &mut out,
        "sekisho_events_written_total",
        "counter",
        "Events written.",
        written,
    );
    single(
        &mut out,
        "sekisho_events_failed_total",
        "counter",
        "Events lost to write errors.",
        failed,
    );
    single(
        &mut out,
        "sekisho_events_queued",
        "gauge",
        "Events waiting for the writer.",
        pending,
    );
    single(
        &mut out,
        "sekisho_draining",
        "gauge",
        "1 while shutting down.",
        u8::from(shared.draining.load(Ordering::Relaxed)),
    );
    out
}
