//! A small JSON API used as sekisho's embedded default backend and as the common
//! backend of the benchmark: plain HTTP/1.1 with keep-alive on loopback, small static
//! bodies, no state but an order counter.
//!
//! Depends on nothing of sekisho; sekisho's binary depends on it, never the reverse.

mod handlers;
mod reflect;
mod server;

pub use server::{serve_listener, spawn};
