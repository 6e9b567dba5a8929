//! Runs every loaded test (all stages, in order) and judges it as go-ftw would.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use super::engine::RuleSet;
use regex::Regex;

use super::build;
use super::engine;
use super::frontend::{self, Parsed};
use super::model::{LoadedTest, Output, Stage};
use super::overrides::{Kind, Overrides};

/// The verdict on one test.
#[derive(Debug)]
pub struct Verdict {
    pub index: usize,
    /// Passed as written, or as its environment override says.
    pub passed: bool,
    /// Why it failed (empty when it passed).
    pub why: String,
}

/// What a stage produced, in go-ftw's terms.
#[derive(Debug, Default)]
pub struct Observed {
    /// `None`: the client got no parsable response (an error for go-ftw).
    pub status: Option<u16>,
    pub ids: Vec<u64>,
    pub log: String,
    /// Every matched rule with what it recorded ([`engine::Run::records`]).
    pub records: Vec<String>,
    /// Set when the front end rejected the request.
    pub rejected: Option<&'static str>,
}

/// Sends one stage through the front end, the WAF and the backend.
pub fn observe(rules: &RuleSet, stage: &Stage) -> Result<Observed, String> {
    let raw = build::raw_request(&stage.input)?;
    Ok(match frontend::parse(&raw) {
        Parsed::Rejected(status, why) => Observed {
            status: Some(status),
            rejected: Some(why),
            ..Observed::default()
        },
        Parsed::Http09(request) => {
            let run = engine::run(rules, &request, false);
            Observed {
                status: None,
                ids: run.logged_ids,
                log: run.log_lines.join("\n"),
                records: run.records,
                rejected: None,
            }
        }
        Parsed::Request(request) => {
            let run = engine::run(rules, &request, true);
            Observed {
                status: Some(run.status),
                ids: run.logged_ids,
                log: run.log_lines.join("\n"),
                records: run.records,
                rejected: None,
            }
        }
    })
}

/// go-ftw's checks: an expected error first, then the status, then the log.
pub fn judge(expected: &Output, seen: &Observed) -> Result<(), String> {
    let expect_error = expected.expect_error.unwrap_or(false);
    match (expect_error, seen.status) {
        (true, None) => {}
        (true, Some(s)) => return Err(format!("expected a client error, got status {s}")),
        (false, None) => return Err("unexpected client error (HTTP/0.9 response)".to_owned()),
        (false, Some(_)) => {}
    }
    if let (Some(want), Some(got)) = (expected.status, seen.status) {
        if want != got {
            let note = seen
                .rejected
                .map(|w| format!(" (front end: {w})"))
                .unwrap_or_default();
            return Err(format!("expected status {want}, got {got}{note}"));
        }
    }
    let log = &expected.log;
    let missing: Vec<u64> = log
        .expect_ids
        .iter()
        .copied()
        .filter(|id| !seen.ids.contains(id))
        .collect();
    let unexpected: Vec<u64> = log
        .no_expect_ids
        .iter()
        .copied()
        .filter(|id| seen.ids.contains(id))
        .collect();
    let mut problems = Vec::new();
    if !missing.is_empty() {
        problems.push(format!("expected ids {missing:?} not logged"));
    }
    if !unexpected.is_empty() {
        problems.push(format!("unexpected ids {unexpected:?} logged"));
    }
    if let Some(re) = &log.match_regex {
        if !compile(re)?.is_match(&seen.log) {
            problems.push(format!("log does not match `{re}`"));
        }
    }
    if let Some(re) = &log.no_match_regex {
        if compile(re)?.is_match(&seen.log) {
            problems.push(format!("log matches `{re}`"));
        }
    }
    if problems.is_empty() {
        return Ok(());
    }
    let mut ids = seen.ids.clone();
    ids.sort_unstable();
    ids.dedup();
    let rejected = seen
        .rejected
        .map(|w| format!("; front end rejected: {w}"))
        .unwrap_or_default();
    Err(format!("{}; logged {ids:?}{rejected}", problems.join("; ")))
}

fn compile(re: &str) -> Result<Regex, String> {
    // go-ftw's regexes are Go RE2 syntax, which the regex crate shares.
    Regex::new(re).map_err(|e| format!("bad regex in test `{re}`: {e}"))
}

/// Runs one test: every stage must pass.
fn run_test(rules: &RuleSet, test: &LoadedTest, overrides: &Overrides) -> (bool, String) {
    let patch = overrides
        .get(test.rule_id, test.case.test_id)
        .filter(|o| o.kind == Kind::Environment)
        .and_then(|o| o.output.as_ref());
    if test.case.stages.is_empty() {
        return (false, "test has no stage".to_owned());
    }
    for (n, stage) in test.case.stages.iter().enumerate() {
        let expected = match patch {
            Some(p) => p.apply(&stage.output),
            None => stage.output.clone(),
        };
        let verdict = observe(rules, stage).and_then(|seen| judge(&expected, &seen));
        if let Err(why) = verdict {
            let stage_note = if test.case.stages.len() > 1 {
                format!("stage {}: ", n + 1)
            } else {
                String::new()
            };
            return (false, format!("{stage_note}{why}"));
        }
    }
    (true, String::new())
}

/// Runs all tests on `threads` threads; verdicts come back in test order.
pub fn run_all(
    rules: &RuleSet,
    tests: &[LoadedTest],
    overrides: &Overrides,
    threads: usize,
) -> Vec<Verdict> {
    let next = AtomicUsize::new(0);
    let results = Mutex::new(Vec::with_capacity(tests.len()));
    std::thread::scope(|scope| {
        for _ in 0..threads.max(1) {
            scope.spawn(|| loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                let Some(test) = tests.get(index) else { break };
                // A panic in the engine fails this test, not the whole run.
                let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    run_test(rules, test, overrides)
                }));
                let (passed, why) = outcome.unwrap_or_else(|p| {
                    let msg = p
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| p.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                        .unwrap_or_default();
                    (false, format!("engine panicked: {msg}"))
                });
                if let Ok(mut r) = results.lock() {
                    r.push(Verdict { index, passed, why });
                }
            });
        }
    });
    let mut verdicts = results.into_inner().unwrap_or_default();
    verdicts.sort_by_key(|v| v.index);
    verdicts
}

/// Passed/total per test directory (one CRS rule file each).
pub fn per_directory(
    tests: &[LoadedTest],
    verdicts: &[Verdict],
) -> BTreeMap<String, (usize, usize)> {
    let mut out: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for v in verdicts {
        if let Some(t) = tests.get(v.index) {
            let e = out.entry(t.dir.clone()).or_default();
            e.1 += 1;
            if v.passed {
                e.0 += 1;
            }
        }
    }
    out
}
