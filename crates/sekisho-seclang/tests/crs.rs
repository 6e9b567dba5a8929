//! The OWASP CRS v4 rule files (read from `../shared/crs`, never copied) parse without a single
//! error, and what they say comes out of the AST intact.

#![cfg(test)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use sekisho_seclang::{
    parse_file, parse_file_all, Directive, DirectiveKind, IdRange, Rule, VariableKey, VariableSpec,
};

fn crs_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/crs");
    assert!(
        dir.join("rules").is_dir(),
        "the OWASP CRS is missing: expected its rules in {} (see HELPERS.md)",
        dir.join("rules").display()
    );
    dir
}

/// Every CRS rule file plus `crs-setup.conf.example`, sorted.
fn crs_files() -> Vec<PathBuf> {
    let dir = crs_dir();
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join("rules"))
        .expect("read the CRS rules dir")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "conf"))
        .collect();
    files.sort();
    files.push(dir.join("crs-setup.conf.example"));
    files
}

fn rules(directives: &[Directive]) -> impl Iterator<Item = &Rule> {
    directives.iter().filter_map(|d| match &d.kind {
        DirectiveKind::Rule(r) | DirectiveKind::Action(r) => Some(r),
        _ => None,
    })
}

fn rule_by_id(directives: &[Directive], id: u64) -> &Rule {
    rules(directives)
        .find(|r| r.id() == Some(id))
        .unwrap_or_else(|| panic!("rule {id} not found"))
}

/// All CRS rules, read through one `Include` of an absolute glob (as a user's main file does).
fn load_all_crs() -> Vec<Directive> {
    let dir = crs_dir();
    // Tests run in parallel: each call gets its own main file.
    static CALLS: AtomicUsize = AtomicUsize::new(0);
    let call = CALLS.fetch_add(1, Ordering::Relaxed);
    let main = std::env::temp_dir().join(format!(
        "sekisho-seclang-crs-{}-{call}.conf",
        std::process::id()
    ));
    let text = format!(
        "Include {}\nInclude \"{}/rules/*.conf\"\n",
        dir.join("crs-setup.conf.example").display(),
        dir.display()
    );
    std::fs::write(&main, text).expect("write the main config");
    let parsed = parse_file(&main);
    std::fs::remove_file(&main).expect("remove the main config");
    parsed.unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn every_crs_file_parses_without_errors() {
    let mut all_errors = Vec::new();
    for file in crs_files() {
        let (directives, errors) = parse_file_all(&file);
        all_errors.extend(errors.iter().map(ToString::to_string));
        // Every `SecRule` line in the file is exactly one rule in the AST (starter or chained).
        let text = std::fs::read_to_string(&file).expect("read a CRS file");
        let secrule_lines = text
            .lines()
            .filter(|l| l.trim_start().starts_with("SecRule "))
            .count();
        let parsed_rules: usize = rules(&directives)
            .flat_map(Rule::chain_iter)
            .filter(|r| !r.variables.is_empty())
            .count();
        assert_eq!(
            parsed_rules,
            secrule_lines,
            "rule count in {}",
            file.display()
        );
        let chain_actions: usize = text
            .lines()
            .filter(|l| !l.trim_start().starts_with('#'))
            .map(|l| {
                l.split([',', '"', '\\'])
                    .filter(|token| token.trim() == "chain")
                    .count()
            })
            .sum();
        let chained: usize = rules(&directives).map(|r| r.chain_iter().count() - 1).sum();
        assert_eq!(
            chained,
            chain_actions,
            "chained rules in {}",
            file.display()
        );
    }
    assert!(
        all_errors.is_empty(),
        "CRS parse errors:\n{}",
        all_errors.join("\n")
    );
}

#[test]
fn whole_crs_through_include_glob() {
    let directives = load_all_crs();
    let starters = rules(&directives).count();
    let total: usize = rules(&directives).map(|r| r.chain_iter().count()).sum();
    // CRS v4.28: 753 `SecRule` lines of which 73 are chained.
    assert!(starters > 600, "only {starters} rules");
    assert_eq!(total - starters, 73, "chained rules");
    let first = directives.first().expect("some directives");
    assert!(
        first.span.file.ends_with("crs-setup.conf.example"),
        "crs-setup comes first: {}",
        first.span
    );
    let markers = directives
        .iter()
        .filter(|d| matches!(d.kind, DirectiveKind::Marker(_)))
        .count();
    assert_eq!(markers, 30);
}

#[test]
fn spot_checks() {
    let directives = load_all_crs();

    let sqli = rule_by_id(&directives, 942_100);
    assert_eq!(sqli.operator.name, "detectsqli");
    assert_eq!(sqli.operator.arg, "");
    assert!(!sqli.operator.negated);
    assert_eq!(sqli.phase(), Some(2));
    assert!(sqli
        .span
        .file
        .ends_with("REQUEST-942-APPLICATION-ATTACK-SQLI.conf"));

    // 920180: a four-rule chain, each level attached to the previous one.
    let r = rule_by_id(&directives, 920_180);
    let chain: Vec<&Rule> = r.chain_iter().collect();
    assert_eq!(chain.len(), 4);
    assert_eq!(chain[0].operator.name, "within");
    assert!(chain[0].operator.negated);
    assert_eq!(chain[0].operator.arg, "HTTP/2 HTTP/2.0 HTTP/3 HTTP/3.0");
    assert_eq!(chain[1].operator.name, "streq");
    assert_eq!(chain[1].operator.arg, "POST");
    let count_cl = &chain[2].variables[0];
    assert!(count_cl.count);
    assert_eq!(count_cl.name, "REQUEST_HEADERS");
    assert_eq!(
        count_cl.key,
        Some(VariableKey::Literal("Content-Length".into()))
    );
    assert_eq!(chain[3].span.line, chain[0].span.line + 22);
    assert!(chain[3].chain.is_none());

    // 920100: negated regex, actions in order with quotes removed.
    let r = rule_by_id(&directives, 920_100);
    assert!(r.operator.negated);
    assert!(r
        .operator
        .arg
        .starts_with(r"(?i)^(?:connect (?:(?:[0-9]{1,3}\.){3}"));
    let msg = r.action("msg").and_then(|a| a.value.as_deref());
    assert_eq!(msg, Some("Invalid HTTP Request Line"));
    let last = r.actions.last().expect("actions");
    assert_eq!(last.name, "setvar");
    assert_eq!(
        last.value.as_deref(),
        Some("tx.inbound_anomaly_score_pl1=+%{tx.warning_anomaly_score}")
    );

    // Cookie exclusions in REQUEST-999: regex and literal targets.
    let updates: Vec<_> = directives
        .iter()
        .filter_map(|d| match &d.kind {
            DirectiveKind::RuleUpdateTargetById {
                ids,
                targets,
                replace,
            } => Some((ids, targets, replace)),
            _ => None,
        })
        .collect();
    assert_eq!(updates.len(), 55);
    let (ids, targets, replace) = updates[0];
    assert_eq!(
        ids,
        &vec![IdRange {
            start: 932_240,
            end: 932_240
        }]
    );
    assert_eq!(
        targets,
        &vec![VariableSpec {
            negated: true,
            count: false,
            name: "REQUEST_COOKIES".into(),
            key: Some(VariableKey::Regex(r"^_ga(?:_\w+)?$".into())),
        }]
    );
    assert!(replace.is_none());
    assert!(updates
        .iter()
        .any(|(_, t, _)| t[0].key == Some(VariableKey::Literal("__gads".into()))));

    // XPath keys stay literal.
    let xss = rule_by_id(&directives, 941_100);
    let xml: Vec<_> = xss.variables.iter().filter(|v| v.name == "XML").collect();
    assert_eq!(xml.len(), 2);
    assert_eq!(xml[0].key, Some(VariableKey::Literal("/*".into())));
}

/// Every single-line `"@rx …"` operator in CRS comes out byte-for-byte as written, apart from
/// the `\"` quote escape.
#[test]
fn regexes_are_byte_for_byte() {
    let mut checked = 0;
    for file in crs_files() {
        let directives = parse_file(&file).unwrap_or_else(|e| panic!("{e}"));
        let text = std::fs::read_to_string(&file).expect("read a CRS file");
        for (index, line) in text.lines().enumerate() {
            let trimmed = line.trim_start();
            if !trimmed.starts_with("SecRule ") || !trimmed.ends_with("\" \\") {
                continue;
            }
            let Some(start) = trimmed.find("\"@rx ").or_else(|| trimmed.find("\"!@rx ")) else {
                continue;
            };
            let written = &trimmed[start + 1..trimmed.len() - 3];
            let expected = written
                .split_once("@rx ")
                .expect("@rx")
                .1
                .replace("\\\"", "\"");
            let rule = rules(&directives)
                .flat_map(Rule::chain_iter)
                .find(|r| r.span.line == index + 1)
                .unwrap_or_else(|| panic!("no rule at {}:{}", file.display(), index + 1));
            assert_eq!(rule.operator.name, "rx");
            assert_eq!(
                rule.operator.arg,
                expected,
                "{}:{}",
                file.display(),
                index + 1
            );
            checked += 1;
        }
    }
    assert!(checked > 250, "only {checked} regexes checked");
}
