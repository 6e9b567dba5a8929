//! Where events go and how they are batched.

use std::path::PathBuf;
use std::time::Duration;

/// Configuration of an [`EventSink`](crate::EventSink).
///
/// Example: `EventSinkConfig { store: Some("events.db".into()), ..Default::default() }`.
#[derive(Debug, Clone, PartialEq)]
pub struct EventSinkConfig {
    /// JSON-lines access log (one event per line, appended); `None`: no log.
    pub access_log: Option<PathBuf>,
    /// SQLite event store (WAL); `None`: no store.
    pub store: Option<PathBuf>,
    /// Events that may wait for the writer; beyond this `emit` drops and counts.
    pub queue_capacity: usize,
    /// Most events written in one store transaction and one log flush.
    pub batch_size: usize,
    /// Longest an emitted event waits before its batch is written.
    pub flush_interval: Duration,
}

impl Default for EventSinkConfig {
    fn default() -> Self {
        Self {
            access_log: None,
            store: None,
            queue_capacity: 65_536,
            batch_size: 512,
            flush_interval: Duration::from_millis(200),
        }
    }
}
