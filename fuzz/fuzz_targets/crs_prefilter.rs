//! Runs an arbitrary request through the full CRS (from `../shared/crs`, or `CRS_DIR`) at
//! paranoia level 4 (or `CRS_PL`), once as loaded and once with every rule evaluated (no
//! prefilter, no folding), and requires the same matched rules from both: the prefilter may
//! only skip rules that cannot match, and folding only rules the configuration decides.
//!
//! Input: the first line is the path and query (a `/` is put in front), each further line with
//! a `:` is a header, the other lines are the URL-encoded body.
#![no_main]

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use libfuzzer_sys::fuzz_target;
use sekisho_waf::RuleSet;

const SETUP: &str = r#"SecRuleEngine DetectionOnly
SecRequestBodyAccess On
SecResponseBodyAccess On
SecResponseBodyMimeType text/plain text/html
SecRule REQUEST_HEADERS:Content-Type "@rx ^application/json" "id:200001,phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=JSON"
SecAction "id:900000,phase:1,pass,t:none,nolog,setvar:tx.blocking_paranoia_level=PL"
"#;

/// The CRS as loaded, and with every rule evaluated, once per process.
fn rule_sets() -> &'static (Arc<RuleSet>, Arc<RuleSet>) {
    static SETS: OnceLock<(Arc<RuleSet>, Arc<RuleSet>)> = OnceLock::new();
    SETS.get_or_init(|| {
        let crs = std::env::var("CRS_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/crs"));
        let mut rules: Vec<PathBuf> = std::fs::read_dir(crs.join("rules"))
            .unwrap_or_else(|e| panic!("missing CRS rules in `{}`: {e}", crs.display()))
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "conf"))
            .collect();
        rules.sort();
        let pl: u8 = std::env::var("CRS_PL")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(4);
        let load = || {
            let mut b = RuleSet::builder()
                .add_str(&SETUP.replace("=PL", &format!("={pl}")), "fuzz-setup.conf")
                .add_file(crs.join("crs-setup.conf.example"));
            for f in &rules {
                b = b.add_file(f);
            }
            b.build()
                .unwrap_or_else(|e| panic!("CRS failed to load: {e}"))
        };
        (
            Arc::new(load()),
            Arc::new(load().without_prefilter().without_folding()),
        )
    })
}

/// The ids of the rules the request matches.
fn matched(rules: &Arc<RuleSet>, data: &[u8]) -> Vec<u64> {
    let mut lines = data.split(|&b| b == b'\n');
    let target = [b"/".as_slice(), lines.next().unwrap_or_default()].concat();
    let mut tx = rules.transaction();
    tx.process_connection("127.0.0.1", 40000, "127.0.0.1", 80);
    tx.process_uri(&target, "POST", "HTTP/1.1");
    tx.add_request_header(b"Host", b"localhost");
    let mut body = Vec::new();
    for line in lines {
        match line.iter().position(|&b| b == b':') {
            Some(i) => tx.add_request_header(&line[..i], &line[i + 1..]),
            None => {
                body.extend_from_slice(line);
                body.push(b'&');
            }
        }
    }
    tx.add_request_header(b"Content-Type", b"application/x-www-form-urlencoded");
    tx.process_request_headers();
    tx.append_request_body(&body);
    tx.process_request_body();
    tx.add_response_header(b"Content-Type", b"text/html");
    tx.process_response_headers(200, "HTTP/1.1");
    tx.append_response_body(&data[..data.len().min(256)]);
    tx.process_response_body();
    tx.process_logging();
    tx.matched_rules().iter().map(|m| m.id).collect()
}

fuzz_target!(|data: &[u8]| {
    let (with, without) = rule_sets();
    assert_eq!(
        matched(with, data),
        matched(without, data),
        "the prefilter or folding changed a verdict"
    );
});
