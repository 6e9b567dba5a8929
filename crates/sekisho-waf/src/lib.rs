//! The WAF engine: a compiled SecLang rule set and a `Transaction` with one call per phase.
//!
//! Owns operators, transformations, variables, actions and body processors (one file per
//! primitive, a static registry each). Must never depend on networking: the whole CRS
//! regression suite runs in-process.

pub mod bodies;
pub mod operators;
pub mod transformations;
