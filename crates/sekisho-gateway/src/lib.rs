//! The data plane: listeners (HTTP and HTTPS, HTTP/1.1 and HTTP/2), the request pipeline,
//! routing, upstream clusters (load balancing, health, retries, pooling), the admin
//! listener, reload, drain and binary upgrade.
//!
//! The order in which a request is checked lives in one place: [`pipeline`]. Later
//! capabilities (WAF, limits, identity, policy) plug in as [`Phase`]s. This crate owns the
//! networking; the crates it uses (config, events, and later waf) must never depend on it.

mod admin;
mod body;
mod forwarded;
mod gateway;
mod listener;
mod live;
mod metrics;
mod phase;
pub mod pipeline;
mod route;
#[doc(hidden)] // public for the fuzz target only
pub mod strict;
mod tls;
pub mod upgrade;
mod upstream;

pub use gateway::{Gateway, GatewayError, Options};
pub use phase::{Flow, Phase, RequestCtx, RequestId};
