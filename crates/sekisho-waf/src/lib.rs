//! The WAF engine: a compiled SecLang rule set and a `Transaction` with one call per phase.
//!
//! Owns operators, transformations, variables, actions and body processors (one file per
//! primitive, a static registry each). Must never depend on networking: the whole CRS
//! regression suite runs in-process.
//!
//! Limitations: `IP`, `SESSION`, `USER`, `GLOBAL` and `RESOURCE` live for one transaction
//! (no persistence across transactions); `exec`, `append`/`prepend`, `proxy` and `pause`
//! are load errors.

pub mod actions;
pub mod bodies;
pub mod byteset;
pub mod collection;
pub mod config;
pub mod error;
mod fold;
mod log;
pub mod macros;
pub mod operators;
pub mod outcome;
mod prefilter;
pub(crate) mod rule;
pub mod ruleset;
pub mod transaction;
pub mod transformations;
pub mod variables;

pub use config::{BodyProcessor, Config, EngineMode, LimitAction};
pub use error::{Error, Errors};
pub use outcome::{Disruptive, Interruption, MatchedRule};
pub use ruleset::{RuleSet, RuleSetBuilder};
pub use transaction::{MatchedRules, Transaction};
