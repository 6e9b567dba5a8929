//! Every kind of SecLang mistake is reported at the right `file:line` with the offending text,
//! and all errors of a file are collected at once.
#![cfg(test)]

use std::path::{Path, PathBuf};

use sekisho_seclang::{parse_file, parse_file_all, parse_str, parse_str_all, DirectiveKind};

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("sekisho-seclang-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The single error `text` produces, rendered.
fn error_of(text: &str) -> String {
    let (_, errors) = parse_str_all(text, Path::new("rules.conf"));
    assert_eq!(errors.len(), 1, "expected one error, got {errors:?}");
    errors[0].to_string()
}

const OK_RULE: &str = "SecRule ARGS \"@rx a\" \"id:1,phase:2,pass\"\n";

#[test]
fn unknown_directive() {
    let text = format!("{OK_RULE}\nSecRuleEngien On\n");
    assert_eq!(
        error_of(&text),
        "rules.conf:3: unknown directive `SecRuleEngien` (did you mean `SecRuleEngine`?)"
    );
}

#[test]
fn unknown_action_on_a_continued_line_reports_the_first_line() {
    let text =
        format!("{OK_RULE}SecRule ARGS \"@rx b\" \\\n    \"id:2,\\\n    phase:2,\\\n    blok\"\n");
    assert_eq!(
        error_of(&text),
        "rules.conf:2: SecRule: unknown action `blok` (did you mean `block`?)"
    );
}

#[test]
fn unknown_variable_and_operator() {
    assert_eq!(
        error_of("# c\nSecRule ARGS|REQEST_URI \"@rx a\" \"id:1,pass,phase:1\""),
        "rules.conf:2: SecRule: unknown variable `REQEST_URI` (did you mean `REQUEST_URI`?)"
    );
    assert_eq!(
        error_of("SecRule ARGS \"@detectSqli2\" \"id:1,pass,phase:1\""),
        "rules.conf:1: SecRule: unknown operator `@detectSqli2` (did you mean `@detectSQLi`?)"
    );
}

#[test]
fn unclosed_quote_shows_the_text() {
    let text = format!("{OK_RULE}SecRule ARGS \"@rx a\" \"id:2,pass\n");
    let message = error_of(&text);
    assert_eq!(
        message,
        "rules.conf:2: unclosed `\"` in `SecRule ARGS \"@rx a\" \"id:2,pass`"
    );
    // A long line is shortened in the message.
    let long = format!("SecRule ARGS \"@rx {}", "a".repeat(200));
    assert!(error_of(&long).ends_with("aaa…`"));
}

#[test]
fn dangling_chain() {
    let text = format!("{OK_RULE}SecRule ARGS \"@rx b\" \"id:2,phase:2,deny,chain\"\n");
    assert_eq!(
        error_of(&text),
        "rules.conf:2: rule has `chain` but no `SecRule` follows it"
    );
    let text =
        "SecRule ARGS \"@rx b\" \"id:2,phase:2,deny,chain\"\n  SecRule ARGS \"@rx c\" \"chain\"\n";
    assert_eq!(
        error_of(text),
        "rules.conf:2: rule has `chain` but no `SecRule` follows it"
    );
}

#[test]
fn chain_interrupted_by_another_directive() {
    let text = "SecRule ARGS \"@rx b\" \"id:2,phase:2,deny,chain\"\nSecMarker END\n";
    assert_eq!(
        error_of(text),
        "rules.conf:1: rule has `chain` but is followed by `SecMarker` instead of a `SecRule` (at rules.conf:2)"
    );
}

#[test]
fn chained_rule_rules() {
    let text = "SecRule ARGS \"@rx b\" \"id:2,phase:2,deny,chain\"\nSecRule ARGS \"@rx c\" \"id:3,pass\"\n";
    let (_, errors) = parse_str_all(text, Path::new("r.conf"));
    let messages: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        messages,
        vec![
            "r.conf:2: a chained rule cannot have `id`; it belongs on the chain starter",
            "r.conf:2: disruptive action `pass` is only allowed on the chain starter",
        ]
    );
}

#[test]
fn missing_and_duplicate_ids() {
    assert_eq!(
        error_of("SecAction \"phase:1,pass,nolog\""),
        "rules.conf:1: `SecAction` has no `id` action"
    );
    let text = format!("{OK_RULE}{OK_RULE}");
    assert_eq!(
        error_of(&text),
        "rules.conf:2: duplicate rule id `1` (first used at rules.conf:1)"
    );
}

#[test]
fn bad_settings() {
    assert_eq!(
        error_of("SecRequestBodyLimit 10MB"),
        "rules.conf:1: SecRequestBodyLimit: expected a non-negative whole number, got `10MB`"
    );
    assert_eq!(
        error_of("SecRuleEngine On Off"),
        "rules.conf:1: SecRuleEngine: expected 1 argument, got 2"
    );
    assert!(error_of("SecRemoteRules key https://example.com/r.conf").contains("not supported"));
    assert!(error_of("SecRuleEngine On # trailing comment").contains("expected 1 argument"));
    assert!(error_of("<IfModule security2_module>").contains("Apache containers"));
}

#[test]
fn all_errors_are_collected_and_good_directives_kept() {
    let text = "SecRuleEngine Maybe\nSecRule ARGS \"@rx a\" \"id:1,phase:2,pass\"\nSecFoo\nSecMarker X\nSecRule ARGS \"@eq\" \"id:2,phase:2,pass\"\n";
    let (directives, errors) = parse_str_all(text, Path::new("all.conf"));
    let lines: Vec<usize> = errors.iter().map(|e| e.span.line).collect();
    assert_eq!(lines, vec![1, 3, 5]);
    assert_eq!(directives.len(), 2);
    // The single-error API returns the first.
    let first = parse_str(text, Path::new("all.conf")).unwrap_err();
    assert_eq!(first.span.line, 1);
}

#[test]
fn include_resolves_relative_and_glob_in_order() {
    let dir = TempDir::new("include");
    dir.write(
        "rules/b.conf",
        "SecRule ARGS \"@rx b\" \"id:2,phase:2,pass\"\n",
    );
    dir.write(
        "rules/a.conf",
        "SecRule ARGS \"@rx a\" \"id:1,phase:2,pass\"\n",
    );
    dir.write("rules/skip.txt", "not rules\n");
    dir.write("setup.conf", "SecRuleEngine DetectionOnly\n");
    let main = dir.write(
        "main.conf",
        "Include setup.conf\nInclude \"rules/*.conf\"\nInclude none/*.conf\nSecMarker END\n",
    );
    let directives = parse_file(&main).unwrap();
    let names: Vec<String> = directives
        .iter()
        .map(|d| {
            format!(
                "{}:{}",
                d.span.file.file_name().unwrap().to_string_lossy(),
                d.span.line
            )
        })
        .collect();
    assert_eq!(
        names,
        vec!["setup.conf:1", "a.conf:1", "b.conf:1", "main.conf:4"]
    );
    assert!(matches!(directives[0].kind, DirectiveKind::RuleEngine(_)));
}

#[test]
fn include_errors_point_at_the_include_line() {
    let dir = TempDir::new("include-errors");
    let main = dir.write("main.conf", "# rules\nInclude missing.conf\n");
    let (_, errors) = parse_file_all(&main);
    assert_eq!(errors.len(), 1);
    let message = errors[0].to_string();
    assert!(
        message.starts_with(&format!("{}:2: cannot read `", main.display())),
        "{message}"
    );
    assert!(message.contains("missing.conf"), "{message}");

    std::fs::create_dir_all(dir.0.join("sub")).unwrap();
    let with_dir = dir.write("dir.conf", "Include sub\n");
    let err = parse_file(&with_dir).unwrap_err();
    assert!(
        err.to_string()
            .contains("is a directory; include its files with a glob"),
        "{err}"
    );

    let bad_glob = dir.write("glob.conf", "\nInclude \"rules/[*.conf\"\n");
    let err = parse_file(&bad_glob).unwrap_err();
    assert!(
        err.to_string()
            .contains(":2: bad include pattern `rules/[*.conf`"),
        "{err}"
    );

    let cycle = dir.write("cycle.conf", "Include cycle.conf\n");
    let (_, errors) = parse_file_all(&cycle);
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0].to_string().contains("include cycle"),
        "{}",
        errors[0]
    );

    // An error inside an included file names that file and its line.
    dir.write("bad.conf", "\n\nSecFoo bar\n");
    let outer = dir.write("outer.conf", "Include bad.conf\n");
    let err = parse_file(&outer).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{}:3: unknown directive `SecFoo`",
            dir.0.join("bad.conf").display()
        )
    );
}

#[test]
fn missing_top_level_file_and_bad_utf8() {
    let dir = TempDir::new("files");
    let err = parse_file(&dir.0.join("nope.conf")).unwrap_err();
    assert!(err.to_string().contains("nope.conf: cannot read"), "{err}");
    let path = dir.0.join("latin1.conf");
    std::fs::write(&path, b"SecMarker A\nSecMarker caf\xe9\n").unwrap();
    let err = parse_file(&path).unwrap_err();
    assert_eq!(err.span.line, 2);
    assert!(err.message.contains("not valid UTF-8"), "{err}");
}
