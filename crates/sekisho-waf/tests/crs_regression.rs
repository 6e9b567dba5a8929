//! Conformance: every test of the OWASP CRS v4 regression suite, run in-process against the full
//! CRS with the configuration CRS's own CI uses (see `crs/setup.conf`).
//!
//! Environment: `CRS_DIR` (default `../shared/crs`), `CRS_FILTER` (run only tests whose
//! `dir/file`, rule id or `rule-test` contains it), `CRS_SHOW=rule-test` (dump that test's
//! requests and log), `CRS_VERBOSE=1` (per-directory summary), `CRS_THREADS`.

mod crs;

/// The pass ratio (in percent) the suite must not fall below: every test passes today, so any
/// regression fails the build.
const MIN_PASS_PERCENT: f64 = 100.0;

#[test]
fn crs_regression_suite() {
    let report = match crs::report::run_from_env() {
        Ok(r) => r,
        Err(e) => panic!("{e}"),
    };
    if report.filtered {
        return;
    }
    assert!(
        report.percent() >= MIN_PASS_PERCENT,
        "CRS regression pass ratio {:.2}% fell below {MIN_PASS_PERCENT}%",
        report.percent()
    );
}

/// The harness's own check, without the engine: every test that expects the web server to
/// answer by itself (a status other than 200, or a client error) gets exactly that from the
/// Apache-like front end, and no test that expects a rule to match is rejected by it.
#[test]
fn front_end_agrees_with_apache_expectations() {
    use crs::frontend::{parse, Parsed};
    let dir = crs::report::crs_dir().join("tests/regression/tests");
    let tests = match crs::model::load_all(&dir) {
        Ok(t) => t,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(tests.len(), 5003, "CRS v4.28.0 has 5,003 regression tests");
    let mut wrong = Vec::new();
    for t in &tests {
        for stage in &t.case.stages {
            let raw = match crs::build::raw_request(&stage.input) {
                Ok(r) => r,
                Err(e) => panic!("{}-{}: {e}", t.rule_id, t.case.test_id),
            };
            let got = match parse(&raw) {
                Parsed::Request(_) => None,
                Parsed::Http09(_) => Some(0),
                Parsed::Rejected(s, _) => Some(s),
            };
            let want = match (stage.output.expect_error, stage.output.status) {
                (Some(true), _) => Some(0),
                (_, Some(s)) if s != 200 => Some(s),
                _ => None,
            };
            // A rejection cannot fail a test that only expects rules not to match.
            let negative_only = stage.output.log.expect_ids.is_empty()
                && stage.output.log.match_regex.is_none()
                && stage.output.status.is_none();
            if got != want && !(want.is_none() && got.is_some_and(|s| s >= 400) && negative_only) {
                wrong.push(format!(
                    "{}-{}: front end {got:?}, test {want:?}",
                    t.rule_id, t.case.test_id
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "front end disagrees:\n{}",
        wrong.join("\n")
    );
}

/// The prefilter only ever skips rules that cannot match: with it and without it, every
/// request of the suite matches the same rules, logs the same lines and gets the same status.
#[test]
fn prefilter_changes_no_verdict() {
    let files = crs_files(None).unwrap_or_else(|e| panic!("{e}"));
    let differ = different_verdicts(&files, |r| r.without_prefilter());
    assert!(
        differ.is_empty(),
        "the prefilter changed verdicts:\n{}",
        differ.join("\n")
    );
}

/// What the rule set decides at load (rules the paranoia level jumps over, settings rules)
/// changes nothing: every request of the suite, at paranoia levels 1 and 2 (where most is
/// decided), matches the same rules with it as with every rule evaluated.
#[test]
fn folding_changes_no_verdict() {
    for pl in [1, 2] {
        let files = crs_files(Some(pl)).unwrap_or_else(|e| panic!("{e}"));
        let differ = different_verdicts(&files, |r| r.without_folding().without_prefilter());
        assert!(
            differ.is_empty(),
            "folding at PL{pl} changed verdicts:\n{}",
            differ.join("\n")
        );
    }
}

/// The suite's rule files; with `paranoia`, the setup's paranoia level replaced by it.
fn crs_files(paranoia: Option<u8>) -> Result<Vec<std::path::PathBuf>, String> {
    let crs = crs::report::crs_dir();
    let mut setup = crs::report::support_dir().join("setup.conf");
    if let Some(pl) = paranoia {
        let text = std::fs::read_to_string(&setup)
            .map_err(|e| format!("cannot read `{}`: {e}", setup.display()))?;
        let text = text.replace(
            "setvar:tx.blocking_paranoia_level=4",
            &format!("setvar:tx.blocking_paranoia_level={pl}"),
        );
        let dir = std::env::temp_dir().join(format!("sekisho-fold-{}", std::process::id()));
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot create `{}`: {e}", dir.display()))?;
        setup = dir.join(format!("setup-pl{pl}.conf"));
        std::fs::write(&setup, text)
            .map_err(|e| format!("cannot write `{}`: {e}", setup.display()))?;
    }
    crs::engine::rule_files(&crs, &setup)
}

/// Runs every request of the suite through the rule set and through `change(rule set)`:
/// each difference in matched rules, log lines or status, described.
fn different_verdicts(
    files: &[std::path::PathBuf],
    change: impl Fn(sekisho_waf::RuleSet) -> sekisho_waf::RuleSet,
) -> Vec<String> {
    let crs = crs::report::crs_dir();
    let outcome = (|| -> Result<Vec<String>, String> {
        let tests = crs::model::load_all(&crs.join("tests/regression/tests"))?;
        let with = crs::engine::load(files)?;
        let without = std::sync::Arc::new(change(
            sekisho_waf::RuleSet::from_files(files).map_err(|e| e.to_string())?,
        ));
        // Each transaction has its own unique id.
        let unique = regex::Regex::new(r#"\[unique_id "[^"]*"\]"#).ok();
        let log = |l: &str| unique.as_ref().map(|u| u.replace_all(l, "").into_owned());
        let mut differ = Vec::new();
        for t in &tests {
            for stage in &t.case.stages {
                let name = format!("{}-{}", t.rule_id, t.case.test_id);
                let a = crs::runner::observe(&with, stage).map_err(|e| format!("{name}: {e}"))?;
                let b =
                    crs::runner::observe(&without, stage).map_err(|e| format!("{name}: {e}"))?;
                if (a.status, &a.ids, log(&a.log)) != (b.status, &b.ids, log(&b.log)) {
                    differ.push(format!(
                        "{name}: {:?} {:?}, changed {:?} {:?}\n{}\n{}",
                        a.status, a.ids, b.status, b.ids, a.log, b.log
                    ));
                } else if a.records != b.records {
                    differ.push(format!(
                        "{name}: the matched rules recorded differ:\n{}\n---\n{}",
                        a.records.join("\n"),
                        b.records.join("\n")
                    ));
                }
            }
        }
        Ok(differ)
    })();
    outcome.unwrap_or_else(|e| vec![e])
}
