//! Parse errors: every one names `file:line` and, where there is one, the offending text.

use std::fmt;

use crate::ast::Span;

/// One SecLang error at a directive, e.g. `rules.conf:12: unknown action `mgs``.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// Location of the directive the error is in.
    pub span: Span,
    /// Lowercase message without a final period, user input in backticks.
    pub message: String,
}

impl ParseError {
    /// An error at `span` saying `message`.
    pub fn new(span: Span, message: impl Into<String>) -> Self {
        Self {
            span,
            message: message.into(),
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.span, self.message)
    }
}

impl std::error::Error for ParseError {}
