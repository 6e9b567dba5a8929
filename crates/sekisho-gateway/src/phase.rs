//! The phase interface: what later capabilities (identity, access policy, rate limits,
//! WAF, masking) implement to take part in every request. Modelled on Pingora's
//! `ProxyHttp`: one method per phase, each with a default that does nothing, so a phase
//! implements only the steps it cares about. The order of the calls is [`crate::pipeline`].

use bytes::Bytes;
use http::{request, response, StatusCode};
use sekisho_events::{Decision, Event};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

/// A request's id: a header value, so that it goes upstream and back to the client without
/// a copy, and plain text (checked when it is made).
#[derive(Debug, Clone)]
pub struct RequestId(http::HeaderValue);

impl RequestId {
    /// Wraps a header value the caller has checked to be visible ASCII (a value that is
    /// not would read as the empty string).
    pub(crate) fn text(value: http::HeaderValue) -> Self {
        Self(value)
    }

    pub fn as_str(&self) -> &str {
        self.0.to_str().unwrap_or_default()
    }

    pub fn header(&self) -> &http::HeaderValue {
        &self.0
    }
}

impl std::fmt::Display for RequestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a phase wants to happen next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Flow {
    /// Go on with the next phase.
    Continue,
    /// Stop here and answer the client with this status and body; nothing (more) goes
    /// upstream. The phase should also push a [`Decision`] saying why.
    Respond(StatusCode, Bytes),
}

/// What the pipeline knows about one request, shared by every phase.
#[derive(Debug)]
pub struct RequestCtx {
    /// Generated, or propagated from the client's request-id header.
    pub request_id: RequestId,
    /// The TCP peer.
    pub peer: SocketAddr,
    /// The real client after the trusted-proxy walk of `X-Forwarded-For`/`Forwarded`.
    pub client_ip: IpAddr,
    /// Whether the client connection is TLS.
    pub tls: bool,
    /// Name of the matched route; empty until routing ran or when nothing matched.
    pub route: Arc<str>,
    /// `host:port` of the upstream endpoint that answered, once known; empty before.
    pub upstream: Arc<str>,
    /// When the request's head was handed to the pipeline.
    pub started: Instant,
    /// Decisions so far, in pipeline order; they end up in the request's event.
    pub decisions: Vec<Decision>,
}

impl RequestCtx {
    /// Records a decision for the event.
    ///
    /// Example: `ctx.decide("waf", "deny", "942100", "sql injection in `ARGS:id`")`.
    pub fn decide(&mut self, phase: &str, action: &str, rule: &str, reason: &str) {
        self.decisions.push(Decision {
            phase: phase.into(),
            action: action.into(),
            rule: rule.into(),
            reason: reason.into(),
        });
    }
}

/// One capability taking part in the request pipeline. Every method has a default that
/// continues, so an implementation overrides only its own steps. An implementation must
/// not block: the methods run on the request's task.
pub trait Phase: Send + Sync + 'static {
    /// A short name for logs and metrics (`waf`, `limits`, …).
    fn name(&self) -> &'static str;

    /// Runs once per request after routing, before the request headers are rewritten for
    /// the upstream: identity, access policy, rate limits, WAF phase 1.
    /// `Respond` answers the client at once; the body is never read.
    fn request_headers(&self, _ctx: &mut RequestCtx, _req: &mut request::Parts) -> Flow {
        Flow::Continue
    }

    /// Runs once the whole request body has been read (up to the route's limit) and
    /// before a single byte goes upstream: WAF phase 2. Not called on routes that stream
    /// their body. `Respond` answers the client; nothing goes upstream.
    fn request_body(&self, _ctx: &mut RequestCtx, _req: &request::Parts, _body: &Bytes) -> Flow {
        Flow::Continue
    }

    /// Runs just before each attempt is sent upstream (retries included), with the
    /// rewritten request. `Respond` answers the client instead of contacting the upstream.
    /// A request that never left (connect failure) is retried as it was, so this may see
    /// its own edits of the attempt before: edits should be idempotent (`insert`, not
    /// `append`).
    fn upstream_request(&self, _ctx: &mut RequestCtx, _req: &mut request::Parts) -> Flow {
        Flow::Continue
    }

    /// Runs on the response head (from the upstream or a fixed route), before it goes to
    /// the client: WAF phase 3. `Respond` replaces the response.
    fn response_headers(&self, _ctx: &mut RequestCtx, _resp: &mut response::Parts) -> Flow {
        Flow::Continue
    }

    /// Runs on each chunk of the response body as it streams to the client (WAF phase 4,
    /// masking); may rewrite the chunk. Cannot stop the response: its head is already sent.
    fn response_body(&self, _request_id: &str, _chunk: &mut Bytes) {}

    /// Runs once per request, last, on the event about to be emitted (phase 5).
    fn logging(&self, _event: &mut Event) {}
}
