//! Active HTTP health checks: one task per checked cluster probes every endpoint each
//! interval; `unhealthy_threshold` failures in a row mark it down, `healthy_threshold`
//! successes in a row mark it up again.

use super::ClusterState;
use crate::body::{empty, RespBody};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};

/// Starts the checks of `cluster` if it has any. The task holds only a weak reference:
/// when a reload replaces the cluster, the old task ends by itself.
pub fn spawn_health_checks(cluster: &Arc<ClusterState>) {
    let Some(hc) = cluster.config.health_check.clone() else {
        return;
    };
    let weak: Weak<ClusterState> = Arc::downgrade(cluster);
    tokio::spawn(async move {
        let n = weak.upgrade().map_or(0, |c| c.endpoints.len());
        let mut ok_streak = vec![0u32; n];
        let mut fail_streak = vec![0u32; n];
        let mut tick = tokio::time::interval(hc.interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let Some(c) = weak.upgrade() else { return };
            for (i, e) in c.endpoints.iter().enumerate() {
                let good = match http::Request::get(hc.path.as_str())
                    .header(http::header::HOST, &*e.label)
                    .header("user-agent", "sekisho-health")
                    .body::<RespBody>(empty())
                {
                    Ok(req) => match tokio::time::timeout(hc.timeout, e.pool.send(req)).await {
                        Ok(Ok(resp)) => {
                            let ok = resp.status().is_success();
                            // Read the body so that the connection goes back to the pool.
                            let _ = http_body_util::BodyExt::collect(resp.into_body()).await;
                            ok
                        }
                        _ => false,
                    },
                    Err(_) => false,
                };
                let (Some(ok), Some(fail)) = (ok_streak.get_mut(i), fail_streak.get_mut(i)) else {
                    continue;
                };
                if good {
                    *ok += 1;
                    *fail = 0;
                    if *ok >= hc.healthy_threshold && !e.healthy.swap(true, Ordering::Relaxed) {
                        tracing::info!(cluster = %c.config.name, endpoint = %e.addr, "endpoint healthy");
                    }
                } else {
                    *fail += 1;
                    *ok = 0;
                    if *fail >= hc.unhealthy_threshold && e.healthy.swap(false, Ordering::Relaxed) {
                        tracing::warn!(cluster = %c.config.name, endpoint = %e.addr, "endpoint unhealthy");
                    }
                }
            }
        }
    });
}
