//! Validation: the example file is valid, and each kind of mistake is reported with its
//! line and the offending value.

use sekisho_config::{load, parse, Action, LbPolicy, PathMatch};
use std::path::Path;

fn errors(text: &str) -> Vec<String> {
    match parse(text, Path::new("t.toml")) {
        Ok(_) => vec![],
        Err(e) => e.0.iter().map(|e| e.to_string()).collect(),
    }
}

#[test]
fn example_file_is_valid() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/sekisho.toml");
    let c = load(&path).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(c.routes.len(), 5);
    assert!(matches!(
        c.routes[0].action,
        Action::Respond { status: 200, .. }
    ));
    assert!(matches!(c.routes[2].path, PathMatch::Regex(_)));
    assert_eq!(c.clusters[0].lb, LbPolicy::LeastRequest);
    assert_eq!(c.server.trusted_proxies.len(), 2);
}

#[test]
fn every_error_has_file_line_and_value() {
    let text = r#"
[[listeners]]
listen = "127.0.0.1:notaport"

[[routes]]
path_regex = "(unclosed"
cluster = "api"

[[routes]]
path_prefix = "/x"
cluster = "missing"

[[clusters]]
name = "api"
endpoints = ["127.0.0.1:1"]
connect_timeout = "5 parsecs"
lb = "random"
"#;
    let e = errors(text);
    assert_eq!(e.len(), 5, "{e:#?}");
    assert!(
        e[0].starts_with("t.toml:3: ") && e[0].contains("`127.0.0.1:notaport`"),
        "{}",
        e[0]
    );
    assert!(
        e[1].starts_with("t.toml:6: ") && e[1].contains("`(unclosed`"),
        "{}",
        e[1]
    );
    assert!(
        e[2].starts_with("t.toml:11: ") && e[2].contains("unknown cluster `missing`"),
        "{}",
        e[2]
    );
    assert!(
        e[3].starts_with("t.toml:16: ") && e[3].contains("5 parsecs"),
        "{}",
        e[3]
    );
    assert!(
        e[4].starts_with("t.toml:17: ") && e[4].contains("`random`"),
        "{}",
        e[4]
    );
}

#[test]
fn syntax_and_unknown_keys_name_the_line() {
    let e = errors("[[listeners]]\nlisten = \"127.0.0.1:1\"\nlisten_on = 3\n");
    assert_eq!(e.len(), 1);
    assert!(
        e[0].starts_with("t.toml:3: ") && e[0].contains("listen_on"),
        "{}",
        e[0]
    );
    let e = errors("[[listeners]\n");
    assert!(e[0].starts_with("t.toml:1: "), "{}", e[0]);
}

#[test]
fn unreadable_cert_is_reported() {
    let e = errors("[[listeners]]\nlisten = \"127.0.0.1:1\"\n[listeners.tls]\ncert = \"/nonexistent/c.pem\"\nkey = \"/nonexistent/k.pem\"\n");
    assert_eq!(e.len(), 2, "{e:#?}");
    assert!(e[0].starts_with("t.toml:4: ") && e[0].contains("/nonexistent/c.pem"));
}

#[test]
fn missing_file_is_an_error() {
    let e = load(Path::new("/nonexistent/sekisho.toml")).unwrap_err();
    assert!(e.to_string().contains("cannot read"));
}

/// Regression: port 0 means "any free port", so two listeners on `127.0.0.1:0` do not clash;
/// the same fixed address twice does.
#[test]
fn listener_addresses_clash_only_on_fixed_ports() {
    let two = |addr: &str| {
        format!(
            "[[listeners]]\nlisten = \"{addr}\"\n[[listeners]]\nlisten = \"{addr}\"\n\
             [[routes]]\npath_prefix = \"/\"\nrespond = {{ status = 200 }}\n"
        )
    };
    assert_eq!(errors(&two("127.0.0.1:0")), Vec::<String>::new());
    let errs = errors(&two("127.0.0.1:8081"));
    assert!(errs.iter().any(|e| e.contains("used twice")), "{errs:?}");
}

#[test]
fn read_guards_must_be_above_zero() {
    let e = errors(
        "[server]\nheader_read_timeout = \"0s\"\nbody_read_timeout = \"0ms\"\n\
[[listeners]]\nlisten = \"127.0.0.1:8080\"\n",
    );
    assert_eq!(e.len(), 2, "{e:#?}");
    assert!(
        e[0].starts_with("t.toml:2: ") && e[0].contains("`0s`"),
        "{}",
        e[0]
    );
    assert!(
        e[1].starts_with("t.toml:3: ") && e[1].contains("`0ms`"),
        "{}",
        e[1]
    );
}
