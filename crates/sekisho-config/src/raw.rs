//! The file's shape as serde reads it; [`crate::validate`] turns it into [`crate::Config`].
//! Values that need checking keep their span so that errors can name the line.

use serde::Deserialize;
use std::collections::BTreeMap;
use toml::Spanned;

pub(crate) type S<T> = Spanned<T>;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawConfig {
    #[serde(default)]
    pub admin: Option<RawAdmin>,
    #[serde(default)]
    pub server: Option<RawServer>,
    #[serde(default)]
    pub listeners: Vec<S<RawListener>>,
    #[serde(default)]
    pub routes: Vec<S<RawRoute>>,
    #[serde(default)]
    pub clusters: Vec<S<RawCluster>>,
    #[serde(default)]
    pub events: Option<RawEvents>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAdmin {
    pub listen: Option<S<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawServer {
    pub max_header_bytes: Option<S<u64>>,
    pub max_uri_bytes: Option<S<u64>>,
    pub header_read_timeout: Option<S<String>>,
    pub body_read_timeout: Option<S<String>>,
    pub drain_grace: Option<S<String>>,
    pub max_connections_per_ip: Option<u64>,
    #[serde(default)]
    pub trusted_proxies: Vec<S<String>>,
    pub request_id_header: Option<S<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawListener {
    pub name: Option<String>,
    pub listen: S<String>,
    pub tls: Option<S<RawTls>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTls {
    pub cert: S<String>,
    pub key: S<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRoute {
    pub name: Option<String>,
    pub host: Option<S<String>>,
    pub path_exact: Option<S<String>>,
    pub path_prefix: Option<S<String>>,
    pub path_regex: Option<S<String>>,
    #[serde(default)]
    pub methods: Vec<S<String>>,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    pub cluster: Option<S<String>>,
    pub respond: Option<S<RawRespond>>,
    pub rewrite_prefix: Option<S<String>>,
    pub rewrite_regex: Option<S<RawRewriteRegex>>,
    #[serde(default)]
    pub request_headers_set: BTreeMap<String, String>,
    #[serde(default)]
    pub request_headers_remove: Vec<String>,
    #[serde(default)]
    pub response_headers_set: BTreeMap<String, String>,
    #[serde(default)]
    pub response_headers_remove: Vec<String>,
    pub max_body_bytes: Option<u64>,
    #[serde(default)]
    pub stream_body: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRespond {
    pub status: S<u64>,
    #[serde(default)]
    pub body: String,
    pub content_type: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRewriteRegex {
    pub pattern: S<String>,
    pub replace: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCluster {
    pub name: S<String>,
    pub endpoints: S<Vec<S<String>>>,
    pub lb: Option<S<String>>,
    pub hash_header: Option<S<String>>,
    pub connect_timeout: Option<S<String>>,
    pub request_timeout: Option<S<String>>,
    pub idle_timeout: Option<S<String>>,
    pub max_idle_per_endpoint: Option<u64>,
    pub health_check: Option<RawHealth>,
    pub passive: Option<RawPassive>,
    pub retry: Option<RawRetry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawHealth {
    pub path: Option<S<String>>,
    pub interval: Option<S<String>>,
    pub timeout: Option<S<String>>,
    pub healthy_threshold: Option<S<u64>>,
    pub unhealthy_threshold: Option<S<u64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPassive {
    pub consecutive_failures: Option<u64>,
    pub ejection: Option<S<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRetry {
    pub attempts: Option<u64>,
    pub budget_ratio: Option<S<f64>>,
    pub min_per_second: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawEvents {
    pub access_log: Option<String>,
    pub store: Option<String>,
    pub queue_size: Option<S<u64>>,
}
