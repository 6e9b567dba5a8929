use serde::{Deserialize, Serialize};

/// Bumped whenever a field changes meaning or is removed; adding a field does not.
pub const SCHEMA_VERSION: u32 = 1;

/// One record per request, written at the end of the request (phase 5).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
// Missing fields read as their default: records written before a field was added stay readable.
#[serde(default)]
pub struct Event {
    /// Schema version of this record.
    pub v: u32,
    /// Request start, RFC 3339 UTC with milliseconds.
    pub time: String,
    /// The request's `X-Request-Id`, generated or propagated from a trusted client.
    pub request_id: String,
    /// The real client IP (after the trusted-proxy walk of `X-Forwarded-For`/`Forwarded`).
    pub client_ip: String,
    /// Request method as received (`GET`, `POST`, …).
    pub method: String,
    /// `Host` header (HTTP/1) or `:authority` (HTTP/2), without normalisation.
    pub host: String,
    /// Path as received, before any rewrite, still percent-encoded.
    pub path: String,
    /// Query string without the `?`, empty when absent.
    pub query: String,
    /// `HTTP/1.0`, `HTTP/1.1`, `HTTP/2.0`.
    pub protocol: String,
    /// Status sent to the client (also when a phase answered itself, e.g. 403).
    pub status: u16,
    /// Bytes received from the client: header section and body.
    pub bytes_in: u64,
    /// Bytes sent to the client: header section and body.
    pub bytes_out: u64,
    /// Whole request, first byte read to last byte written, in microseconds.
    pub latency_us: u64,
    /// Route name, empty when no route matched.
    pub route: String,
    /// `host:port` of the upstream endpoint that answered, empty when none did.
    pub upstream: String,
    /// TLS parameters of the client connection; `None` for plain HTTP.
    pub tls: Option<TlsInfo>,
    /// Every decision taken on the request, in pipeline order.
    pub decisions: Vec<Decision>,
}

impl Event {
    /// An empty event of the current schema version, timed now.
    pub fn new() -> Self {
        Self {
            v: SCHEMA_VERSION,
            time: crate::now_rfc3339(),
            ..Self::default()
        }
    }
}

/// The TLS parameters of a client connection.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
// Missing fields read as their default: records written before a field was added stay readable.
#[serde(default)]
pub struct TlsInfo {
    /// `TLSv1.2`, `TLSv1.3`.
    pub version: String,
    /// Cipher suite, IANA name (`TLS13_AES_128_GCM_SHA256`).
    pub cipher: String,
    /// Server name the client asked for, empty without SNI.
    pub sni: String,
    /// Negotiated ALPN protocol (`h2`, `http/1.1`), empty when none.
    pub alpn: String,
}

/// A decision a pipeline phase took, and why.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
// Missing fields read as their default: records written before a field was added stay readable.
#[serde(default)]
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
