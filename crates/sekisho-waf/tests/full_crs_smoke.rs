//! Smoke test: the whole OWASP CRS v4.28 loads and judges a benign GET and an SQLi GET.
//! Needs `/work/shared/crs` (or `SEKISHO_CRS_DIR`); fails with a message when missing.
#![expect(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test helpers fail loudly outside #[test] functions"
)]

use sekisho_waf::{RuleSet, Transaction};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

fn crs_dir() -> PathBuf {
    let dir = std::env::var_os("SEKISHO_CRS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/crs"));
    assert!(
        dir.join("crs-setup.conf.example").is_file(),
        "the OWASP CRS is missing: expected {}/crs-setup.conf.example (set SEKISHO_CRS_DIR)",
        dir.display()
    );
    dir
}

fn load(extra: &str) -> Arc<RuleSet> {
    let dir = crs_dir();
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join("rules"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "conf"))
        .collect();
    files.sort();
    let mut b = RuleSet::builder()
        .add_str(
            "SecRuleEngine On\nSecRequestBodyAccess On\n",
            dir.join("engine.conf"),
        )
        .add_file(dir.join("crs-setup.conf.example"))
        .add_str(extra, dir.join("extra.conf"));
    for f in &files {
        b = b.add_file(f);
    }
    let start = Instant::now();
    let set = b
        .build()
        .unwrap_or_else(|e| panic!("CRS failed to load:\n{e}"));
    eprintln!(
        "CRS loaded: {} rules in {:?}",
        set.rule_count(),
        start.elapsed()
    );
    Arc::new(set)
}

fn get(set: &Arc<RuleSet>, uri: &str) -> Transaction {
    let mut tx = set.transaction();
    tx.process_connection("192.0.2.10", 51000, "192.0.2.1", 80);
    tx.process_uri(uri.as_bytes(), "GET", "HTTP/1.1");
    for (k, v) in [
        ("Host", "www.example.com"),
        (
            "User-Agent",
            "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
        ),
        (
            "Accept",
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
        ),
        ("Accept-Language", "en-US,en;q=0.5"),
        ("Accept-Encoding", "gzip, deflate, br"),
        ("Connection", "keep-alive"),
    ] {
        tx.add_request_header(k.as_bytes(), v.as_bytes());
    }
    tx.process_request_headers();
    tx.process_request_body();
    tx.process_logging();
    tx
}

#[test]
fn full_crs_benign_and_sqli() {
    let set = load("");
    assert!(
        set.rule_count() > 500,
        "only {} rules loaded",
        set.rule_count()
    );

    let benign = get(&set, "/index.html?page=2&sort=name");
    let ids: Vec<u64> = benign
        .matched_rules()
        .iter()
        .filter(|m| m.log)
        .map(|m| m.id)
        .collect();
    assert!(
        benign.interruption().is_none(),
        "benign GET blocked: {:?} ({ids:?})",
        benign.interruption()
    );
    assert!(
        ids.is_empty(),
        "benign GET matched {ids:?}: {:#?}",
        benign.log_lines()
    );

    let sqli = get(&set, "/?id=1%27%20OR%20%271%27%3D%271");
    let ids: Vec<u64> = sqli.matched_rules().iter().map(|m| m.id).collect();
    assert!(
        ids.contains(&942100),
        "942100 did not match the SQLi GET; matched {ids:?}"
    );
    let i = sqli.interruption().expect("SQLi GET was not blocked");
    assert_eq!((i.status, i.rule_id), (403, 949110));
    assert!(sqli
        .log_lines()
        .iter()
        .any(|l| l.contains("Inbound Anomaly Score Exceeded (Total Score: ")));
}
