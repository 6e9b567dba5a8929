//! Counters for `/metrics`, in the Prometheus text format (hand-written: a few families
//! do not justify a metrics framework on the request path).

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// Upper bounds of the latency histogram buckets, in seconds.
const BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Statuses counted one by one; anything outside (never sent by hyper) counts as 599.
const STATUSES: std::ops::RangeInclusive<u16> = 100..=599;

/// One route's request counters. Atomics, so that counting a request takes no lock: the
/// live configuration hands each route its `RouteStats` once, at load time.
pub struct RouteStats {
    by_status: Box<[AtomicU64]>,
    buckets: [AtomicU64; BUCKETS.len()],
    sum_us: AtomicU64,
    count: AtomicU64,
}

impl RouteStats {
    fn new() -> Self {
        Self {
            by_status: STATUSES.map(|_| AtomicU64::new(0)).collect(),
            buckets: std::array::from_fn(|_| AtomicU64::new(0)),
            sum_us: AtomicU64::new(0),
            count: AtomicU64::new(0),
        }
    }

    /// Counts one finished request.
    pub fn record(&self, status: u16, latency: Duration) {
        let i = usize::from(status.clamp(*STATUSES.start(), *STATUSES.end()) - STATUSES.start());
        if let Some(n) = self.by_status.get(i) {
            n.fetch_add(1, Ordering::Relaxed);
        }
        let secs = latency.as_secs_f64();
        if let Some(i) = BUCKETS.iter().position(|&b| secs <= b) {
            if let Some(b) = self.buckets.get(i) {
                b.fetch_add(1, Ordering::Relaxed);
            }
        }
        let us = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        self.sum_us.fetch_add(us, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
    }
}

/// Process-wide counters; the live config's gauges are added at render time.
#[derive(Default)]
pub struct Metrics {
    /// By route name, kept across reloads so that counters only grow. `""`: requests no
    /// route took (no match, refused before routing).
    routes: Mutex<BTreeMap<String, Arc<RouteStats>>>,
    pub connections_total: AtomicU64,
    pub connections_refused: AtomicU64,
    pub reloads_ok: AtomicU64,
    pub reloads_failed: AtomicU64,
    pub parse_errors: AtomicU64,
}

impl Metrics {
    /// The counters of the route with this name, made on first use.
    pub fn route(&self, name: &str) -> Arc<RouteStats> {
        let mut routes = self.routes.lock().unwrap_or_else(PoisonError::into_inner);
        match routes.get(name) {
            Some(s) => Arc::clone(s),
            None => Arc::clone(
                routes
                    .entry(name.to_owned())
                    .or_insert_with(|| Arc::new(RouteStats::new())),
            ),
        }
    }

    /// Appends the request families (routes that have counted nothing yet are left out).
    pub fn render_requests(&self, out: &mut String) {
        let routes: Vec<(String, Arc<RouteStats>)> = self
            .routes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .filter(|(_, s)| get(&s.count) > 0)
            .map(|(n, s)| (escape(n), Arc::clone(s)))
            .collect();
        out.push_str("# HELP sekisho_requests_total Requests answered, by route and status.\n");
        out.push_str("# TYPE sekisho_requests_total counter\n");
        for (r, s) in &routes {
            for (status, n) in STATUSES.zip(s.by_status.iter()) {
                let n = get(n);
                if n > 0 {
                    let _ = writeln!(
                        out,
                        "sekisho_requests_total{{route=\"{r}\",status=\"{status}\"}} {n}"
                    );
                }
            }
        }
        out.push_str("# HELP sekisho_request_duration_seconds Whole-request latency, by route.\n");
        out.push_str("# TYPE sekisho_request_duration_seconds histogram\n");
        for (r, s) in &routes {
            let mut cum = 0;
            for (b, n) in BUCKETS.iter().zip(&s.buckets) {
                cum += get(n);
                let _ = writeln!(
                    out,
                    "sekisho_request_duration_seconds_bucket{{route=\"{r}\",le=\"{b}\"}} {cum}"
                );
            }
            let count = get(&s.count);
            let _ = writeln!(
                out,
                "sekisho_request_duration_seconds_bucket{{route=\"{r}\",le=\"+Inf\"}} {count}"
            );
            let sum = get(&s.sum_us) as f64 / 1e6;
            let _ = writeln!(
                out,
                "sekisho_request_duration_seconds_sum{{route=\"{r}\"}} {sum}"
            );
            let _ = writeln!(
                out,
                "sekisho_request_duration_seconds_count{{route=\"{r}\"}} {count}"
            );
        }
    }
}

/// Escapes a label value.
pub fn escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Appends one gauge or counter family with a single unlabelled sample.
pub fn single(out: &mut String, name: &str, kind: &str, help: &str, value: impl std::fmt::Display) {
    let _ = writeln!(
        out,
        "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
    );
}

/// Reads a counter.
pub fn get(a: &AtomicU64) -> u64 {
    a.load(Ordering::Relaxed)
}
