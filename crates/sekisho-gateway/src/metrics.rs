//! Counters for `/metrics`, in the Prometheus text format (hand-written: a few families
//! do not justify a metrics framework on the request path).

use std::collections::HashMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

/// Upper bounds of the latency histogram buckets, in seconds.
const BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

#[derive(Default)]
struct RouteStats {
    by_status: HashMap<u16, u64>,
    buckets: Vec<u64>,
    sum: f64,
    count: u64,
}

/// Process-wide counters; the live config's gauges are added at render time.
#[derive(Default)]
pub struct Metrics {
    routes: Mutex<HashMap<String, RouteStats>>,
    pub connections_total: AtomicU64,
    pub connections_refused: AtomicU64,
    pub reloads_ok: AtomicU64,
    pub reloads_failed: AtomicU64,
    pub parse_errors: AtomicU64,
}

impl Metrics {
    /// Counts one finished request.
    pub fn request(&self, route: &str, status: u16, latency: Duration) {
        let mut routes = self.routes.lock().unwrap_or_else(PoisonError::into_inner);
        let s = match routes.get_mut(route) {
            Some(s) => s,
            None => routes.entry(route.to_owned()).or_default(),
        };
        *s.by_status.entry(status).or_insert(0) += 1;
        if s.buckets.is_empty() {
            s.buckets = vec![0; BUCKETS.len()];
        }
        let secs = latency.as_secs_f64();
        if let Some(i) = BUCKETS.iter().position(|&b| secs <= b) {
            if let Some(b) = s.buckets.get_mut(i) {
                *b += 1;
            }
        }
        s.sum += secs;
        s.count += 1;
    }

    /// Appends the request families.
    pub fn render_requests(&self, out: &mut String) {
        let routes = self.routes.lock().unwrap_or_else(PoisonError::into_inner);
        let mut names: Vec<&String> = routes.keys().collect();
        names.sort();
        out.push_str("# HELP sekisho_requests_total Requests answered, by route and status.\n");
        out.push_str("# TYPE sekisho_requests_total counter\n");
        for name in &names {
            if let Some(s) = routes.get(*name) {
                let mut st: Vec<_> = s.by_status.iter().collect();
                st.sort();
                for (status, n) in st {
                    let _ = writeln!(
                        out,
                        "sekisho_requests_total{{route=\"{}\",status=\"{status}\"}} {n}",
                        escape(name)
                    );
                }
            }
        }
        out.push_str("# HELP sekisho_request_duration_seconds Whole-request latency, by route.\n");
        out.push_str("# TYPE sekisho_request_duration_seconds histogram\n");
        for name in &names {
            let Some(s) = routes.get(*name) else { continue };
            let mut cum = 0;
            for (b, n) in BUCKETS.iter().zip(&s.buckets) {
                cum += n;
                let _ = writeln!(
                    out,
                    "sekisho_request_duration_seconds_bucket{{route=\"{}\",le=\"{b}\"}} {cum}",
                    escape(name)
                );
            }
            let r = escape(name);
            let _ = writeln!(
                out,
                "sekisho_request_duration_seconds_bucket{{route=\"{r}\",le=\"+Inf\"}} {}",
                s.count
            );
            let _ = writeln!(
                out,
                "sekisho_request_duration_seconds_sum{{route=\"{r}\"}} {}",
                s.sum
            );
            let _ = writeln!(
                out,
                "sekisho_request_duration_seconds_count{{route=\"{r}\"}} {}",
                s.count
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
