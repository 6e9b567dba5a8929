use serde::{Deserialize, Serialize};

/// Bumped whenever a field changes meaning or is removed; adding a field does not.
pub const SCHEMA_VERSION: u32 = 1;

/// One record per request, written at the end of the request (phase 5).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Event {
    /// Schema version of this record.
    pub v: u32,
    /// Request start, RFC 3339 UTC with milliseconds.
    pub time: String,
    pub request_id: String,
    /// The real client IP (after the trusted-proxy walk of `X-Forwarded-For`/`Forwarded`).
    pub client_ip: String,
    pub method: String,
    pub host: String,
    pub path: String,
    pub query: String,
    /// `HTTP/1.1`, `HTTP/2`, …
    pub protocol: String,
    pub status: u16,
    pub bytes_in: u64,
    pub bytes_out: u64,
    /// Whole request, first byte read to last byte written, in microseconds.
    pub latency_us: u64,
    /// Route name, empty when no route matched.
    pub route: String,
    /// `host:port` of the upstream endpoint that answered, empty when none did.
    pub upstream: String,
    pub tls: Option<TlsInfo>,
    /// Every decision taken on the request, in pipeline order.
    pub decisions: Vec<Decision>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct TlsInfo {
    pub version: String,
    pub cipher: String,
    pub sni: String,
    pub alpn: String,
}

/// A decision a pipeline phase took, and why.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Decision {
    /// The phase that decided: `parse`, `route`, `identity`, `policy`, `limit`, `waf`, `upstream`, …
    pub phase: String,
    /// `allow`, `deny`, `monitor`, `error`, …
    pub action: String,
    /// Rule id, limit name, policy id, …
    pub rule: String,
    /// Human-readable reason.
    pub reason: String,
}
