//! Upstream clusters at run time: endpoints with their health, the load balancer, the
//! retry budget and one keep-alive connection pool per cluster.

mod budget;
mod health;
mod lb;
mod pool;

pub use budget::RetryBudget;
pub use health::spawn_health_checks;
pub use pool::{Failed, Pool, SendError};

use sekisho_config::{Cluster, LbPolicy};
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// One endpoint of a cluster and what is known about its health.
#[derive(Debug)]
pub struct Endpoint {
    pub addr: SocketAddr,
    /// `addr` as text, for events and decisions (formatted once, not per request).
    pub label: Arc<str>,
    /// Its keep-alive connections.
    pub pool: Arc<Pool>,
    /// Active health checks' verdict; true until checks say otherwise.
    pub healthy: AtomicBool,
    /// Requests in flight (least-request balancing).
    pub in_flight: AtomicUsize,
    /// Consecutive failed requests (passive ejection).
    pub failures: AtomicU32,
    /// Ejected until this many ms after the cluster's `epoch`; 0: not ejected.
    pub ejected_until_ms: AtomicU64,
}

/// A cluster's run-time state, built from its configuration on every (re)load.
pub struct ClusterState {
    pub config: Cluster,
    pub endpoints: Vec<Endpoint>,
    pub budget: RetryBudget,
    rr: AtomicUsize,
    rng: AtomicU64,
    ring: Vec<(u64, usize)>,
    epoch: Instant,
}

impl ClusterState {
    /// Builds the state; `previous` (same name, older generation) hands over endpoint
    /// health so that a reload does not send traffic to endpoints known to be down.
    pub fn new(config: Cluster, previous: Option<&ClusterState>) -> Self {
        let now = Instant::now();
        let endpoints = config
            .endpoints
            .iter()
            .map(|&addr| {
                let prev = previous.and_then(|p| p.endpoints.iter().find(|e| e.addr == addr));
                Endpoint {
                    addr,
                    label: Arc::from(addr.to_string()),
                    pool: Pool::start(
                        addr,
                        config.connect_timeout,
                        config.idle_timeout,
                        config.max_idle_per_endpoint,
                    ),
                    healthy: AtomicBool::new(
                        prev.is_none_or(|e| e.healthy.load(Ordering::Relaxed)),
                    ),
                    in_flight: AtomicUsize::new(0),
                    failures: AtomicU32::new(0),
                    ejected_until_ms: AtomicU64::new(0),
                }
            })
            .collect();
        let ring = lb::ring(&config.endpoints);
        let budget = RetryBudget::new(config.retry.budget_ratio, config.retry.min_per_second);
        Self {
            config,
            endpoints,
            budget,
            rr: AtomicUsize::new(0),
            rng: AtomicU64::new(u64::from(now.elapsed().subsec_nanos()) | 1),
            ring,
            epoch: now,
        }
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Whether the endpoint may take traffic: healthy and not ejected.
    pub fn available(&self, e: &Endpoint) -> bool {
        // The clock is read only for an endpoint that was ever ejected.
        e.healthy.load(Ordering::Relaxed)
            && match e.ejected_until_ms.load(Ordering::Relaxed) {
                0 => true,
                until => until <= self.now_ms(),
            }
    }

    /// Picks an endpoint for a request, avoiding `exclude` (a failed attempt) when
    /// another is available. `None`: no endpoint is available.
    pub fn pick(
        &self,
        client_ip: IpAddr,
        hash_value: Option<&[u8]>,
        exclude: Option<usize>,
    ) -> Option<usize> {
        let ok = |i: usize| {
            Some(i) != exclude && self.endpoints.get(i).is_some_and(|e| self.available(e))
        };
        let n = self.endpoints.len();
        let first = match &self.config.lb {
            LbPolicy::RoundRobin => {
                // A retry does not take a turn: otherwise the retries of a failing endpoint
                // shift the rotation onto it (with two endpoints it would get every first
                // attempt).
                let start = if exclude.is_some() {
                    self.rr.load(Ordering::Relaxed)
                } else {
                    self.rr.fetch_add(1, Ordering::Relaxed)
                };
                (0..n).map(|k| (start + k) % n).find(|&i| ok(i))
            }
            LbPolicy::LeastRequest => lb::p2c(self, &ok),
            LbPolicy::ConsistentHash(_) => {
                let key = match hash_value {
                    Some(v) => lb::hash(v),
                    None => lb::hash(client_ip.to_string().as_bytes()),
                };
                lb::ring_pick(&self.ring, key, &ok)
            }
        };
        // Nothing else available: the excluded endpoint is better than no answer.
        first.or_else(|| {
            exclude.filter(|&i| self.endpoints.get(i).is_some_and(|e| self.available(e)))
        })
    }

    fn random(&self) -> u64 {
        // xorshift; quality is irrelevant, it only spreads choices.
        let mut x = self.rng.load(Ordering::Relaxed);
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.rng.store(x, Ordering::Relaxed);
        x
    }

    /// Records the outcome of a request to endpoint `i` for passive ejection.
    pub fn record(&self, i: usize, success: bool) {
        let Some(e) = self.endpoints.get(i) else {
            return;
        };
        if success {
            // Read first: most requests succeed, and a write would take the cache line from
            // every other worker thread.
            if e.failures.load(Ordering::Relaxed) != 0 {
                e.failures.store(0, Ordering::Relaxed);
            }
            return;
        }
        let limit = self.config.passive.consecutive_failures;
        let n = e.failures.fetch_add(1, Ordering::Relaxed) + 1;
        if limit > 0 && n >= limit {
            e.failures.store(0, Ordering::Relaxed);
            let until = self.now_ms()
                + u64::try_from(self.config.passive.ejection.as_millis()).unwrap_or(u64::MAX / 2);
            e.ejected_until_ms.store(until, Ordering::Relaxed);
            tracing::warn!(cluster = %self.config.name, endpoint = %e.addr, "endpoint ejected after {n} consecutive failures");
        }
    }
}
