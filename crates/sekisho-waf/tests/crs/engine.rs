//! The only file that talks to the engine: loads the CRS with CI's configuration and runs one
//! request (and the backend's answer) through a transaction.

use std::path::{Path, PathBuf};

use std::sync::Arc;

/// The loaded rule set, shared by the runner's threads.
pub type RuleSet = Arc<sekisho_waf::RuleSet>;

use super::backend;
use super::frontend::Request;

/// The rule files in load order: our CI-equivalent setup, crs-setup.conf.example, rules/*.conf.
pub fn rule_files(crs: &Path, setup: &Path) -> Result<Vec<PathBuf>, String> {
    let example = crs.join("crs-setup.conf.example");
    if !example.is_file() {
        return Err(format!("missing `{}`", example.display()));
    }
    let rules_dir = crs.join("rules");
    let mut rules: Vec<PathBuf> = std::fs::read_dir(&rules_dir)
        .map_err(|e| format!("missing CRS rules directory `{}`: {e}", rules_dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "conf"))
        .collect();
    rules.sort();
    if rules.is_empty() {
        return Err(format!("no *.conf in `{}`", rules_dir.display()));
    }
    let mut files = vec![setup.to_path_buf(), example];
    files.extend(rules);
    Ok(files)
}

/// Loads the rule set, every load error in the message.
pub fn load(files: &[PathBuf]) -> Result<RuleSet, String> {
    sekisho_waf::RuleSet::from_files(files)
        .map(Arc::new)
        .map_err(|errors| format!("CRS failed to load:\n{errors}"))
}

/// What one request did inside the WAF.
#[derive(Debug, Default)]
pub struct Run {
    /// The status the client saw (the WAF's interruption, else the backend's).
    pub status: u16,
    /// Ids of rules that wrote an error-log line, in order.
    pub logged_ids: Vec<u64>,
    /// The error-log lines, one per logged rule.
    pub log_lines: Vec<String>,
    /// Every matched rule, logged or not, with what it recorded (for the tests that compare
    /// two ways of running the same rules).
    pub records: Vec<String>,
}

/// Runs the request phases, the backend, the response phases and logging.
pub fn run(rules: &RuleSet, request: &Request, with_backend: bool) -> Run {
    let mut tx = rules.transaction();
    tx.process_connection("127.0.0.1", 41000, "127.0.0.1", 80);
    tx.process_uri(
        &request.uri,
        &String::from_utf8_lossy(&request.method),
        &String::from_utf8_lossy(&request.protocol),
    );
    for (name, value) in &request.headers {
        tx.add_request_header(name, value);
    }
    let mut status = None;
    if let Some(i) = tx.process_request_headers() {
        status = Some(i.status);
    }
    if status.is_none() {
        status = tx.append_request_body(&request.body).map(|i| i.status);
    }
    if status.is_none() {
        status = tx.process_request_body().map(|i| i.status);
    }
    if status.is_none() && with_backend {
        let response = backend::respond(request);
        for (name, value) in &response.headers {
            tx.add_response_header(name, value);
        }
        status = tx
            .process_response_headers(response.status, "HTTP/1.1")
            .map(|i| i.status);
        if status.is_none() {
            status = tx.append_response_body(&response.body).map(|i| i.status);
        }
        if status.is_none() {
            status = tx.process_response_body().map(|i| i.status);
        }
        status = status.or(Some(response.status));
    }
    tx.process_logging();
    let mut run = Run {
        status: status.unwrap_or(200),
        ..Run::default()
    };
    for m in tx.matched_rules() {
        if m.log {
            run.logged_ids.push(m.id);
        }
        run.records.push(format!(
            "{} msg={:?} logdata={:?} var={:?}={:?} severity={:?} tags={:?} disruptive={}",
            m.id,
            m.msg,
            m.logdata,
            m.matched_var_name,
            String::from_utf8_lossy(&m.matched_var),
            m.severity,
            m.tags,
            m.disruptive
        ));
    }
    run.log_lines = tx.log_lines();
    run
}
