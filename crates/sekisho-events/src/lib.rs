//! The request event: one record per request with every decision and its reason
//! (schema versioned, see `docs/events.md`), and the sinks it goes to.
//!
//! Must never block the request path: sinks are fed through bounded queues.

mod event;

pub use event::{Decision, Event, TlsInfo, SCHEMA_VERSION};
