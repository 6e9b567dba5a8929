//! SecLang operators (`@name arg`): one file each, listed in a static registry.

use std::path::Path;

/// Capture groups of a match (`TX.0` … `TX.9`), filled when the rule has `capture`.
pub type Captures = Vec<Vec<u8>>;

/// What an operator may need when it is built: the directory of the rule file
/// (for `@pmFromFile` and friends).
#[derive(Debug, Clone, Copy)]
pub struct OperatorEnv<'a> {
    pub base_dir: &'a Path,
}

/// A compiled operator. Negation (`!@op`) is the engine's job, not the operator's.
pub trait Operator: Send + Sync + std::fmt::Debug {
    /// Tests one value. When `captures` is given, fills it with the match groups.
    fn matches(&self, input: &[u8], captures: Option<&mut Captures>) -> bool;
}

/// Builds the operator `name` (without `@`, any case) with its argument.
pub fn build(name: &str, arg: &str, env: &OperatorEnv<'_>) -> Result<Box<dyn Operator>, String> {
    let _ = (arg, env);
    Err(format!("unknown operator `@{name}`"))
}
