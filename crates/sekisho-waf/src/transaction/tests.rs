//! Engine semantics on tiny rule sets: chains, skips, setvar, macros, counting,
//! exclusions, regex keys, ctl, load-time removes/updates, engine modes, allow.

use crate::{Disruptive, RuleSet, Transaction};
use std::path::Path;
use std::sync::Arc;

fn set(rules: &str) -> Arc<RuleSet> {
    let text = format!("SecRuleEngine On\n{rules}\n");
    Arc::new(RuleSet::from_str(&text, Path::new("test.conf")).unwrap_or_else(|e| panic!("{e}")))
}

fn run_on(set: &Arc<RuleSet>, uri: &str, headers: &[(&str, &str)]) -> Transaction {
    let mut tx = set.transaction();
    tx.process_connection("10.0.0.1", 5555, "10.0.0.2", 80);
    tx.process_uri(uri.as_bytes(), "GET", "HTTP/1.1");
    for (k, v) in headers {
        tx.add_request_header(k.as_bytes(), v.as_bytes());
    }
    tx.process_request_headers();
    tx.process_request_body();
    tx
}

fn run(rules: &str, uri: &str) -> Transaction {
    run_on(
        &set(rules),
        uri,
        &[("Host", "example.com"), ("User-Agent", "test")],
    )
}

fn ids(tx: &Transaction) -> Vec<u64> {
    tx.matched_rules().iter().map(|m| m.id).collect()
}

#[test]
fn chain_needs_every_link_and_setvars_run_per_matched_link() {
    let rules = r#"
SecRule ARGS:a "@streq 1" "id:1,phase:1,pass,setvar:tx.s1=1,chain"
    SecRule ARGS:b "@streq 2" "setvar:tx.s2=1"
"#;
    let tx = run(rules, "/?a=1&b=2");
    assert_eq!(ids(&tx), vec![1]);
    assert_eq!(tx.tx_var("s1").as_deref(), Some("1"));
    assert_eq!(tx.tx_var("s2").as_deref(), Some("1"));
    // ModSecurity v3: a link's setvars run once that link matched, even if a later link fails.
    let tx = run(rules, "/?a=1&b=3");
    assert!(ids(&tx).is_empty());
    assert_eq!(tx.tx_var("s1").as_deref(), Some("1"));
    assert_eq!(tx.tx_var("s2"), None);
}

#[test]
fn skip_after_marker_and_skip_count() {
    let rules = r#"
SecAction "id:1,phase:1,pass,nolog,skipAfter:END"
SecAction "id:2,phase:1,pass,nolog"
SecMarker END
SecAction "id:3,phase:1,pass,nolog,skip:1"
SecAction "id:4,phase:1,pass,nolog"
SecAction "id:5,phase:1,pass,nolog"
"#;
    assert_eq!(ids(&run(rules, "/")), vec![1, 3, 5]);
}

#[test]
fn setvar_arithmetic_delete_and_macro_names() {
    let rules = r#"
SecAction "id:1,phase:1,pass,nolog,setvar:tx.score=5,setvar:tx.score=+3,setvar:tx.score=-1,setvar:tx.name=x"
SecAction "id:2,phase:1,pass,nolog,setvar:'tx.%{tx.name}_v=%{tx.score}',setvar:!tx.name"
"#;
    let tx = run(rules, "/");
    assert_eq!(tx.tx_var("score").as_deref(), Some("7"));
    assert_eq!(tx.tx_var("x_v").as_deref(), Some("7"));
    assert_eq!(tx.tx_var("name"), None);
}

#[test]
fn msg_and_logdata_macros() {
    let rules = r#"
SecRule ARGS "@contains evil" "id:1,phase:1,pass,log,msg:'found %{MATCHED_VAR_NAME}',logdata:'Matched Data: %{MATCHED_VAR} in %{RULE.id}'"
"#;
    let tx = run(rules, "/?q=an+evil+one");
    let m = tx.matched_rules().get(0).expect("a matched rule");
    assert_eq!(m.msg, "found ARGS:q");
    assert_eq!(m.logdata, "Matched Data: an evil one in 1");
    assert_eq!(m.matched_var_name, "ARGS:q");
}

#[test]
fn counting_variables() {
    let rules = r#"
SecRule &ARGS "@eq 2" "id:1,phase:1,pass,nolog"
SecRule &REQUEST_HEADERS:X-Missing "@eq 0" "id:2,phase:1,pass,nolog"
SecRule &TX:nothing "@eq 0" "id:3,phase:1,pass,nolog"
SecRule &ARGS:a "@eq 1" "id:4,phase:1,pass,nolog"
"#;
    assert_eq!(ids(&run(rules, "/?a=1&b=2")), vec![1, 2, 3, 4]);
}

#[test]
fn exclusions_and_regex_keys() {
    let rules = r#"
SecRule ARGS|!ARGS:safe "@contains x" "id:1,phase:1,pass,nolog"
SecRule ARGS:/^id_/ "@contains y" "id:2,phase:1,pass,nolog"
SecRule REQUEST_HEADERS:user-agent "@streq test" "id:3,phase:1,pass,nolog"
"#;
    assert_eq!(ids(&run(rules, "/?safe=x&id_1=y")), vec![2, 3]);
    assert_eq!(ids(&run(rules, "/?other=x&name=y")), vec![1, 3]);
}

#[test]
fn capture_fills_tx_groups() {
    let rules = r#"
SecRule ARGS:a "@rx ^(\w+)-(\d+)$" "id:1,phase:1,pass,nolog,capture,setvar:tx.word=%{TX.1},setvar:tx.num=%{tx.2}"
"#;
    let tx = run(rules, "/?a=abc-42");
    assert_eq!(tx.tx_var("word").as_deref(), Some("abc"));
    assert_eq!(tx.tx_var("num").as_deref(), Some("42"));
}

#[test]
fn deny_interrupts_with_status_and_block_follows_default_action() {
    let tx = run(
        r#"SecRule ARGS "@contains bad" "id:1,phase:1,deny,status:406""#,
        "/?q=bad",
    );
    let i = tx.interruption().unwrap();
    assert_eq!((i.status, i.rule_id, i.phase), (406, 1, 1));
    assert_eq!(i.action, Disruptive::Deny);

    let rules = r#"
SecDefaultAction "phase:1,log,auditlog,deny,status:403"
SecRule ARGS "@contains bad" "id:1,phase:1,block"
SecAction "id:2,phase:1,pass,nolog"
"#;
    let tx = run(rules, "/?q=bad");
    assert_eq!(tx.interruption().map(|i| i.status), Some(403));
    assert_eq!(ids(&tx), vec![1]);

    let rules = r#"
SecDefaultAction "phase:1,log,auditlog,pass"
SecRule ARGS "@contains bad" "id:1,phase:1,block"
"#;
    assert!(run(rules, "/?q=bad").interruption().is_none());
}

#[test]
fn detection_only_never_interrupts() {
    let rules = r#"
SecRuleEngine DetectionOnly
SecRule ARGS "@contains bad" "id:1,phase:1,deny"
SecAction "id:2,phase:1,pass,nolog"
"#;
    let tx = run(rules, "/?q=bad");
    assert!(tx.interruption().is_none());
    assert_eq!(ids(&tx), vec![1, 2]);
    assert!(tx.matched_rules().get(0).is_some_and(|m| m.disruptive));
}

#[test]
fn ctl_rule_engine_and_removals() {
    let rules = r#"
SecAction "id:1,phase:1,pass,nolog,ctl:ruleRemoveById=3,ctl:ruleRemoveTargetById=4;ARGS:a,ctl:ruleRemoveByTag=t1"
SecAction "id:2,phase:1,pass,nolog,tag:t1"
SecAction "id:3,phase:1,pass,nolog"
SecRule ARGS "@contains x" "id:4,phase:1,pass,nolog"
SecRule ARGS "@contains x" "id:5,phase:1,deny"
"#;
    let tx = run(rules, "/?a=x");
    assert_eq!(ids(&tx), vec![1, 5]);
    let tx = run(
        &format!("SecAction \"id:9,phase:1,pass,nolog,ctl:ruleEngine=DetectionOnly\"\n{rules}"),
        "/?a=x",
    );
    assert!(tx.interruption().is_none());
}

#[test]
fn load_time_removes_and_updates() {
    let rules = r#"
SecRule ARGS "@contains x" "id:1,phase:1,pass,nolog"
SecRule ARGS "@contains x" "id:2,phase:1,pass,nolog,tag:foo"
SecRule ARGS "@contains x" "id:3,phase:1,pass,nolog"
SecRule ARGS "@contains x" "id:4,phase:1,pass,nolog"
SecRuleRemoveById 1
SecRuleRemoveByTag foo
SecRuleUpdateTargetById 3 "!ARGS:a"
SecRuleUpdateActionById 4 "deny,status:418"
"#;
    let tx = run(rules, "/?a=x");
    assert_eq!(ids(&tx), vec![4]);
    assert_eq!(tx.interruption().map(|i| i.status), Some(418));
}

#[test]
fn allow_skips_the_rest() {
    let rules = r#"
SecRule REQUEST_FILENAME "@streq /health" "id:1,phase:1,allow,nolog"
SecAction "id:2,phase:1,deny"
SecAction "id:3,phase:2,deny"
"#;
    let tx = run(rules, "/health");
    assert_eq!(ids(&tx), vec![1]);
    assert!(tx.interruption().is_none());
    let rules = r#"
SecRule REQUEST_FILENAME "@streq /health" "id:1,phase:1,allow:phase,nolog"
SecAction "id:2,phase:1,deny"
SecAction "id:3,phase:2,deny"
"#;
    let tx = run(rules, "/health");
    assert_eq!(ids(&tx), vec![1, 3]);
}

#[test]
fn t_none_resets_default_transformations() {
    let rules = r#"
SecDefaultAction "phase:1,log,pass,t:lowercase"
SecRule ARGS:a "@streq abc" "id:1,phase:1,pass,nolog"
SecRule ARGS:a "@streq abc" "id:2,phase:1,pass,nolog,t:none"
"#;
    assert_eq!(ids(&run(rules, "/?a=ABC")), vec![1]);
}

#[test]
fn operator_argument_macros_are_expanded() {
    let rules = r#"
SecAction "id:1,phase:1,pass,nolog,setvar:tx.limit=3"
SecRule &ARGS "@ge %{tx.limit}" "id:2,phase:1,pass,nolog"
"#;
    assert_eq!(ids(&run(rules, "/?a=1&b=2&c=3")), vec![1, 2]);
    assert_eq!(ids(&run(rules, "/?a=1")), vec![1]);
}

#[test]
fn multi_match_tests_every_stage() {
    let rules = r#"
SecRule ARGS:a "@streq ABC" "id:1,phase:1,pass,nolog,t:lowercase"
SecRule ARGS:a "@streq ABC" "id:2,phase:1,pass,nolog,t:lowercase,multiMatch"
"#;
    assert_eq!(ids(&run(rules, "/?a=ABC")), vec![2]);
    // Stages a value's bytes leave alone are skipped, not the ones after: `abc` holds no
    // `%` (urlDecodeUni) but upper case (lowercase), and `%41bc` both.
    let rules = r#"
SecRule ARGS "@streq abc" "id:3,phase:1,pass,nolog,t:urlDecodeUni,t:lowercase,multiMatch,setvar:tx.n=+1"
SecRule ARGS "@streq Abc" "id:4,phase:1,pass,nolog,t:urlDecodeUni,t:lowercase,multiMatch"
"#;
    assert_eq!(ids(&run(rules, "/?a=ABC")), vec![3]);
    assert_eq!(ids(&run(rules, "/?a=%41bc")), vec![3, 4]);
    assert_eq!(
        run(rules, "/?a=abc&b=%61bc").tx_var("n").as_deref(),
        Some("2")
    );
}

#[test]
fn log_line_has_modsecurity_shape() {
    let rules = r#"
SecRule ARGS "@contains evil" "id:942999,phase:1,pass,log,msg:'Bad',logdata:'Matched Data: %{MATCHED_VAR} found within %{MATCHED_VAR_NAME}',severity:CRITICAL,tag:a,ver:'v1'"
"#;
    let tx = run(rules, "/?x=evil");
    let lines = tx.log_lines();
    assert_eq!(lines.len(), 1);
    let l = &lines[0];
    assert!(l.starts_with("ModSecurity: Warning. Matched \"Operator `Contains' with parameter `evil' against variable `ARGS:x' (Value: `evil' )"), "{l}");
    for part in [
        "[id \"942999\"]",
        "[msg \"Bad\"]",
        "found within ARGS:x",
        "[severity \"2\"]",
        "[tag \"a\"]",
        "[ver \"v1\"]",
        "[uri \"/?x=evil\"]",
    ] {
        assert!(l.contains(part), "{part} missing in {l}");
    }
}

#[test]
fn load_errors_carry_file_and_line() {
    let e = RuleSet::from_str(
        "SecRule ARGS \"@contains x\" \"id:1,phase:1,pass,bogus\"\nSecAction \"phase:1,pass\"\n",
        Path::new("x.conf"),
    )
    .unwrap_err();
    let text = e.to_string();
    assert!(
        text.contains("x.conf:1: ") && text.contains("unknown action `bogus`"),
        "{text}"
    );
    assert!(
        text.contains("x.conf:2: ") && text.contains("no `id` action"),
        "{text}"
    );
    assert_eq!(
        text.lines().filter(|l| l.starts_with("x.conf:2:")).count(),
        1,
        "{text}"
    );
}

#[test]
fn unsupported_actions_are_load_errors() {
    let e = RuleSet::from_str(
        "SecAction \"id:1,phase:1,pass,exec:/bin/true\"\n",
        Path::new("x.conf"),
    )
    .unwrap_err();
    assert!(e.to_string().contains("unsupported action `exec`"), "{e}");
}

fn post(set: &Arc<RuleSet>, content_type: &str, body: &[u8]) -> Transaction {
    let mut tx = set.transaction();
    tx.process_uri(b"/p?g=1", "POST", "HTTP/1.1");
    tx.add_request_header(b"Host", b"example.com");
    tx.add_request_header(b"Content-Type", content_type.as_bytes());
    tx.process_request_headers();
    tx.append_request_body(body);
    tx.process_request_body();
    tx
}

#[test]
fn arguments_limit_caps_args_and_flags_the_body() {
    let s = set(r#"SecRequestBodyAccess On
SecArgumentsLimit 3
SecRule &ARGS "@eq 3" "id:1,phase:2,pass"
SecRule REQBODY_ERROR "@eq 1" "id:2,phase:2,pass"
SecRule ARGS:d "@rx ." "id:3,phase:2,pass""#);
    let tx = post(&s, "application/x-www-form-urlencoded", b"a=1&b=2&c=3&d=4");
    assert_eq!(ids(&tx), vec![1, 2]);
    let tx = post(&s, "application/x-www-form-urlencoded", b"a=1");
    assert!(ids(&tx).is_empty());
}

#[test]
fn no_files_limit_rejects_plain_bodies_only() {
    let s = set(
        "SecRequestBodyAccess On\nSecRequestBodyNoFilesLimit 8\nSecRequestBodyLimitAction Reject",
    );
    let tx = post(&s, "application/x-www-form-urlencoded", b"a=123456789");
    assert_eq!(tx.interruption().map(|i| i.status), Some(413));
    let tx = post(&s, "application/x-www-form-urlencoded", b"a=1");
    assert!(tx.interruption().is_none());
    let body = b"--b\r\nContent-Disposition: form-data; name=\"f\"; filename=\"x\"\r\n\r\n0123456789\r\n--b--\r\n";
    let tx = post(&s, "multipart/form-data; boundary=b", body);
    assert!(tx.interruption().is_none());
}

#[test]
fn upload_file_limit_sets_the_flag() {
    let s = set(r#"SecRequestBodyAccess On
SecUploadFileLimit 1
SecRule MULTIPART_FILE_LIMIT_EXCEEDED "@eq 1" "id:1,phase:2,pass"
SecRule MULTIPART_FILENAME "@streq y" "id:2,phase:2,pass""#);
    let body = b"--b\r\nContent-Disposition: form-data; name=\"f\"; filename=\"x\"\r\n\r\n1\r\n--b\r\nContent-Disposition: form-data; name=\"g\"; filename=\"y\"\r\n\r\n2\r\n--b--\r\n";
    let tx = post(&s, "multipart/form-data; boundary=b", body);
    assert_eq!(ids(&tx), vec![1, 2]);
}

#[test]
fn webappid_sessionid_userid() {
    let s = set(r#"SecWebAppId shop
SecAction "id:1,phase:1,pass,nolog,setsid:s-1,setuid:u-1"
SecRule WEBAPPID "@streq shop" "id:2,phase:1,pass"
SecRule SESSIONID "@streq s-1" "id:3,phase:1,pass"
SecRule USERID "@streq u-1" "id:4,phase:1,pass"
SecRule MSC_PCRE_LIMITS_EXCEEDED "@eq 0" "id:5,phase:1,pass""#);
    let tx = run_on(&s, "/", &[("Host", "x")]);
    assert_eq!(ids(&tx), vec![1, 2, 3, 4, 5]);
}

#[test]
fn xml_targets_evaluate_their_xpath() {
    let rules = r#"
SecRequestBodyAccess On
SecRule REQUEST_HEADERS:Content-Type "@contains xml" "id:1,phase:1,pass,nolog,ctl:requestBodyProcessor=XML"
SecRule XML:/order/item/@sku "@streq B-2" "id:10,phase:2,pass,log"
SecRule XML://Note "@contains urgent" "id:11,phase:2,pass,log"
SecRule XML://note "@contains urgent" "id:12,phase:2,pass,log"
SecRule XML:/* "@contains A-1" "id:13,phase:2,pass,log"
SecRule XML://@* "@streq B-2" "id:14,phase:2,pass,log"
SecRule XML:/order/item "@streq second" "id:15,phase:2,pass,log"
"#;
    let set = set(rules);
    let mut tx = set.transaction();
    tx.process_connection("10.0.0.1", 5555, "10.0.0.2", 80);
    tx.process_uri(b"/orders", "POST", "HTTP/1.1");
    tx.add_request_header(b"Host", b"example.com");
    tx.add_request_header(b"Content-Type", b"application/xml");
    tx.process_request_headers();
    let body = br#"<order><item sku="A-1">first</item><item sku="B-2">second</item><Note>urgent</Note></order>"#;
    tx.append_request_body(body);
    tx.process_request_body();
    // Attribute and element paths select just their nodes; element names keep their case.
    assert_eq!(ids(&tx), vec![1, 10, 11, 14, 15]);
}

#[test]
fn xml_xpath_outside_the_subset_is_a_load_error() {
    let text = "SecRuleEngine On\nSecRule XML://item[1] \"@rx x\" \"id:1,phase:2,deny\"\n";
    let err = RuleSet::from_str(text, Path::new("x.conf"))
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.contains("x.conf:2"), "{err}");
    assert!(err.contains("XML://item[1]"), "{err}");
}

#[test]
fn recycled_buffers_carry_nothing_between_transactions() {
    // Transactions of one rule set reuse each other's emptied caches: an attack, then a
    // benign request, then the attack again must each be judged on their own.
    let set = set(r#"
SecRule ARGS "@rx (?i)union\s+select" "id:1,phase:1,pass,log,t:none,t:urlDecodeUni,t:lowercase"
SecRule ARGS "@pm /etc/passwd" "id:2,phase:1,pass,log,t:none,t:normalizePath"
"#);
    let host = [("Host", "example.com")];
    for _ in 0..3 {
        let tx = run_on(&set, "/?q=1%20UNION%20SELECT%202", &host);
        assert_eq!(ids(&tx), vec![1]);
        drop(tx);
        let tx = run_on(&set, "/?q=1%20union%20all", &host);
        assert!(ids(&tx).is_empty());
        drop(tx);
        let tx = run_on(&set, "/?f=/tmp/../etc/passwd", &host);
        assert_eq!(ids(&tx), vec![2]);
    }
}

/// A transformation that may change any value changes an empty one too: `t:length` turns ""
/// into "0", and the shortcut for values without trigger bytes must not skip it.
#[test]
fn transformations_of_empty_values() {
    let rules = r#"
SecRule ARGS "@streq 0" "id:1,phase:2,pass,t:none,t:length"
SecRule ARGS "@streq d41d8cd98f00b204e9800998ecf8427e" "id:2,phase:2,pass,t:none,t:md5,t:hexEncode"
"#;
    assert_eq!(ids(&run(rules, "/?a=")), vec![1, 2]);
    assert!(ids(&run(rules, "/?a=x")).is_empty());
}
