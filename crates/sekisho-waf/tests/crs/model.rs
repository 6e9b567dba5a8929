//! The ftw-tests-schema v2 test files (as go-ftw reads them), loaded from the CRS tree.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_yaml::Value;

/// One YAML file: every test of one rule.
#[derive(Debug, Deserialize)]
pub struct TestFile {
    pub rule_id: Option<u64>,
    #[serde(default)]
    pub tests: Vec<TestCase>,
}

#[derive(Debug, Deserialize)]
pub struct TestCase {
    pub test_id: u64,
    #[serde(default)]
    pub desc: Option<String>,
    #[serde(default)]
    pub stages: Vec<Stage>,
}

#[derive(Debug, Deserialize)]
pub struct Stage {
    #[serde(default)]
    pub input: Input,
    #[serde(default)]
    pub output: Output,
}

/// A stage's request. Scalars are kept as YAML values: the files write header values and
/// versions as numbers as often as strings.
#[derive(Debug, Default, Deserialize)]
pub struct Input {
    pub method: Option<Value>,
    pub uri: Option<Value>,
    pub version: Option<Value>,
    /// go-ftw builds its header list from this map sorted by name.
    #[serde(default)]
    pub headers: BTreeMap<String, Value>,
    #[serde(default)]
    pub ordered_headers: Vec<OrderedHeader>,
    pub data: Option<Value>,
    pub encoded_data: Option<String>,
    pub encoded_request: Option<String>,
    pub autocomplete_headers: Option<bool>,
}

#[derive(Debug, Deserialize)]
pub struct OrderedHeader {
    pub name: String,
    pub value: Value,
}

#[derive(Debug, Default, Clone, Deserialize)]
pub struct Output {
    pub status: Option<u16>,
    #[serde(default)]
    pub log: Log,
    #[serde(default)]
    pub expect_error: Option<bool>,
}

#[derive(Debug, Default, Clone, Deserialize)]
pub struct Log {
    #[serde(default)]
    pub expect_ids: Vec<u64>,
    #[serde(default)]
    pub no_expect_ids: Vec<u64>,
    pub match_regex: Option<String>,
    pub no_match_regex: Option<String>,
}

/// A test with where it came from: `dir` is the rule file's directory (e.g.
/// `REQUEST-942-APPLICATION-ATTACK-SQLI`), `file` its file name.
#[derive(Debug)]
pub struct LoadedTest {
    pub dir: String,
    pub file: String,
    pub rule_id: u64,
    pub case: TestCase,
}

/// Renders a YAML scalar the way go-ftw's string fields receive it.
pub fn scalar(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null => String::new(),
        other => serde_yaml::to_string(other).unwrap_or_default(),
    }
}

/// Loads every `*.yaml` test file under `root`, sorted by path.
pub fn load_all(root: &Path) -> Result<Vec<LoadedTest>, String> {
    if !root.is_dir() {
        return Err(format!(
            "missing CRS regression tests directory `{}` (expected the OWASP CRS v4 tree in ../shared/crs)",
            root.display()
        ));
    }
    let mut files = Vec::new();
    collect_yaml(root, &mut files)?;
    files.sort();
    let mut tests = Vec::new();
    for path in files {
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
        // A file may be entirely commented out (920539.yaml): it holds no test.
        let parsed: Option<TestFile> = serde_yaml::from_str(&text)
            .map_err(|e| format!("cannot parse `{}`: {e}", path.display()))?;
        let Some(parsed) = parsed else { continue };
        let dir = path
            .parent()
            .and_then(|p| p.file_name())
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let file = path
            .file_name()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let rule_id = parsed
            .rule_id
            .or_else(|| file.split('.').next().and_then(|s| s.parse().ok()))
            .unwrap_or(0);
        for case in parsed.tests {
            tests.push(LoadedTest {
                dir: dir.clone(),
                file: file.clone(),
                rule_id,
                case,
            });
        }
    }
    Ok(tests)
}

fn collect_yaml(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), String> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("cannot list `{}`: {e}", dir.display()))?;
    for entry in entries {
        let path = entry
            .map_err(|e| format!("cannot list `{}`: {e}", dir.display()))?
            .path();
        if path.is_dir() {
            collect_yaml(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(path);
        }
    }
    Ok(())
}
