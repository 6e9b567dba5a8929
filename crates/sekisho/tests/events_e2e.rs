//! Every request produces exactly one event in the access log: proxied, unrouted, answered
//! by a fixed response, and rejected by the HTTP parser — and a graceful stop (`SIGTERM`)
//! writes every queued event before the process exits.
#![cfg(test)]

mod common;

use common::backend::Backend;
use common::http::{self, Conn};
use common::process::{signal, Sekisho};
use common::{free_port, wait_for, TempDir};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// The string value of `"key":"…"` in one JSON line (the event fields used here hold no
/// escaped quotes), or the number of `"key":123`.
fn field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let rest = line.split_once(&format!("\"{key}\":"))?.1;
    match rest.strip_prefix('"') {
        Some(s) => s.split_once('"').map(|(v, _)| v),
        None => rest.split([',', '}']).next(),
    }
}

#[test]
fn one_event_per_request_including_rejected_ones() {
    let dir = TempDir::new("events");
    let backend = Backend::start();
    let (admin_port, listen_port) = (free_port(), free_port());
    let admin: SocketAddr = ([127, 0, 0, 1], admin_port).into();
    let listen: SocketAddr = ([127, 0, 0, 1], listen_port).into();
    let log = dir.path().join("access.jsonl");
    let config = dir.path().join("sekisho.toml");
    std::fs::write(
        &config,
        format!(
            r#"[admin]
listen = "127.0.0.1:{admin_port}"

[[listeners]]
name = "main"
listen = "127.0.0.1:{listen_port}"

[[routes]]
name = "blocked"
path_prefix = "/api/admin"
respond = {{ status = 403, body = "no" }}

[[routes]]
name = "api"
path_prefix = "/api/"
cluster = "backend"

[[clusters]]
name = "backend"
endpoints = ["{backend}"]

[events]
access_log = "{log}"
store = "{store}"
"#,
            backend = backend.addr,
            log = log.display(),
            store = dir.path().join("events.db").display(),
        ),
    )
    .unwrap();
    let mut s = Sekisho::start(dir.path(), &config, admin);

    let mut conn = Conn::connect(listen).unwrap();
    for i in 0..50 {
        let r = conn
            .get("localhost", &format!("/api/users/{i}"), false)
            .unwrap();
        assert_eq!(r.status, 200);
    }
    for i in 0..10 {
        assert_eq!(
            http::get(listen, &format!("/unrouted/{i}")).unwrap().status,
            404
        );
    }
    for i in 0..5 {
        assert_eq!(
            http::get(listen, &format!("/api/admin/{i}"))
                .unwrap()
                .status,
            403
        );
    }
    let malformed: [&[u8]; 5] = [
        b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
        b"GET / HTTP/1.1\r\nHost : a\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: a\r\n folded: x\r\n\r\n",
        b"G\0ET / HTTP/1.1\r\nHost: a\r\n\r\n",
    ];
    for raw in malformed {
        let mut t = TcpStream::connect(listen).unwrap();
        t.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        t.write_all(raw).unwrap();
        let mut out = Vec::new();
        let _ = t.read_to_end(&mut out);
        let head = String::from_utf8_lossy(&out);
        assert!(
            head.starts_with("HTTP/1.1 400"),
            "{:?} answered {head:?}",
            String::from_utf8_lossy(raw)
        );
    }
    assert_eq!(
        backend.requests(),
        50,
        "a rejected request reached the backend"
    );

    // Graceful stop drains the event queue before exiting.
    signal(s.pid(), "TERM");
    let status = wait_for(Duration::from_secs(30), "sekisho to exit", || {
        s.child.try_wait().unwrap()
    });
    assert!(status.success(), "exit status {status}:\n{}", s.log_text());

    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let mut by_status = BTreeMap::new();
    for line in &lines {
        *by_status
            .entry(field(line, "status").unwrap_or("?"))
            .or_insert(0) += 1;
        assert_eq!(field(line, "v"), Some("1"), "{line}");
        assert!(
            !field(line, "request_id").unwrap_or("").is_empty(),
            "no request id: {line}"
        );
        assert_eq!(field(line, "client_ip"), Some("127.0.0.1"), "{line}");
    }
    let expected = BTreeMap::from([("200", 50), ("400", 5), ("403", 5), ("404", 10)]);
    assert_eq!(by_status, expected, "events by status:\n{text}");
    for i in 0..50 {
        let path = format!("\"path\":\"/api/users/{i}\"");
        let n = lines.iter().filter(|l| l.contains(&path)).count();
        assert_eq!(n, 1, "events for /api/users/{i}");
    }
    let proxied = lines.iter().find(|l| l.contains("/api/users/7")).unwrap();
    assert_eq!(field(proxied, "route"), Some("api"));
    assert_eq!(
        field(proxied, "upstream"),
        Some(backend.addr.to_string().as_str())
    );
}

/// Log rotation: after the log file is moved away, `SIGHUP` makes sekisho write to a new
/// file at the configured path (and nothing is lost in between).
#[test]
fn access_log_is_reopened_on_sighup() {
    let dir = TempDir::new("rotate");
    let backend = Backend::start();
    let (admin_port, listen_port) = (free_port(), free_port());
    let admin: SocketAddr = ([127, 0, 0, 1], admin_port).into();
    let listen: SocketAddr = ([127, 0, 0, 1], listen_port).into();
    let log = dir.path().join("access.jsonl");
    let rotated = dir.path().join("access.jsonl.1");
    let config = dir.path().join("sekisho.toml");
    std::fs::write(
        &config,
        format!(
            r#"[admin]
listen = "127.0.0.1:{admin_port}"

[[listeners]]
name = "main"
listen = "127.0.0.1:{listen_port}"

[[routes]]
name = "api"
path_prefix = "/"
cluster = "backend"

[[clusters]]
name = "backend"
endpoints = ["{backend}"]

[events]
access_log = "{log}"
"#,
            backend = backend.addr,
            log = log.display(),
        ),
    )
    .unwrap();
    let s = Sekisho::start(dir.path(), &config, admin);
    let lines = |p: &std::path::Path| {
        std::fs::read_to_string(p)
            .map(|t| t.lines().count())
            .unwrap_or(0)
    };
    for i in 0..3 {
        assert_eq!(
            http::get(listen, &format!("/before/{i}")).unwrap().status,
            200
        );
    }
    wait_for(Duration::from_secs(10), "3 events in the log", || {
        (lines(&log) == 3).then_some(())
    });
    std::fs::rename(&log, &rotated).unwrap();
    signal(s.pid(), "HUP");
    wait_for(Duration::from_secs(10), "the new access log", || {
        log.exists().then_some(())
    });
    for i in 0..2 {
        assert_eq!(
            http::get(listen, &format!("/after/{i}")).unwrap().status,
            200
        );
    }
    wait_for(Duration::from_secs(10), "2 events in the new log", || {
        (lines(&log) == 2).then_some(())
    });
    assert_eq!(lines(&rotated), 3);
    assert!(std::fs::read_to_string(&log).unwrap().contains("/after/1"));
}

#[test]
fn field_reads_strings_and_numbers() {
    let line = r#"{"v":1,"path":"/a","status":404,"tls":null}"#;
    assert_eq!(field(line, "path"), Some("/a"));
    assert_eq!(field(line, "status"), Some("404"));
    assert_eq!(field(line, "v"), Some("1"));
    assert_eq!(field(line, "nope"), None);
}
