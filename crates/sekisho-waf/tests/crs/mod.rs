//! The OWASP CRS regression suite, in-process: the YAML tests of `../shared/crs`, requests built
//! as go-ftw builds them, an Apache-like front end, the engine, and an albedo-like backend.

pub mod backend;
pub mod build;
pub mod engine;
pub mod frontend;
pub mod model;
pub mod overrides;
pub mod report;
pub mod runner;
