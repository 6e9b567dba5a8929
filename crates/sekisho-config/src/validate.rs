//! Raw file → [`Config`]: every check, collecting every error with its line.

use crate::error::line_of;
use crate::raw::*;
use crate::*;
use regex::Regex;
use std::net::SocketAddr;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Reads and validates the configuration file at `path`.
///
/// Example: `sekisho_config::load(Path::new("examples/sekisho.toml"))?`.
pub fn load(path: &Path) -> Result<Config, ConfigErrors> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        ConfigErrors(vec![ConfigError {
            file: path.to_owned(),
            line: 0,
            message: format!("cannot read the configuration: {e}"),
        }])
    })?;
    parse(&text, path)
}

/// Validates configuration `text` that was read from `path` (relative file names in it
/// are resolved against `path`'s directory).
pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigErrors> {
    let mut v = Validator {
        text,
        file: path.to_owned(),
        dir: path.parent().map(Path::to_owned).unwrap_or_default(),
        errors: Vec::new(),
    };
    let raw: RawConfig = match toml::from_str(text) {
        Ok(raw) => raw,
        Err(e) => {
            let line = e.span().map_or(0, |s| line_of(text, s.start));
            // toml's message repeats the source excerpt; keep its first line only.
            let msg = e
                .message()
                .lines()
                .next()
                .unwrap_or("invalid toml")
                .to_owned();
            v.errors.push(ConfigError {
                file: v.file.clone(),
                line,
                message: msg,
            });
            return Err(ConfigErrors(v.errors));
        }
    };
    let config = v.config(raw);
    if v.errors.is_empty() {
        Ok(config)
    } else {
        v.errors.sort_by_key(|e| e.line);
        Err(ConfigErrors(v.errors))
    }
}

struct Validator<'a> {
    text: &'a str,
    file: PathBuf,
    dir: PathBuf,
    errors: Vec<ConfigError>,
}

impl Validator<'_> {
    fn err(&mut self, span: Range<usize>, message: String) {
        self.errors.push(ConfigError {
            file: self.file.clone(),
            line: line_of(self.text, span.start),
            message,
        });
    }

    fn addr(&mut self, s: &S<String>, key: &str) -> Option<SocketAddr> {
        match s.get_ref().parse() {
            Ok(a) => Some(a),
            Err(_) => {
                let m = format!(
                    "`{key}`: invalid address `{}` (expected ip:port, e.g. `127.0.0.1:8080`)",
                    s.get_ref()
                );
                self.err(s.span(), m);
                None
            }
        }
    }

    fn duration(&mut self, s: Option<&S<String>>, key: &str, default: Duration) -> Duration {
        let Some(s) = s else { return default };
        match parse_duration(s.get_ref()) {
            Ok(d) => d,
            Err(m) => {
                self.err(s.span(), format!("`{key}`: {m}"));
                default
            }
        }
    }

    /// A duration that must not be zero (a zero read guard would refuse every client).
    fn positive_duration(
        &mut self,
        s: Option<&S<String>>,
        key: &str,
        default: Duration,
    ) -> Duration {
        let d = self.duration(s, key, default);
        if d.is_zero() {
            if let Some(s) = s {
                self.err(
                    s.span(),
                    format!("`{key}`: `{}` must be above zero", s.get_ref()),
                );
            }
            return default;
        }
        d
    }

    fn regex(&mut self, s: &S<String>, key: &str) -> Option<Regex> {
        match Regex::new(s.get_ref()) {
            Ok(r) => Some(r),
            Err(e) => {
                let first = e.to_string().lines().last().unwrap_or("").to_owned();
                self.err(
                    s.span(),
                    format!("`{key}`: invalid regex `{}`: {first}", s.get_ref()),
                );
                None
            }
        }
    }

    fn readable(&mut self, s: &S<String>, key: &str) -> PathBuf {
        let p = self.dir.join(s.get_ref());
        if let Err(e) = std::fs::File::open(&p) {
            self.err(
                s.span(),
                format!("`{key}`: cannot read `{}`: {e}", p.display()),
            );
        }
        p
    }

    fn header_name(&mut self, name: &str, span: Range<usize>, key: &str) -> String {
        let valid = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
        if !valid {
            self.err(span, format!("`{key}`: invalid header name `{name}`"));
        }
        name.to_ascii_lowercase()
    }

    fn header_value(&mut self, value: &str, span: Range<usize>, key: &str) {
        if value.bytes().any(|b| (b < 0x20 && b != b'\t') || b == 0x7f) {
            self.err(span, format!("`{key}`: invalid header value `{value}`"));
        }
    }

    fn config(&mut self, raw: RawConfig) -> Config {
        let admin = Admin {
            listen: raw
                .admin
                .and_then(|a| a.listen)
                .and_then(|l| self.addr(&l, "admin.listen"))
                .unwrap_or(SocketAddr::from(([127, 0, 0, 1], 9090))),
        };
        let server = self.server(raw.server);
        let mut listeners = Vec::new();
        for (i, l) in raw.listeners.iter().enumerate() {
            let span = l.span();
            let l = l.get_ref();
            let Some(listen) = self.addr(&l.listen, "listeners.listen") else {
                continue;
            };
            // Port 0 asks the kernel for a fresh port each time: never a clash.
            if listen.port() != 0 && listeners.iter().any(|o: &Listener| o.listen == listen) {
                self.err(
                    span.clone(),
                    format!("listener address `{listen}` used twice"),
                );
            }
            let tls = l.tls.as_ref().map(|t| Tls {
                cert: self.readable(&t.get_ref().cert, "listeners.tls.cert"),
                key: self.readable(&t.get_ref().key, "listeners.tls.key"),
            });
            listeners.push(Listener {
                name: l.name.clone().unwrap_or_else(|| format!("listener{i}")),
                listen,
                tls,
            });
        }
        if raw.listeners.is_empty() {
            self.err(
                0..0,
                "no `[[listeners]]`: nothing would accept requests".into(),
            );
        }
        let clusters: Vec<Cluster> = raw.clusters.iter().map(|c| self.cluster(c)).collect();
        for (i, c) in raw.clusters.iter().enumerate() {
            let name = c.get_ref().name.get_ref();
            if raw
                .clusters
                .get(..i)
                .is_some_and(|before| before.iter().any(|b| b.get_ref().name.get_ref() == name))
            {
                self.err(
                    c.get_ref().name.span(),
                    format!("cluster `{name}` defined twice"),
                );
            }
        }
        let routes = raw
            .routes
            .iter()
            .enumerate()
            .filter_map(|(i, r)| self.route(i, r, &clusters))
            .collect();
        let events = raw.events.map_or(
            Events {
                queue_size: 65_536,
                ..Events::default()
            },
            |e| {
                let queue_size = match e.queue_size {
                    Some(q) if *q.get_ref() == 0 => {
                        self.err(q.span(), "`events.queue_size` must be at least 1".into());
                        1
                    }
                    Some(q) => usize::try_from(*q.get_ref()).unwrap_or(usize::MAX),
                    None => 65_536,
                };
                Events {
                    access_log: e.access_log.map(|p| self.dir.join(p)),
                    store: e.store.map(|p| self.dir.join(p)),
                    queue_size,
                }
            },
        );
        Config {
            source: self.file.clone(),
            admin,
            server,
            listeners,
            routes,
            clusters,
            events,
        }
    }

    fn server(&mut self, raw: Option<RawServer>) -> Server {
        let mut s = Server {
            max_header_bytes: 16 * 1024,
            max_uri_bytes: 8 * 1024,
            header_read_timeout: Duration::from_secs(10),
            body_read_timeout: Duration::from_secs(30),
            drain_grace: Duration::from_secs(30),
            max_connections_per_ip: 0,
            trusted_proxies: Vec::new(),
            request_id_header: "x-request-id".into(),
        };
        let Some(raw) = raw else { return s };
        if let Some(n) = &raw.max_header_bytes {
            // hyper's read buffer cannot be smaller than 8 KiB.
            if !(8192..=1 << 20).contains(n.get_ref()) {
                self.err(
                    n.span(),
                    format!(
                        "`server.max_header_bytes`: `{}` is outside 8192..=1048576",
                        n.get_ref()
                    ),
                );
            } else {
                s.max_header_bytes = usize::try_from(*n.get_ref()).unwrap_or(16 * 1024);
            }
        }
        if let Some(n) = &raw.max_uri_bytes {
            if !(16..=65_534).contains(n.get_ref()) {
                self.err(
                    n.span(),
                    format!(
                        "`server.max_uri_bytes`: `{}` is outside 16..=65534",
                        n.get_ref()
                    ),
                );
            } else {
                s.max_uri_bytes = usize::try_from(*n.get_ref()).unwrap_or(8 * 1024);
            }
        }
        s.header_read_timeout = self.positive_duration(
            raw.header_read_timeout.as_ref(),
            "server.header_read_timeout",
            s.header_read_timeout,
        );
        s.body_read_timeout = self.positive_duration(
            raw.body_read_timeout.as_ref(),
            "server.body_read_timeout",
            s.body_read_timeout,
        );
        s.drain_grace = self.duration(
            raw.drain_grace.as_ref(),
            "server.drain_grace",
            s.drain_grace,
        );
        s.max_connections_per_ip = raw
            .max_connections_per_ip
            .map_or(0, |n| usize::try_from(n).unwrap_or(usize::MAX));
        for p in &raw.trusted_proxies {
            match p.get_ref().parse::<Cidr>() {
                Ok(c) => s.trusted_proxies.push(c),
                Err(m) => self.err(p.span(), format!("`server.trusted_proxies`: {m}")),
            }
        }
        if let Some(h) = &raw.request_id_header {
            s.request_id_header =
                self.header_name(h.get_ref(), h.span(), "server.request_id_header");
        }
        s
    }

    fn cluster(&mut self, raw: &S<RawCluster>) -> Cluster {
        let c = raw.get_ref();
        let name = c.name.get_ref().clone();
        let mut endpoints = Vec::new();
        for e in c.endpoints.get_ref() {
            if let Some(a) = self.addr(e, "clusters.endpoints") {
                endpoints.push(a);
            }
        }
        if c.endpoints.get_ref().is_empty() {
            self.err(
                c.endpoints.span(),
                format!("cluster `{name}` has no endpoints"),
            );
        }
        let lb = match c.lb.as_ref().map(|l| (l.get_ref().as_str(), l.span())) {
            None | Some(("round_robin", _)) => LbPolicy::RoundRobin,
            Some(("least_request", _)) => LbPolicy::LeastRequest,
            Some(("consistent_hash", _)) => LbPolicy::ConsistentHash(match &c.hash_header {
                Some(h) => {
                    HashKey::Header(self.header_name(h.get_ref(), h.span(), "clusters.hash_header"))
                }
                None => HashKey::ClientIp,
            }),
            Some((other, span)) => {
                self.err(
                    span,
                    format!(
                        "`clusters.lb`: unknown policy `{other}` (expected `round_robin`, `least_request` or `consistent_hash`)"
                    ),
                );
                LbPolicy::RoundRobin
            }
        };
        if let (Some(h), false) = (&c.hash_header, matches!(lb, LbPolicy::ConsistentHash(_))) {
            self.err(
                h.span(),
                format!(
                    "`clusters.hash_header` needs `lb = \"consistent_hash\"` in cluster `{name}`"
                ),
            );
        }
        let health_check = c.health_check.as_ref().map(|h| {
            let path = h.path.as_ref().map_or_else(
                || "/healthz".to_owned(),
                |p| {
                    if !p.get_ref().starts_with('/') {
                        self.err(
                            p.span(),
                            format!(
                                "`clusters.health_check.path`: `{}` must start with `/`",
                                p.get_ref()
                            ),
                        );
                    }
                    p.get_ref().clone()
                },
            );
            let mut threshold = |t: &Option<S<u64>>, key: &str, default: u32| match t {
                None => default,
                Some(t) if *t.get_ref() == 0 || *t.get_ref() > 1000 => {
                    self.err(
                        t.span(),
                        format!("`{key}`: `{}` is outside 1..=1000", t.get_ref()),
                    );
                    default
                }
                Some(t) => u32::try_from(*t.get_ref()).unwrap_or(default),
            };
            let healthy_threshold = threshold(
                &h.healthy_threshold,
                "clusters.health_check.healthy_threshold",
                2,
            );
            let unhealthy_threshold = threshold(
                &h.unhealthy_threshold,
                "clusters.health_check.unhealthy_threshold",
                3,
            );
            HealthCheck {
                path,
                interval: self.duration(
                    h.interval.as_ref(),
                    "clusters.health_check.interval",
                    Duration::from_secs(5),
                ),
                timeout: self.duration(
                    h.timeout.as_ref(),
                    "clusters.health_check.timeout",
                    Duration::from_secs(1),
                ),
                healthy_threshold,
                unhealthy_threshold,
            }
        });
        let passive = Passive {
            consecutive_failures: c
                .passive
                .as_ref()
                .and_then(|p| p.consecutive_failures)
                .map_or(5, |n| u32::try_from(n).unwrap_or(u32::MAX)),
            ejection: self.duration(
                c.passive.as_ref().and_then(|p| p.ejection.as_ref()),
                "clusters.passive.ejection",
                Duration::from_secs(30),
            ),
        };
        let budget_ratio = match c.retry.as_ref().and_then(|r| r.budget_ratio.as_ref()) {
            None => 0.2,
            Some(b) if !(0.0..=1.0).contains(b.get_ref()) => {
                self.err(
                    b.span(),
                    format!(
                        "`clusters.retry.budget_ratio`: `{}` is outside 0.0..=1.0",
                        b.get_ref()
                    ),
                );
                0.2
            }
            Some(b) => *b.get_ref(),
        };
        let retry = Retry {
            attempts: c
                .retry
                .as_ref()
                .and_then(|r| r.attempts)
                .map_or(1, |n| u32::try_from(n.min(10)).unwrap_or(10)),
            budget_ratio,
            min_per_second: c
                .retry
                .as_ref()
                .and_then(|r| r.min_per_second)
                .map_or(10, |n| u32::try_from(n).unwrap_or(u32::MAX)),
        };
        Cluster {
            name,
            endpoints,
            lb,
            connect_timeout: self.duration(
                c.connect_timeout.as_ref(),
                "clusters.connect_timeout",
                Duration::from_secs(2),
            ),
            request_timeout: self.duration(
                c.request_timeout.as_ref(),
                "clusters.request_timeout",
                Duration::from_secs(30),
            ),
            idle_timeout: self.duration(
                c.idle_timeout.as_ref(),
                "clusters.idle_timeout",
                Duration::from_secs(90),
            ),
            max_idle_per_endpoint: c
                .max_idle_per_endpoint
                .map_or(64, |n| usize::try_from(n).unwrap_or(usize::MAX)),
            health_check,
            passive,
            retry,
        }
    }

    fn route(&mut self, i: usize, raw: &S<RawRoute>, clusters: &[Cluster]) -> Option<Route> {
        let span = raw.span();
        let r = raw.get_ref();
        let name = r.name.clone().unwrap_or_else(|| format!("route{i}"));
        let paths = [&r.path_exact, &r.path_prefix, &r.path_regex]
            .iter()
            .filter(|p| p.is_some())
            .count();
        if paths > 1 {
            self.err(
                span.clone(),
                format!("route `{name}`: use one of `path_exact`, `path_prefix`, `path_regex`"),
            );
        }
        let path = if let Some(p) = &r.path_exact {
            self.path_literal(p, "routes.path_exact");
            PathMatch::Exact(p.get_ref().clone())
        } else if let Some(p) = &r.path_prefix {
            self.path_literal(p, "routes.path_prefix");
            PathMatch::Prefix(p.get_ref().clone())
        } else if let Some(p) = &r.path_regex {
            PathMatch::Regex(self.regex(p, "routes.path_regex")?)
        } else {
            PathMatch::Any
        };
        let mut methods = Vec::new();
        for m in &r.methods {
            let up = m.get_ref().to_ascii_uppercase();
            if up.is_empty() || !up.bytes().all(|b| b.is_ascii_alphabetic() || b == b'-') {
                self.err(
                    m.span(),
                    format!("`routes.methods`: invalid method `{}`", m.get_ref()),
                );
            }
            methods.push(up);
        }
        let mut headers = Vec::new();
        for (k, v) in &r.headers {
            let k = self.header_name(k, span.clone(), "routes.headers");
            headers.push((k, v.clone()));
        }
        let action = match (&r.cluster, &r.respond) {
            (Some(c), None) => match clusters.iter().position(|k| &k.name == c.get_ref()) {
                Some(idx) => Action::Cluster(idx),
                None => {
                    self.err(
                        c.span(),
                        format!("route `{name}`: unknown cluster `{}`", c.get_ref()),
                    );
                    return None;
                }
            },
            (None, Some(resp)) => {
                let rr = resp.get_ref();
                let status = *rr.status.get_ref();
                if !(100..=599).contains(&status) {
                    self.err(
                        rr.status.span(),
                        format!("route `{name}`: invalid status `{status}`"),
                    );
                }
                Action::Respond {
                    status: u16::try_from(status).unwrap_or(500),
                    body: rr.body.clone(),
                    content_type: rr
                        .content_type
                        .clone()
                        .unwrap_or_else(|| "text/plain; charset=utf-8".into()),
                }
            }
            _ => {
                self.err(
                    span,
                    format!("route `{name}`: needs exactly one of `cluster` or `respond`"),
                );
                return None;
            }
        };
        let rewrite = match (&r.rewrite_prefix, &r.rewrite_regex) {
            (Some(p), None) => {
                if !matches!(path, PathMatch::Prefix(_)) {
                    self.err(
                        p.span(),
                        format!("route `{name}`: `rewrite_prefix` needs `path_prefix`"),
                    );
                }
                Some(Rewrite::Prefix(p.get_ref().clone()))
            }
            (None, Some(rx)) => {
                let rx = rx.get_ref();
                self.regex(&rx.pattern, "routes.rewrite_regex.pattern")
                    .map(|re| Rewrite::Regex(re, rx.replace.clone()))
            }
            (Some(p), Some(_)) => {
                self.err(
                    p.span(),
                    format!("route `{name}`: use one of `rewrite_prefix` and `rewrite_regex`"),
                );
                None
            }
            (None, None) => None,
        };
        let request_headers = self.header_ops(
            &r.request_headers_set,
            &r.request_headers_remove,
            span.clone(),
            "routes.request_headers",
        );
        let response_headers = self.header_ops(
            &r.response_headers_set,
            &r.response_headers_remove,
            span.clone(),
            "routes.response_headers",
        );
        let host = r.host.as_ref().map(|h| h.get_ref().to_ascii_lowercase());
        Some(Route {
            name,
            host,
            path,
            methods,
            headers,
            action,
            rewrite,
            request_headers,
            response_headers,
            max_body_bytes: r.max_body_bytes.unwrap_or(1 << 20),
            stream_body: r.stream_body,
        })
    }

    fn path_literal(&mut self, p: &S<String>, key: &str) {
        if !p.get_ref().starts_with('/') {
            self.err(
                p.span(),
                format!("`{key}`: `{}` must start with `/`", p.get_ref()),
            );
        }
    }

    fn header_ops(
        &mut self,
        set: &std::collections::BTreeMap<String, String>,
        remove: &[String],
        span: Range<usize>,
        key: &str,
    ) -> HeaderOps {
        let mut ops = HeaderOps::default();
        for (k, v) in set {
            let k = self.header_name(k, span.clone(), key);
            self.header_value(v, span.clone(), key);
            ops.set.push((k, v.clone()));
        }
        for k in remove {
            let k = self.header_name(k, span.clone(), key);
            ops.remove.push(k);
        }
        ops
    }
}
