//! SecLang (ModSecurity's rule language) text → rule AST, with `file:line` on every
//! directive and every error. Handles `Include` with globs.
//!
//! This crate knows nothing of HTTP, of the engine that runs the rules, or of networking.
