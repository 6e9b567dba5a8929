//! The retry budget: retries may add at most `ratio` of a cluster's requests plus
//! `min_per_second`, so that retries cannot multiply load on an upstream that is
//! already failing.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Counts requests and retries in one-second windows. A request only bumps a counter (no
/// lock, no clock: this runs for every request); the window is kept by the retries.
pub struct RetryBudget {
    ratio: f64,
    min_per_second: u32,
    requests: AtomicU64,
    window: Mutex<Window>,
}

struct Window {
    started: Instant,
    /// `requests` when the window started.
    requests_before: u64,
    retries: u64,
}

impl RetryBudget {
    pub fn new(ratio: f64, min_per_second: u32) -> Self {
        Self {
            ratio,
            min_per_second,
            requests: AtomicU64::new(0),
            window: Mutex::new(Window {
                started: Instant::now(),
                requests_before: 0,
                retries: 0,
            }),
        }
    }

    /// Counts one first attempt.
    pub fn request(&self) {
        self.requests.fetch_add(1, Ordering::Relaxed);
    }

    /// Takes one retry from the budget; `false` when it is spent.
    pub fn try_retry(&self) -> bool {
        let mut w = self.window.lock().unwrap_or_else(PoisonError::into_inner);
        let requests = self.requests.load(Ordering::Relaxed);
        if w.started.elapsed() >= Duration::from_secs(1) {
            *w = Window {
                started: Instant::now(),
                requests_before: requests,
                retries: 0,
            };
        }
        let in_window = requests.saturating_sub(w.requests_before);
        let allowed = f64::from(self.min_per_second) + self.ratio * in_window as f64;
        if (w.retries as f64) < allowed {
            w.retries += 1;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_is_bounded() {
        let b = RetryBudget::new(0.1, 2);
        for _ in 0..10 {
            b.request();
        }
        let granted = (0..10).filter(|_| b.try_retry()).count();
        assert_eq!(granted, 3);
    }
}
