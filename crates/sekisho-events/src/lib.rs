//! The request event: one record per request with every decision and its reason
//! (schema versioned, see `docs/events.md`), and the sinks it goes to: a JSON-lines
//! access log and an embedded SQLite store.
//!
//! Must never block the request path: [`EventSink::emit`] only pushes onto a bounded
//! queue that a dedicated writer thread drains. Depends on no networking crate.

mod config;
mod error;
mod event;
mod jsonl;
mod sink;
mod store;
mod time;

pub use config::EventSinkConfig;
pub use error::EventError;
pub use event::{Decision, Event, TlsInfo, SCHEMA_VERSION};
pub use sink::EventSink;
pub use store::{EventStore, STORE_SCHEMA_VERSION};
pub use time::{now_rfc3339, rfc3339_millis};
