//! The request's path through the gateway, in one function: [`handle`]. Read it top to
//! bottom; each step says why it sits where it does. The chart is in `docs/pipeline.md`.
//!
//! ```text
//! connection guard → strict HTTP checks → request id + client IP → route
//!   → request_headers phases (identity → access policy → rate limits → WAF 1)
//!   → read the whole body (413) → request_body phases (WAF 2)
//!   → fixed answer, or upstream (upstream_request phases, LB, retries, timeouts)
//!   → response_headers phases (WAF 3) → response_body phases (WAF 4, masking)
//!   → event (logging phases)
//! ```

use crate::body::{empty, full, BodyObserver, BodyReadTimeout, Observed, ReadTimeout, RespBody};
use crate::forwarded;
use crate::gateway::Shared;
use crate::listener::ConnInfo;
use crate::live::Live;
use crate::phase::{Flow, Phase, RequestCtx};
use crate::route;
use crate::upstream::{ClusterState, Failed, SendError};
use bytes::Bytes;
use http::header::{HeaderName, HeaderValue};
use http::{Method, Request, Response, StatusCode, Version};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use sekisho_config::{Action, HashKey, LbPolicy, Route};
use sekisho_events::Event;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

/// The body of every response the pipeline sends: the response's own body, watched by the
/// request's event (not boxed again: one allocation less per request).
pub(crate) type PipelineBody = Observed<EventObserver>;

/// Handles one request from head to event. Never fails: every problem becomes a response
/// (and a decision in the event).
///
/// A function returning an `async move` block, not an `async fn`: an `async fn` keeps a second
/// copy of each argument in its state (the request alone is ~260 bytes), and the state is
/// written whole for every request. The request is taken apart before the future is made.
#[allow(clippy::manual_async_fn)] // see above
pub(crate) fn handle(
    conn: Arc<ConnInfo>,
    req: Request<Incoming>,
) -> impl std::future::Future<Output = Response<PipelineBody>> + Send {
    let (mut parts, body) = req.into_parts();
    async move {
        // One generation of the configuration for the whole request, even across a reload.
        let shared = &conn.shared;
        let live = shared.live.load_full();
        let server = &live.config.server;

        // 1. Connection guard. Per-IP connection limits ran when the connection was accepted
        //    (listener.rs); slow senders are cut by the header read timeout there too.

        // 2. Request id and real client IP, first: every answer from here on, even a 400,
        //    carries the id, and every event names the client.
        let client_ip =
            forwarded::client_ip(conn.peer.ip(), &parts.headers, &server.trusted_proxies);
        let mut ctx = RequestCtx {
            request_id: forwarded::request_id(&parts.headers, &live.request_id_header),
            peer: conn.peer,
            client_ip,
            tls: conn.tls.is_some(),
            route: Arc::clone(&live.unrouted.name),
            upstream: Arc::clone(&live.unrouted.name),
            started: Instant::now(),
            decisions: Vec::new(),
        };
        // The event is made only when something reads it (the event sink or a phase's logging
        // step); the metrics need just the route, the status and the latency.
        let mut ev = (shared.sink.is_some() || !live.phases.is_empty())
            .then(|| Box::new(event_skeleton(&ctx, &conn, &parts)));
        let mut done = Done {
            shared,
            live: &live,
            conn: &conn,
            h1: parts.version < Version::HTTP_2,
            route: None,
        };

        // 3. Strict HTTP checks hyper does not make, before anything looks at the request:
        //    a smuggling attempt must not reach routing, phases or the upstream.
        if let Some((status, reason)) = strict_check(&conn, &parts, server.max_uri_bytes) {
            ctx.decide("parse", "deny", "", reason);
            return done.reply(ctx, ev, status, reason, true);
        }

        // 4. Route: everything after depends on which route (limits, cluster, phases' scope).
        let Some((route_index, route)) = route::find(&live.config.routes, &parts) else {
            ctx.decide("route", "deny", "", "no route matches");
            return done.reply(ctx, ev, StatusCode::NOT_FOUND, "no route", false);
        };
        if let Some(run) = live.routes.get(route_index) {
            ctx.route = Arc::clone(&run.name);
            done.route = Some(route_index);
        }

        // 5. Header phases, in list order: identity (who is calling) → access policy (may
        //    they) → rate limits (how often) → WAF phase 1. Cheapest refusals first, and all
        //    of them before the body is read, so a refused client cannot make us buffer.
        for phase in &live.phases {
            if let Flow::Respond(status, text) = phase.request_headers(&mut ctx, &mut parts) {
                return done.phase_reply(ctx, ev, status, text, true);
            }
        }

        // 6. Read the whole body (up to the route's limit) before a single byte goes
        //    upstream, so that the body phase judges all of it. Streaming routes skip this.
        let body = if route.stream_body {
            // A streamed body is judged by its declared length before the upstream is
            // contacted, and cut off (413) if it grows past the limit on the way.
            if declared_length(&parts).is_some_and(|n| n > route.max_body_bytes) {
                ctx.decide("body", "deny", "", TOO_LARGE);
                return done.reply(ctx, ev, StatusCode::PAYLOAD_TOO_LARGE, TOO_LARGE, true);
            }
            streamed(body, route.max_body_bytes, server.body_read_timeout)
        } else {
            match read_body(body, &parts, route.max_body_bytes, server.body_read_timeout).await {
                Ok(b) => Outgoing::Buffered(b),
                Err((status, reason)) => {
                    ctx.decide("body", "deny", "", reason);
                    return done.reply(ctx, ev, status, reason, true);
                }
            }
        };
        if let (Outgoing::Buffered(b), Some(ev)) = (&body, &mut ev) {
            ev.bytes_in += b.len() as u64;
        }

        // 7. Body phases (WAF phase 2): the last word before the upstream is contacted.
        if let Outgoing::Buffered(b) = &body {
            for phase in &live.phases {
                if let Flow::Respond(status, text) = phase.request_body(&mut ctx, &parts, b) {
                    return done.phase_reply(ctx, ev, status, text, false);
                }
            }
        }

        // 8. Fixed answers: after the phases, so that a fixed route is guarded like any other.
        let cluster = match &route.action {
            Action::Respond {
                status,
                body,
                content_type,
            } => {
                let resp = fixed_response(*status, body, content_type);
                return done.respond(ctx, ev, route, resp);
            }
            Action::Cluster(i) => match live.clusters.get(*i) {
                Some(c) => c,
                None => {
                    return done.reply(
                        ctx,
                        ev,
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "no cluster",
                        false,
                    )
                }
            },
        };

        // 9. The upstream request: the route's path rewrite and header operations, then
        //    hop-by-hop removal and the forwarding headers (after the route's own edits, so a
        //    route cannot forge them).
        prepare_upstream(
            &mut parts,
            route,
            &ctx,
            &conn,
            &server.trusted_proxies,
            &live.request_id_header,
        );

        // 10. Upstream: load balancing, passive ejection, retries of idempotent requests
        //     within the budget, timeouts (504), connect failures (502).
        let resp = match forward(&live.phases, cluster, &mut ctx, &mut parts, body).await {
            Ok(resp) => resp,
            Err(Refusal::Phase(status, text)) => {
                return done.phase_reply(ctx, ev, status, text, false)
            }
            Err(Refusal::Body(status, reason)) => {
                ctx.decide("body", "deny", "", reason);
                return done.reply(ctx, ev, status, reason, true);
            }
            Err(Refusal::Upstream(status, reason)) => {
                ctx.decide("upstream", "error", "", &reason);
                return done.reply(ctx, ev, status, &reason, false);
            }
        };

        // 11–13. Response headers and body phases, then the event (in `respond`).
        done.respond(ctx, ev, route, resp)
    }
}

/// A streamed request body: the upstream's `request_timeout` starts once it is all sent (the
/// receiver hears it), so a long upload is bounded by the slow-body guard between reads
/// (`idle`), not by that timeout; beyond `limit` bytes it fails (413).
// Not inlined, like the other steps off the usual path (error answers, fixed answers):
// `handle` stays small, and so does the code a usual request runs through.
#[inline(never)]
fn streamed(body: Incoming, limit: u64, idle: std::time::Duration) -> Outgoing {
    let (done_tx, done) = tokio::sync::oneshot::channel();
    let body = ReadTimeout::new(body, idle).with_done(done_tx);
    Outgoing::Stream(
        Limited::new(body, usize::try_from(limit).unwrap_or(usize::MAX))
            .map_err(|e| -> crate::body::BoxError { Box::new(ClientBodyError(e)) })
            .boxed_unsync(),
        done,
    )
}

/// A fixed route's answer.
#[inline(never)]
fn fixed_response(status: u16, body: &str, content_type: &str) -> Response<RespBody> {
    let mut resp = Response::new(full(body.to_owned()));
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    if let Ok(v) = HeaderValue::from_str(content_type) {
        resp.headers_mut().insert(http::header::CONTENT_TYPE, v);
    }
    resp
}

/// The request body as it goes upstream.
enum Outgoing {
    Buffered(Bytes),
    /// Streamed as it arrives; the receiver hears when the client's body has ended.
    Stream(RespBody, tokio::sync::oneshot::Receiver<()>),
}

enum Refusal {
    Phase(StatusCode, Bytes),
    /// The client's streamed body failed (too large, malformed, cut off): not the
    /// upstream's fault.
    Body(StatusCode, &'static str),
    Upstream(StatusCode, String),
}

const TOO_LARGE: &str = "request body larger than the route allows";
const MALFORMED: &str = "malformed or interrupted request body";
const BODY_TIMEOUT: &str = "request body not received in time";

/// An error reading the client's body while it streams upstream. It marks the upstream
/// request's failure as the client's, so that it neither counts against the endpoint
/// (passive ejection) nor reads as a 502.
#[derive(Debug)]
struct ClientBodyError(crate::body::BoxError);

impl std::fmt::Display for ClientBodyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "client request body: {}", self.0)
    }
}

impl std::error::Error for ClientBodyError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.0)
    }
}

/// Whether an upstream request failed because of the client's body, and how to answer.
#[cold]
fn client_body_failure(
    e: &(dyn std::error::Error + 'static),
) -> Option<(StatusCode, &'static str)> {
    let mut chain = std::iter::successors(Some(e), |e| e.source());
    chain.find(|e| e.is::<ClientBodyError>())?;
    let mut chain = std::iter::successors(Some(e), |e| e.source());
    Some(body_failure(&mut chain))
}

/// How to answer a client whose body failed, from the errors of the failure's chain.
#[cold]
fn body_failure<'a>(
    chain: &mut dyn Iterator<Item = &'a (dyn std::error::Error + 'static)>,
) -> (StatusCode, &'static str) {
    for e in chain {
        if e.is::<http_body_util::LengthLimitError>() {
            return (StatusCode::PAYLOAD_TOO_LARGE, TOO_LARGE);
        }
        if e.is::<BodyReadTimeout>() {
            return (StatusCode::REQUEST_TIMEOUT, BODY_TIMEOUT);
        }
    }
    (StatusCode::BAD_REQUEST, MALFORMED)
}

/// The request's `Content-Length`, if it has a valid one.
fn declared_length(parts: &http::request::Parts) -> Option<u64> {
    parts
        .headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
}

/// The strict checks that need the parsed request: an oversized target (414) and the
/// scanner's verdict on this head (400).
fn strict_check(
    conn: &ConnInfo,
    parts: &http::request::Parts,
    max_uri: usize,
) -> Option<(StatusCode, &'static str)> {
    if parts.version < Version::HTTP_2 {
        if let Some(reason) = conn.verdicts.next() {
            return Some((StatusCode::BAD_REQUEST, reason));
        }
        let hosts = parts.headers.get_all(http::header::HOST).iter().count();
        if hosts > 1 {
            return Some((StatusCode::BAD_REQUEST, "more than one host header"));
        }
        if hosts == 0 && parts.version == Version::HTTP_11 {
            return Some((
                StatusCode::BAD_REQUEST,
                "http/1.1 request without host header",
            ));
        }
    }
    let target = parts.uri.path_and_query().map_or(0, |p| p.as_str().len());
    if target > max_uri {
        return Some((StatusCode::URI_TOO_LONG, "request target too long"));
    }
    None
}

/// Reads the whole body, refusing more than `limit` bytes with 413 (at once when the
/// declared `Content-Length` is already too large), a malformed body with 400, and a client
/// that leaves more than `idle` between two reads with 408.
async fn read_body(
    body: Incoming,
    parts: &http::request::Parts,
    limit: u64,
    idle: std::time::Duration,
) -> Result<Bytes, (StatusCode, &'static str)> {
    if declared_length(parts).is_some_and(|n| n > limit) {
        return Err((StatusCode::PAYLOAD_TOO_LARGE, TOO_LARGE));
    }
    // Most requests (GET, HEAD) have no body: nothing to collect.
    if http_body::Body::is_end_stream(&body) {
        return Ok(Bytes::new());
    }
    let body = ReadTimeout::new(body, idle);
    match Limited::new(body, usize::try_from(limit).unwrap_or(usize::MAX))
        .collect()
        .await
    {
        Ok(c) => Ok(c.to_bytes()),
        Err(e) => {
            let e: &(dyn std::error::Error + 'static) = &*e;
            let mut chain = std::iter::successors(Some(e), |e| e.source());
            Err(body_failure(&mut chain))
        }
    }
}

fn prepare_upstream(
    parts: &mut http::request::Parts,
    route: &Route,
    ctx: &RequestCtx,
    conn: &ConnInfo,
    trusted: &[sekisho_config::Cidr],
    request_id_header: &HeaderName,
) {
    // Origin form for the upstream; rebuilt only when the route rewrites the path.
    let pq = if route.rewrite.is_some() || parts.uri.scheme().is_some() {
        let path = route::rewrite_path(route, parts.uri.path());
        match parts.uri.query() {
            Some(q) => Some(format!("{path}?{q}")),
            None => Some(path),
        }
    } else {
        None
    };
    if !parts.headers.contains_key(http::header::HOST) {
        if let Some(v) = parts
            .uri
            .authority()
            .and_then(|a| HeaderValue::from_str(a.as_str()).ok())
        {
            parts.headers.insert(http::header::HOST, v);
        }
    }
    if let Some(Ok(uri)) = pq.map(|pq| pq.parse()) {
        parts.uri = uri;
    }
    parts.version = Version::HTTP_11;
    forwarded::strip_hop_by_hop(&mut parts.headers);
    apply_ops(&mut parts.headers, &route.request_headers);
    let peer = conn.peer.ip();
    let peer_trusted = trusted.iter().any(|c| c.contains(peer));
    forwarded::set_forwarding(&mut parts.headers, &conn.peer_text, peer_trusted, ctx.tls);
    parts
        .headers
        .insert(request_id_header.clone(), ctx.request_id.header().clone());
}

fn apply_ops(headers: &mut http::HeaderMap, ops: &sekisho_config::HeaderOps) {
    for name in &ops.remove {
        headers.remove(name.as_str());
    }
    for (name, value) in &ops.set {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            headers.insert(n, v);
        }
    }
}

fn idempotent(m: &Method) -> bool {
    matches!(
        *m,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE | Method::PUT | Method::DELETE
    )
}

/// Sends the request to one endpoint after another until one answers, the attempts or
/// the retry budget run out. Only idempotent requests with a buffered body are retried,
/// on connect failures and 502/503 answers (those only on another endpoint); a timeout is
/// not retried (it already cost the client the whole request timeout).
///
/// `parts` is borrowed, not moved in: the future's state (written whole for every request)
/// keeps no copy of it.
async fn forward(
    phases: &[Arc<dyn Phase>],
    cluster: &ClusterState,
    ctx: &mut RequestCtx,
    parts: &mut http::request::Parts,
    body: Outgoing,
) -> Result<Response<RespBody>, Refusal> {
    let retryable = idempotent(&parts.method) && matches!(body, Outgoing::Buffered(_));
    let attempts = 1 + if retryable {
        cluster.config.retry.attempts
    } else {
        0
    };
    let hash_value: Option<Vec<u8>> = match &cluster.config.lb {
        LbPolicy::ConsistentHash(HashKey::Header(h)) => {
            parts.headers.get(h.as_str()).map(|v| v.as_bytes().to_vec())
        }
        _ => None,
    };
    cluster.budget.request();
    let (buffered, mut stream, mut body_done) = match body {
        Outgoing::Buffered(b) => (Some(b), None, None),
        Outgoing::Stream(s, done) => (None, Some(s), Some(done)),
    };
    // A retry needs the request again. A request that never left comes back from the
    // pool and can go elsewhere as it is; one that was sent (and answered 502/503, or
    // failed midway) can be retried only from a copy made before sending. That copy is
    // kept only when there is another endpoint to retry on: retrying the endpoint that
    // just refused the request rarely helps, and the copy is a visible part of the cost
    // of every proxied request.
    let keep_copy = attempts > 1 && cluster.endpoints.len() > 1;
    // Whether `parts` was moved into a request (a retry then needs `unsent`).
    let mut taken = false;
    let mut unsent: Option<http::request::Parts> = None;
    let mut exclude = None;
    let mut last: Result<Response<RespBody>, Refusal> = Err(Refusal::Upstream(
        StatusCode::SERVICE_UNAVAILABLE,
        "no upstream endpoint available".into(),
    ));
    for attempt in 0..attempts {
        if attempt > 0 && unsent.is_none() && taken {
            // Sent and failed, with no copy to send again.
            break;
        }
        if attempt > 0 && !cluster.budget.try_retry() {
            ctx.decide("upstream", "error", "", "retry budget spent");
            break;
        }
        let Some(i) = cluster.pick(ctx.client_ip, hash_value.as_deref(), exclude) else {
            break;
        };
        let Some(ep) = cluster.endpoints.get(i) else {
            break;
        };
        let more = attempt + 1 < attempts;
        // In a block of its own: what it moves into the request must not keep space in
        // this future's state across the wait below.
        let req = {
            let next = match unsent.take() {
                Some(p) => Some(p),
                None if taken => None,
                None if keep_copy && more => Some(parts.clone()),
                None => {
                    taken = true;
                    Some(std::mem::replace(parts, Request::new(()).into_parts().0))
                }
            };
            let Some(mut p) = next else {
                break;
            };
            for phase in phases {
                if let Flow::Respond(status, text) = phase.upstream_request(ctx, &mut p) {
                    return Err(Refusal::Phase(status, text));
                }
            }
            let b = match (&buffered, stream.take()) {
                // An empty body is a zero-sized box: no allocation for the usual GET.
                (Some(b), _) if b.is_empty() => empty(),
                (Some(b), _) => full(b.clone()),
                (None, Some(s)) => s,
                (None, None) => break,
            };
            Request::from_parts(p, b)
        };
        // Only least-request balancing reads the count: the others spare the shared write.
        let counted = matches!(cluster.config.lb, LbPolicy::LeastRequest);
        if counted {
            ep.in_flight.fetch_add(1, Ordering::Relaxed);
        }
        let send = ep.pool.send(req);
        tokio::pin!(send);
        let r = answer_within(cluster.config.request_timeout, body_done.take(), send).await;
        if counted {
            ep.in_flight.fetch_sub(1, Ordering::Relaxed);
        }
        ctx.upstream = Arc::clone(&ep.label);
        match r {
            Ok(Ok(resp)) => {
                let s = resp.status();
                let failed = s.is_server_error();
                cluster.record(i, !failed);
                let retry = more
                    && !taken
                    && (s == StatusCode::BAD_GATEWAY || s == StatusCode::SERVICE_UNAVAILABLE);
                last = Ok(resp);
                if !retry {
                    return last;
                }
                ctx.decide("upstream", "retry", "", &answered(ep.addr, s));
            }
            Ok(Err(Failed {
                error: e,
                unsent: back,
            })) => {
                unsent = back.map(|r| r.into_parts().0);
                if let SendError::Request(e) = &e {
                    if let Some((status, reason)) = client_body_failure(e) {
                        return Err(Refusal::Body(status, reason));
                    }
                }
                cluster.record(i, false);
                let reason = failed(ep.addr, &e);
                if more && (unsent.is_some() || !taken) {
                    ctx.decide("upstream", "retry", "", &reason);
                }
                last = Err(Refusal::Upstream(StatusCode::BAD_GATEWAY, reason));
            }
            Err(_) => {
                cluster.record(i, false);
                return Err(Refusal::Upstream(
                    StatusCode::GATEWAY_TIMEOUT,
                    no_answer(ep.addr, cluster.config.request_timeout),
                ));
            }
        }
        exclude = Some(i);
    }
    last
}

// The reasons of upstream failures, for decisions and answers: out of line, since a usual
// request never needs them.
#[cold]
fn answered(addr: std::net::SocketAddr, status: StatusCode) -> String {
    format!("`{addr}` answered {status}")
}

#[cold]
fn failed(addr: std::net::SocketAddr, e: &SendError) -> String {
    let what = if e.is_connect() {
        "connect to"
    } else {
        "request to"
    };
    format!("{what} `{addr}` failed")
}

#[cold]
fn no_answer(addr: std::net::SocketAddr, limit: std::time::Duration) -> String {
    format!("`{addr}` did not answer in {limit:?}")
}

/// Waits for the upstream's answer (`send`) at most `limit` from when the request body has
/// been sent: at once for a buffered body, when `body_done` fires for a streamed one (or the
/// stream is dropped). `Err` is a timeout.
async fn answer_within<F: std::future::Future>(
    limit: std::time::Duration,
    body_done: Option<tokio::sync::oneshot::Receiver<()>>,
    mut send: std::pin::Pin<&mut F>,
) -> Result<F::Output, ()> {
    if let Some(done) = body_done {
        tokio::select! {
            r = &mut send => return Ok(r),
            _ = done => {}
        }
    }
    tokio::time::timeout(limit, send).await.map_err(|_| ())
}

/// A request's first fields, as the event records them before any rewrite.
#[inline(never)]
fn event_skeleton(ctx: &RequestCtx, conn: &ConnInfo, parts: &http::request::Parts) -> Event {
    let mut ev = Event::new();
    ev.request_id = ctx.request_id.as_str().to_owned();
    ev.client_ip = match conn.peer_text.to_str() {
        Ok(peer) if ctx.client_ip == conn.peer.ip() => peer.to_owned(),
        _ => ctx.client_ip.to_string(),
    };
    ev.method = parts.method.as_str().to_owned();
    ev.host = match parts.uri.authority() {
        Some(a) => a.as_str().to_owned(),
        None => parts
            .headers
            .get(http::header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or_default()
            .to_owned(),
    };
    ev.path = parts.uri.path().to_owned();
    ev.query = parts.uri.query().unwrap_or("").to_owned();
    ev.protocol = protocol_name(parts.version).to_owned();
    ev.tls = conn.tls.clone();
    // Request line and header section as sent (approximately, for HTTP/2).
    let head: usize = parts
        .headers
        .iter()
        .map(|(k, v)| k.as_str().len() + v.len() + 4)
        .sum();
    let target = parts.uri.path_and_query().map_or(1, |pq| pq.as_str().len());
    ev.bytes_in = (head + parts.method.as_str().len() + target + 12) as u64;
    ev
}

/// `HTTP/1.1`, `HTTP/2.0`, … as the event records it.
fn protocol_name(v: Version) -> &'static str {
    match v {
        Version::HTTP_09 => "HTTP/0.9",
        Version::HTTP_10 => "HTTP/1.0",
        Version::HTTP_11 => "HTTP/1.1",
        Version::HTTP_2 => "HTTP/2.0",
        Version::HTTP_3 => "HTTP/3.0",
        _ => "HTTP/?",
    }
}

/// The last steps every response takes, whoever produced it.
struct Done<'a> {
    shared: &'a Arc<Shared>,
    live: &'a Arc<Live>,
    conn: &'a Arc<ConnInfo>,
    h1: bool,
    /// Index of the matched route in `live.routes` (for its counters).
    route: Option<usize>,
}

/// The request's event, when something reads it (see [`handle`]).
type EventSlot = Option<Box<Event>>;

impl Done<'_> {
    /// A response the gateway makes itself (error or refusal).
    #[cold]
    #[inline(never)]
    fn reply(
        &self,
        ctx: RequestCtx,
        ev: EventSlot,
        status: StatusCode,
        text: &str,
        close: bool,
    ) -> Response<PipelineBody> {
        self.own(ctx, ev, status, Bytes::from(format!("{text}\n")), close)
    }

    /// A phase's answer.
    #[cold]
    #[inline(never)]
    fn phase_reply(
        &self,
        ctx: RequestCtx,
        ev: EventSlot,
        status: StatusCode,
        text: Bytes,
        close: bool,
    ) -> Response<PipelineBody> {
        self.own(ctx, ev, status, text, close)
    }

    #[cold]
    #[inline(never)]
    fn own(
        &self,
        ctx: RequestCtx,
        ev: EventSlot,
        status: StatusCode,
        text: Bytes,
        close: bool,
    ) -> Response<PipelineBody> {
        let mut resp = Response::new(full(text));
        *resp.status_mut() = status;
        resp.headers_mut().insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        // The request body may be unread: the connection cannot be reused safely.
        if close && self.h1 {
            resp.headers_mut()
                .insert(http::header::CONNECTION, HeaderValue::from_static("close"));
        }
        self.finish(ctx, ev, resp)
    }

    /// A routed response (upstream or fixed): the route's header edits and the response
    /// phases apply.
    fn respond(
        &self,
        mut ctx: RequestCtx,
        ev: EventSlot,
        route: &Route,
        resp: Response<RespBody>,
    ) -> Response<PipelineBody> {
        let (mut parts, body) = resp.into_parts();
        forwarded::strip_hop_by_hop(&mut parts.headers);
        apply_ops(&mut parts.headers, &route.response_headers);
        // 11. Response header phases (WAF phase 3): may still replace the response.
        for phase in &self.live.phases {
            if let Flow::Respond(status, text) = phase.response_headers(&mut ctx, &mut parts) {
                return self.phase_reply(ctx, ev, status, text, false);
            }
        }
        parts.version = Version::default();
        self.finish(ctx, ev, Response::from_parts(parts, body))
    }

    /// Stamps the request id, marks the connection for closing while draining, and wraps
    /// the body so that the response-body phases see it and the event is emitted at its end.
    fn finish(
        &self,
        ctx: RequestCtx,
        mut ev: EventSlot,
        resp: Response<RespBody>,
    ) -> Response<PipelineBody> {
        let (mut parts, body) = resp.into_parts();
        parts.headers.insert(
            self.live.request_id_header.clone(),
            ctx.request_id.header().clone(),
        );
        if self.h1 && self.shared.draining.load(Ordering::Relaxed) {
            parts
                .headers
                .insert(http::header::CONNECTION, HeaderValue::from_static("close"));
        }
        let status = parts.status.as_u16();
        let mut head = 0;
        if let Some(ev) = &mut ev {
            ev.status = status;
            ev.route = ctx.route.to_string();
            ev.upstream = ctx.upstream.to_string();
            ev.decisions = ctx.decisions;
            head = parts
                .headers
                .iter()
                .map(|(k, v)| k.as_str().len() + v.len() + 4)
                .sum::<usize>() as u64
                + 17;
        }
        let observer = EventObserver {
            live: Arc::clone(self.live),
            conn: Arc::clone(self.conn),
            event: ev,
            route: self.route,
            status,
            ended: false,
            head,
            started: ctx.started,
        };
        Response::from_parts(parts, Observed::new(body, observer))
    }
}

/// Runs the response-body phases on each chunk and, at the end, the logging phases, the
/// metrics and the event.
pub(crate) struct EventObserver {
    live: Arc<Live>,
    /// The connection: it is idle again once this request ends (its header read timeout).
    conn: Arc<ConnInfo>,
    event: EventSlot,
    route: Option<usize>,
    status: u16,
    ended: bool,
    /// Size of the response head, for the event's `bytes_out`.
    head: u64,
    started: Instant,
}

impl BodyObserver for EventObserver {
    fn chunk(&mut self, chunk: &mut Bytes) {
        // 12. Response body phases (WAF phase 4, masking).
        if let Some(ev) = &self.event {
            for phase in &self.live.phases {
                phase.response_body(&ev.request_id, chunk);
            }
        }
    }

    fn end(&mut self, bytes: u64, complete: bool) {
        if std::mem::replace(&mut self.ended, true) {
            return;
        }
        let now = Instant::now();
        self.conn.idle.done(now);
        let latency = now.saturating_duration_since(self.started);
        let run = self
            .route
            .and_then(|i| self.live.routes.get(i))
            .unwrap_or(&self.live.unrouted);
        run.stats.record(self.status, latency);
        if let Some(ev) = self.event.take() {
            self.emit(ev, latency, bytes, complete);
        }
    }
}

impl EventObserver {
    /// 13. The event: exactly one per request, whatever happened above.
    #[inline(never)]
    fn emit(&self, mut ev: Box<Event>, latency: std::time::Duration, bytes: u64, complete: bool) {
        ev.latency_us = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        ev.bytes_out = self.head + bytes;
        if !complete {
            ev.decisions.push(sekisho_events::Decision {
                phase: "response".into(),
                action: "error".into(),
                rule: String::new(),
                reason: "response not completed (client gone or upstream failed)".into(),
            });
        }
        for phase in &self.live.phases {
            phase.logging(&mut ev);
        }
        if let Some(sink) = &self.conn.shared.sink {
            sink.emit(*ev);
        }
    }
}
