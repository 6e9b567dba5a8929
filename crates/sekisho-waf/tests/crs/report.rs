//! Loads everything, runs the suite and prints the verdicts; the last line printed is exactly
//! `CRS regression: passed N of M (P%)`.

use std::path::PathBuf;
use std::time::Instant;

use super::model::{self, LoadedTest};
use super::overrides::{Kind, Overrides};
use super::{build, engine, frontend, runner};

/// The suite's outcome.
#[derive(Debug)]
pub struct Report {
    pub passed: usize,
    pub total: usize,
    /// A `CRS_FILTER` run: the figures cover a subset.
    pub filtered: bool,
}

impl Report {
    pub fn percent(&self) -> f64 {
        if self.total == 0 {
            return 0.0;
        }
        // Test counts are far below 2^52: the conversion is exact.
        self.passed as f64 * 100.0 / self.total as f64
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// Where the CRS tree is: `CRS_DIR`, else `../shared/crs` beside the workspace.
pub fn crs_dir() -> PathBuf {
    let dir = env("CRS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/crs"));
    // Canonical paths make the `[file "…"]` of log lines readable; a missing tree stays as is
    // so the loader can name it.
    dir.canonicalize().unwrap_or(dir)
}

pub fn support_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/crs")
}

fn selected(test: &LoadedTest, filter: &str) -> bool {
    let path = format!("{}/{}", test.dir, test.file);
    let key = format!("{}-{}", test.rule_id, test.case.test_id);
    path.contains(filter) || key == filter || test.rule_id.to_string() == filter
}

/// Runs the suite as the environment asks and prints the report.
pub fn run_from_env() -> Result<Report, String> {
    let crs = crs_dir();
    let tests_dir = crs.join("tests/regression/tests");
    let mut tests = model::load_all(&tests_dir)?;
    let all = tests.len();
    let overrides = Overrides::load(&support_dir().join("overrides.toml"))?;

    let filter = env("CRS_FILTER");
    if let Some(f) = &filter {
        tests.retain(|t| selected(t, f));
    }

    let started = Instant::now();
    let files = engine::rule_files(&crs, &support_dir().join("setup.conf"))?;
    let rules = engine::load(&files)?;
    let load_time = started.elapsed();

    if let Some(key) = env("CRS_SHOW") {
        for t in tests.iter().filter(|t| selected(t, &key)) {
            show(&rules, t);
        }
    }

    let threads = env("CRS_THREADS")
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from));
    let started = Instant::now();
    let verdicts = runner::run_all(&rules, &tests, &overrides, threads);
    let run_time = started.elapsed();

    let mut unlisted = Vec::new();
    let mut stale = Vec::new();
    for v in &verdicts {
        let Some(t) = tests.get(v.index) else {
            continue;
        };
        let listed = overrides.get(t.rule_id, t.case.test_id);
        if !v.passed {
            let note = match listed {
                Some(o) if o.kind == Kind::Failing => format!(" [listed: {}]", o.reason),
                Some(_) => " [environment override]".to_owned(),
                None => {
                    unlisted.push(format!("{}-{}", t.rule_id, t.case.test_id));
                    String::new()
                }
            };
            println!(
                "FAIL {}/{} test {}: {}{note}",
                t.dir, t.file, t.case.test_id, v.why
            );
        } else if listed.is_some_and(|o| o.kind == Kind::Failing) {
            stale.push(format!("{}-{}", t.rule_id, t.case.test_id));
        }
    }
    if env("CRS_VERBOSE").is_some() {
        println!("per test directory (passed/total):");
        for (dir, (p, n)) in runner::per_directory(&tests, &verdicts) {
            println!("  {p:>5}/{n:<5} {dir}");
        }
    }
    if !unlisted.is_empty() {
        println!(
            "failing tests not listed in crs/overrides.toml ({}): {}",
            unlisted.len(),
            unlisted.join(" ")
        );
    }
    if !stale.is_empty() {
        println!(
            "listed as failing but now passing, remove from crs/overrides.toml ({}): {}",
            stale.len(),
            stale.join(" ")
        );
    }
    println!(
        "CRS loaded in {:.0} ms; {} tests ran in {:.1} s on {threads} threads",
        load_time.as_secs_f64() * 1000.0,
        tests.len(),
        run_time.as_secs_f64()
    );
    let report = Report {
        passed: verdicts.iter().filter(|v| v.passed).count(),
        total: if filter.is_some() { tests.len() } else { all },
        filtered: filter.is_some(),
    };
    println!(
        "CRS regression: passed {} of {} ({:.2}%)",
        report.passed,
        report.total,
        report.percent()
    );
    Ok(report)
}

/// Dumps one test's requests, what the front end made of them and the WAF's log.
fn show(rules: &engine::RuleSet, test: &LoadedTest) {
    println!(
        "=== {}/{} test {}: {}",
        test.dir,
        test.file,
        test.case.test_id,
        test.case.desc.as_deref().unwrap_or_default().trim()
    );
    for stage in &test.case.stages {
        match build::raw_request(&stage.input) {
            Ok(raw) => {
                println!("--- raw request:\n{}", String::from_utf8_lossy(&raw));
                if let frontend::Parsed::Rejected(s, why) = frontend::parse(&raw) {
                    println!("--- front end: {s} ({why})");
                }
            }
            Err(e) => println!("--- cannot build: {e}"),
        }
        match runner::observe(rules, stage) {
            Ok(seen) => {
                println!("--- status {:?}, logged ids {:?}", seen.status, seen.ids);
                println!("--- log:\n{}", seen.log);
                println!("--- expected: {:?}", stage.output);
            }
            Err(e) => println!("--- error: {e}"),
        }
    }
}
