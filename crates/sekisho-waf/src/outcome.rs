//! What a transaction reports: the interruption and the matched rules.

/// The disruptive action a rule ended the transaction with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Disruptive {
    Deny,
    Drop,
    Redirect(String),
}

/// A transaction was stopped, by a rule or a body limit (never produced in `DetectionOnly`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interruption {
    /// HTTP status to answer with (`status:` or 403).
    pub status: u16,
    pub rule_id: u64,
    pub action: Disruptive,
    pub phase: u8,
}

impl Interruption {
    /// A body limit refused the transaction (`SecRequestBodyLimit`, `…NoFilesLimit`,
    /// `SecResponseBodyLimit` with `Reject`): no rule did, so `rule_id` is 0.
    pub(crate) fn body_limit(status: u16, phase: u8) -> Self {
        Self {
            status,
            rule_id: 0,
            action: Disruptive::Deny,
            phase,
        }
    }
}

/// One rule (or whole chain) that matched.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MatchedRule {
    pub id: u64,
    pub phase: u8,
    /// `msg`, macro-expanded.
    pub msg: String,
    /// `logdata`, macro-expanded and truncated to 512 bytes as ModSecurity does.
    pub logdata: String,
    pub tags: std::sync::Arc<[String]>,
    /// 0 (emergency) … 7 (debug).
    pub severity: Option<u8>,
    pub matched_var_name: String,
    pub matched_var: Vec<u8>,
    /// The rule's action was disruptive (deny/drop/redirect, or block resolving to one),
    /// whether or not the engine actually interrupted (`DetectionOnly`).
    pub disruptive: bool,
    /// The rule logs (`log`, or the default action's, and not `nolog`).
    pub log: bool,
    /// The ModSecurity-style error-log line (empty when `log` is false).
    pub log_line: String,
}
