//! The live configuration: what a request needs, built from a validated [`Config`] and
//! swapped atomically on reload. A request loads it once and keeps that generation to its
//! end, so a reload never changes the rules halfway through a request.

use crate::metrics::{Metrics, RouteStats};
use crate::phase::Phase;
use crate::upstream::{spawn_health_checks, ClusterState};
use sekisho_config::Config;
use std::sync::Arc;

/// One generation of the configuration with its run-time state.
pub struct Live {
    /// 1 for the first configuration, +1 per successful reload.
    pub generation: u64,
    pub config: Arc<Config>,
    /// Same order as `config.clusters`.
    pub clusters: Vec<Arc<ClusterState>>,
    /// The pipeline's pluggable phases, in the order they run.
    pub phases: Vec<Arc<dyn Phase>>,
    /// `server.request_id_header`, parsed once (validated by the config).
    pub request_id_header: http::HeaderName,
    /// Same order as `config.routes`.
    pub routes: Vec<RouteRun>,
    /// Where requests that no route took are counted (name `""`).
    pub unrouted: RouteRun,
}

/// What a request needs of its route besides the configuration: the name, shared instead of
/// copied into each request, and the route's counters.
#[derive(Clone)]
pub struct RouteRun {
    pub name: Arc<str>,
    pub stats: Arc<RouteStats>,
}

impl RouteRun {
    fn new(name: &str, metrics: &Metrics) -> Self {
        Self {
            name: Arc::from(name),
            stats: metrics.route(name),
        }
    }
}

impl Live {
    /// Builds a generation; endpoint health carries over from `previous` by cluster
    /// name and address. Must run inside the tokio runtime (health checks are spawned).
    pub fn build(
        config: Config,
        generation: u64,
        previous: Option<&Live>,
        phases: Vec<Arc<dyn Phase>>,
        metrics: &Metrics,
    ) -> Live {
        let clusters = config
            .clusters
            .iter()
            .map(|c| {
                let prev =
                    previous.and_then(|p| p.clusters.iter().find(|o| o.config.name == c.name));
                let state = Arc::new(ClusterState::new(c.clone(), prev.map(|a| a.as_ref())));
                spawn_health_checks(&state);
                state
            })
            .collect();
        let request_id_header =
            http::HeaderName::from_bytes(config.server.request_id_header.as_bytes())
                .unwrap_or(http::HeaderName::from_static("x-request-id"));
        let routes = config
            .routes
            .iter()
            .map(|r| RouteRun::new(&r.name, metrics))
            .collect();
        Live {
            generation,
            routes,
            unrouted: RouteRun::new("", metrics),
            request_id_header,
            config: Arc::new(config),
            clusters,
            phases,
        }
    }
}
