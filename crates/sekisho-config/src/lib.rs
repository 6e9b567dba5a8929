//! sekisho's configuration: one TOML file → a typed, fully validated [`Config`].
//!
//! Every error names `file:line` and the offending key or value; [`load`] collects every
//! semantic error of a file instead of stopping at the first. Reload is "load, then swap":
//! this crate only parses and validates, the gateway swaps. Depends on no networking crate.

mod cidr;
mod duration;
mod error;
mod model;
mod raw;
mod validate;

pub use cidr::Cidr;
pub use duration::parse_duration;
pub use error::{ConfigError, ConfigErrors};
pub use model::*;
pub use validate::{load, parse};
