//! `crs/overrides.toml`: every test not counted as passing as written, each with its reason.
//!
//! Two kinds:
//! - `environment`: the test assumes Apache/nginx behaviour an in-process run cannot have; the
//!   entry gives the expectation that holds here (like go-ftw's override files), and the test
//!   counts as passed when that holds.
//! - `failing`: a known mismatch of the engine (never counted as passed); the reason says why.

use std::collections::HashMap;
use std::path::Path;

use serde::Deserialize;

use super::model::{Log, Output};

#[derive(Debug, Deserialize)]
struct File {
    #[serde(default, rename = "override")]
    overrides: Vec<Entry>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Environment,
    Failing,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    rule_id: u64,
    test_ids: Vec<u64>,
    kind: Kind,
    reason: String,
    #[serde(default)]
    output: Option<OutputPatch>,
}

/// Fields that replace the test's own expectation; absent fields keep it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputPatch {
    status: Option<u16>,
    expect_ids: Option<Vec<u64>>,
    no_expect_ids: Option<Vec<u64>>,
    match_regex: Option<String>,
    no_match_regex: Option<String>,
    expect_error: Option<bool>,
}

impl OutputPatch {
    pub fn apply(&self, out: &Output) -> Output {
        let log = Log {
            expect_ids: self
                .expect_ids
                .clone()
                .unwrap_or_else(|| out.log.expect_ids.clone()),
            no_expect_ids: self
                .no_expect_ids
                .clone()
                .unwrap_or_else(|| out.log.no_expect_ids.clone()),
            match_regex: self
                .match_regex
                .clone()
                .or_else(|| out.log.match_regex.clone()),
            no_match_regex: self
                .no_match_regex
                .clone()
                .or_else(|| out.log.no_match_regex.clone()),
        };
        Output {
            status: self.status.or(out.status),
            log,
            expect_error: self.expect_error.or(out.expect_error),
        }
    }
}

/// One test's override.
#[derive(Debug, Clone)]
pub struct Override {
    pub kind: Kind,
    pub reason: String,
    pub output: Option<OutputPatch>,
}

/// Overrides by (rule id, test id).
#[derive(Debug, Default)]
pub struct Overrides(pub HashMap<(u64, u64), Override>);

impl Overrides {
    pub fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
        let file: File = toml::from_str(&text).map_err(|e| format!("`{}`: {e}", path.display()))?;
        let mut map = HashMap::new();
        for entry in file.overrides {
            if entry.reason.trim().is_empty() {
                return Err(format!(
                    "`{}`: override of rule {} has no reason",
                    path.display(),
                    entry.rule_id
                ));
            }
            if entry.kind == Kind::Environment && entry.output.is_none() {
                return Err(format!(
                    "`{}`: environment override of rule {} needs the `output` that holds here",
                    path.display(),
                    entry.rule_id
                ));
            }
            for &test_id in &entry.test_ids {
                let o = Override {
                    kind: entry.kind,
                    reason: entry.reason.clone(),
                    output: entry.output.clone(),
                };
                if map.insert((entry.rule_id, test_id), o).is_some() {
                    return Err(format!(
                        "`{}`: rule {} test {test_id} is listed twice",
                        path.display(),
                        entry.rule_id
                    ));
                }
            }
        }
        Ok(Overrides(map))
    }

    pub fn get(&self, rule_id: u64, test_id: u64) -> Option<&Override> {
        self.0.get(&(rule_id, test_id))
    }
}
