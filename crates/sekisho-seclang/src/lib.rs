//! SecLang (ModSecurity's rule language) text → rule AST, with `file:line` on every
//! directive and every error. Handles `Include` with globs.
//!
//! This crate knows nothing of HTTP, of the engine that runs the rules, or of networking.
//!
//! Entry points: [`parse_file`] / [`parse_file_all`] (a file and its `Include`s) and
//! [`parse_str`] / [`parse_str_all`] (text with the path it came from). The `_all` forms
//! collect every error for `sekisho waf check`. The result is a list of [`Directive`]s in
//! source order with chained rules already attached to their starter ([`Rule::chain`]).
#![warn(missing_docs)]

mod actions;
mod args;
pub mod ast;
mod directives;
mod error;
mod lexer;
mod operators;
mod parser;
mod suggest;
mod variables;

pub use actions::{action_names, severity_number, DISRUPTIVE};
pub use ast::{
    Action, AuditEngineMode, AuditLogFormat, AuditLogType, BodyLimitAction, Directive,
    DirectiveKind, EngineMode, IdRange, OperatorSpec, Rule, Span, VariableKey, VariableSpec,
};
pub use directives::directive_names;
pub use error::ParseError;
pub use operators::operator_names;
pub use parser::{parse_file, parse_file_all, parse_str, parse_str_all};
pub use variables::variable_names;
