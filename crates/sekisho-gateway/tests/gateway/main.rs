//! Gateway integration tests over real loopback sockets. One test binary (one link on a
//! 2-core machine); one module per concern.
// Test helpers outside #[test] functions fail loudly too.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

mod bad_input;
mod balancing;
mod events;
mod lifecycle;
mod routing;
mod tls;
mod upstream;
