//! The retry budget: retries may add at most `ratio` of a cluster's requests plus
//! `min_per_second`, so that retries cannot multiply load on an upstream that is
//! already failing.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Counts requests and retries in one-second windows.
pub struct RetryBudget {
    ratio: f64,
    min_per_second: u32,
    window: Mutex<(Instant, u64, u64)>,
}

impl RetryBudget {
    pub fn new(ratio: f64, min_per_second: u32) -> Self {
        Self {
            ratio,
            min_per_second,
            window: Mutex::new((Instant::now(), 0, 0)),
        }
    }

    fn with<R>(&self, f: impl FnOnce(&mut (Instant, u64, u64)) -> R) -> R {
        let mut w = self.window.lock().unwrap_or_else(PoisonError::into_inner);
        if w.0.elapsed() >= Duration::from_secs(1) {
            *w = (Instant::now(), 0, 0);
        }
        f(&mut w)
    }

    /// Counts one first attempt.
    pub fn request(&self) {
        self.with(|w| w.1 += 1);
    }

    /// Takes one retry from the budget; `false` when it is spent.
    pub fn try_retry(&self) -> bool {
        self.with(|w| {
            let allowed = f64::from(self.min_per_second) + self.ratio * w.1 as f64;
            if (w.2 as f64) < allowed {
                w.2 += 1;
                true
            } else {
                false
            }
        })
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
