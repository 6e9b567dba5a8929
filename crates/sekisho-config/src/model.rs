//! The validated configuration the gateway runs on. Every value here has been checked:
//! addresses parse, regexes compile, cluster references resolve, files are readable.

use crate::Cidr;
use regex::Regex;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// The whole configuration of one sekisho process.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it was read from (`<embedded>` for the built-in default).
    pub source: PathBuf,
    /// The admin listener (`/healthz`, `/readyz`, `/metrics`).
    pub admin: Admin,
    /// Connection and protocol limits shared by every listener.
    pub server: Server,
    /// Where clients connect.
    pub listeners: Vec<Listener>,
    /// Routes, tried in file order; the first match wins.
    pub routes: Vec<Route>,
    /// Upstream clusters, referenced by routes by index.
    pub clusters: Vec<Cluster>,
    /// Where request events go.
    pub events: Events,
}

/// `[admin]`.
#[derive(Debug, Clone)]
pub struct Admin {
    /// `listen`, default `127.0.0.1:9090`.
    pub listen: SocketAddr,
}

/// `[server]`.
#[derive(Debug, Clone)]
pub struct Server {
    /// Largest request header section (request line + headers); beyond: 431.
    pub max_header_bytes: usize,
    /// Longest request target; beyond: 414.
    pub max_uri_bytes: usize,
    /// Time a client has to send a whole header section (slow-request guard); it also
    /// bounds how long an idle HTTP/1 keep-alive connection waits for its next request.
    pub header_read_timeout: Duration,
    /// Time a client may leave between two reads of a request body (slow-body guard);
    /// beyond: 408.
    pub body_read_timeout: Duration,
    /// Grace period for in-flight requests on shutdown, reload of listeners and upgrade.
    pub drain_grace: Duration,
    /// Concurrent connections one client IP may hold; 0: unlimited.
    pub max_connections_per_ip: usize,
    /// Peers whose `X-Forwarded-For`/`Forwarded` entries are believed.
    pub trusted_proxies: Vec<Cidr>,
    /// Header carrying the request id (lowercase), default `x-request-id`.
    pub request_id_header: String,
}

/// `[[listeners]]`.
#[derive(Debug, Clone)]
pub struct Listener {
    pub name: String,
    pub listen: SocketAddr,
    /// HTTPS when present (ALPN `h2` and `http/1.1`).
    pub tls: Option<Tls>,
}

/// `[listeners.tls]`.
#[derive(Debug, Clone)]
pub struct Tls {
    /// PEM certificate chain.
    pub cert: PathBuf,
    /// PEM private key.
    pub key: PathBuf,
}

/// `[[routes]]`.
#[derive(Debug, Clone)]
pub struct Route {
    pub name: String,
    /// Host to match (port stripped, case-insensitive); `*.example.com` matches subdomains.
    pub host: Option<String>,
    pub path: PathMatch,
    /// Methods to match, uppercase; empty: any.
    pub methods: Vec<String>,
    /// Headers that must be present with exactly this value (names lowercase).
    pub headers: Vec<(String, String)>,
    pub action: Action,
    pub rewrite: Option<Rewrite>,
    pub request_headers: HeaderOps,
    pub response_headers: HeaderOps,
    /// Largest request body read before the upstream is contacted; beyond: 413.
    pub max_body_bytes: u64,
    /// Forward the body as it arrives instead of reading it whole first (no body phase).
    pub stream_body: bool,
}

/// How a route matches the path.
#[derive(Debug, Clone)]
pub enum PathMatch {
    Any,
    Exact(String),
    Prefix(String),
    Regex(Regex),
}

/// What a matched route does.
#[derive(Debug, Clone)]
pub enum Action {
    /// Proxy to `clusters[index]`.
    Cluster(usize),
    /// Answer directly.
    Respond {
        status: u16,
        body: String,
        content_type: String,
    },
}

/// How the path is rewritten before it goes upstream.
#[derive(Debug, Clone)]
pub enum Rewrite {
    /// Replace the route's matched prefix by this one.
    Prefix(String),
    /// Replace the first regex match (with `$1` groups).
    Regex(Regex, String),
}

/// Headers to add (set, replacing) and remove.
#[derive(Debug, Clone, Default)]
pub struct HeaderOps {
    pub set: Vec<(String, String)>,
    pub remove: Vec<String>,
}

/// `[[clusters]]`.
#[derive(Debug, Clone)]
pub struct Cluster {
    pub name: String,
    pub endpoints: Vec<SocketAddr>,
    pub lb: LbPolicy,
    pub connect_timeout: Duration,
    /// From the request sent to the response head received; beyond: 504.
    pub request_timeout: Duration,
    /// Idle pooled upstream connections are closed after this.
    pub idle_timeout: Duration,
    /// Idle pooled connections kept per endpoint.
    pub max_idle_per_endpoint: usize,
    pub health_check: Option<HealthCheck>,
    pub passive: Passive,
    pub retry: Retry,
}

/// Load-balancing policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LbPolicy {
    RoundRobin,
    /// Least outstanding requests of two endpoints picked at random.
    LeastRequest,
    ConsistentHash(HashKey),
}

/// What consistent hashing hashes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HashKey {
    ClientIp,
    /// A request header (lowercase name); requests without it hash the client IP.
    Header(String),
}

/// `[clusters.health_check]`: active HTTP probes.
#[derive(Debug, Clone)]
pub struct HealthCheck {
    pub path: String,
    pub interval: Duration,
    pub timeout: Duration,
    pub healthy_threshold: u32,
    pub unhealthy_threshold: u32,
}

/// `[clusters.passive]`: ejection after consecutive failures.
#[derive(Debug, Clone)]
pub struct Passive {
    /// Consecutive failures (connect errors, timeouts, 5xx) that eject; 0: off.
    pub consecutive_failures: u32,
    pub ejection: Duration,
}

/// `[clusters.retry]`: retries of idempotent requests.
#[derive(Debug, Clone)]
pub struct Retry {
    /// Extra attempts after the first; 0: no retries.
    pub attempts: u32,
    /// Retries may add at most this fraction of the cluster's requests...
    pub budget_ratio: f64,
    /// ...plus this many retries per second, so that low traffic can still retry.
    pub min_per_second: u32,
}

/// `[events]`.
#[derive(Debug, Clone, Default)]
pub struct Events {
    /// JSON-lines access log.
    pub access_log: Option<PathBuf>,
    /// SQLite event store.
    pub store: Option<PathBuf>,
    /// Events waiting for the writer; beyond: dropped and counted.
    pub queue_size: usize,
}
