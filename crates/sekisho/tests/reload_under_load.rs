//! Reload and binary upgrade under load: 20,000 requests (keep-alive and new connections
//! mixed) while the config is reloaded 20 times (half of the new files invalid) and the
//! binary is upgraded once by socket hand-over. Not one request may fail, and the config
//! generation must advance on exactly the valid reloads.
#![cfg(test)]

mod common;

use common::backend::Backend;
use common::http::Conn;
use common::process::{metric, metrics, signal, wait_metric, Sekisho};
use common::{free_port, wait_for, TempDir};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const GENERATION: &str = "sekisho_config_generation";
const INVALID_RELOADS: &str = "sekisho_config_reloads_total{result=\"invalid\"}";
const CLIENTS_KEEPALIVE: usize = 4;
const CLIENTS_NEW_CONN: usize = 4;
const REQUESTS_PER_CLIENT: usize = 2_500; // 8 clients: 20,000 requests
/// Clients pace themselves so that the load spans the reloads and the upgrade.
const LOAD_SPAN: Duration = Duration::from_secs(10);

struct Ports {
    listen: u16,
    admin: u16,
    backend: SocketAddr,
}

/// A valid configuration; `variant` changes a response header only, so every variant
/// serves the same requests.
fn valid_config(p: &Ports, variant: usize) -> String {
    format!(
        r#"[admin]
listen = "127.0.0.1:{admin}"

[server]
drain_grace = "10s"

[[listeners]]
name = "main"
listen = "127.0.0.1:{listen}"

[[routes]]
name = "all"
path_prefix = "/"
cluster = "backend"
response_headers_set = {{ "x-variant" = "{variant}" }}

[[clusters]]
name = "backend"
endpoints = ["{backend}"]
"#,
        admin = p.admin,
        listen = p.listen,
        backend = p.backend,
    )
}

/// Invalid configurations, each wrong in another way (syntax, reference, regex, key, address).
fn invalid_config(p: &Ports, variant: usize) -> String {
    let valid = valid_config(p, variant);
    match variant % 5 {
        0 => valid.replace("[[clusters]]", "[[clusters]"),
        1 => valid.replace("cluster = \"backend\"", "cluster = \"nowhere\""),
        2 => valid.replace("path_prefix = \"/\"", "path_regex = \"(\""),
        3 => valid.replace("[server]", "[server]\nno_such_key = 1"),
        _ => valid.replace(&p.backend.to_string(), "not-an-address"),
    }
}

/// The pid of the successor the old process logged (`upgrade: new process started … pid=N`).
fn successor_pid(log: &str) -> Option<u32> {
    let line = log
        .lines()
        .find(|l| l.contains("upgrade: new process started"))?;
    let plain = strip_ansi(line);
    let digits: String = plain
        .split_once("pid=")?
        .1
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// Removes terminal colour sequences (`ESC [ … m`) from a log line.
fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for d in chars.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Kills a process that is not our child (the upgraded one) when the test ends, even on
/// a failed assertion.
struct KillOnDrop(u32);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = std::process::Command::new("kill")
            .arg("-KILL")
            .arg(self.0.to_string())
            .status();
    }
}

fn alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
        && !std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .unwrap_or_default()
            .contains(") Z ")
}

/// Totals of the load.
#[derive(Default)]
struct Load {
    ok: AtomicU64,
    failed: AtomicU64,
    /// Keep-alive requests sent again on a new connection because the server had closed
    /// the reused one before answering (the retry RFC 9112 §9.3.1 allows for idempotent
    /// requests; every HTTP client does it).
    stale_retries: AtomicU64,
    errors: std::sync::Mutex<Vec<String>>,
}

impl Load {
    fn fail(&self, what: String) {
        self.failed.fetch_add(1, Ordering::Relaxed);
        let mut e = self.errors.lock().unwrap();
        if e.len() < 20 {
            e.push(what);
        }
    }
}

fn client(addr: SocketAddr, keepalive: bool, load: &Load, start: Instant) {
    let mut conn: Option<Conn> = None;
    let step = LOAD_SPAN / REQUESTS_PER_CLIENT as u32;
    for i in 0..REQUESTS_PER_CLIENT {
        if let Some(wait) = (start + step * i as u32).checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        let path = format!("/api/users/{i}");
        let reused = conn.is_some();
        let mut c = match conn.take() {
            Some(c) => c,
            None => match Conn::connect(addr) {
                Ok(c) => c,
                Err(e) => {
                    load.fail(format!("connect: {e}"));
                    continue;
                }
            },
        };
        let mut result = c.get("localhost", &path, !keepalive);
        if reused {
            if let Err(e) = &result {
                if is_stale(e) {
                    load.stale_retries.fetch_add(1, Ordering::Relaxed);
                    result = Conn::connect(addr).and_then(|mut fresh| {
                        let r = fresh.get("localhost", &path, !keepalive);
                        c = fresh;
                        r
                    });
                }
            }
        }
        match result {
            Ok(r) if r.status == 200 && r.body == b"ok" => {
                load.ok.fetch_add(1, Ordering::Relaxed);
                if keepalive && !r.close {
                    conn = Some(c);
                }
            }
            Ok(r) => load.fail(format!(
                "{path}: status {} body {:?}",
                r.status,
                String::from_utf8_lossy(&r.body)
            )),
            Err(e) => load.fail(format!("{path}: {e}")),
        }
    }
}

/// The server closed a reused connection before any byte of the response.
fn is_stale(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(
        e.kind(),
        UnexpectedEof | ConnectionReset | BrokenPipe | ConnectionAborted
    )
}

#[test]
fn successor_pid_is_read_from_a_coloured_log() {
    let log = "x\n\u{1b}[2m2026\u{1b}[0m INFO upgrade: new process started; draining \u{1b}[3mpid\u{1b}[0m\u{1b}[2m=\u{1b}[0m15725\n";
    assert_eq!(successor_pid(log), Some(15725));
    assert_eq!(successor_pid("nothing"), None);
}

#[test]
fn reloads_and_upgrade_under_load_fail_no_request() {
    let dir = TempDir::new("reload");
    let backend = Backend::start();
    let ports = Ports {
        listen: free_port(),
        admin: free_port(),
        backend: backend.addr,
    };
    let config = dir.path().join("sekisho.toml");
    std::fs::write(&config, valid_config(&ports, 0)).unwrap();
    let admin: SocketAddr = ([127, 0, 0, 1], ports.admin).into();
    let listen: SocketAddr = ([127, 0, 0, 1], ports.listen).into();
    // Run from a copy of the binary, so that the upgrade can replace the file as a package
    // upgrade does (a new file renamed over the old one) while the old process runs.
    let exe = dir.path().join("sekisho");
    std::fs::copy(env!("CARGO_BIN_EXE_sekisho"), &exe).unwrap();
    let mut first = Sekisho::start_exe(&exe, dir.path(), &config, admin);
    let mut pid = first.pid();
    let mut generation = metric(&first.metrics(), GENERATION)
        .unwrap_or_else(|| panic!("no `{GENERATION}` in /metrics:\n{}", first.metrics()));

    let load = Arc::new(Load::default());
    let start = Instant::now();
    let mut clients = Vec::new();
    for n in 0..CLIENTS_KEEPALIVE + CLIENTS_NEW_CONN {
        let load = Arc::clone(&load);
        clients.push(std::thread::spawn(move || {
            client(listen, n < CLIENTS_KEEPALIVE, &load, start)
        }));
    }

    let mut upgraded_pid = None;
    let mut _guard = None;
    let invalid_before = first.log_text().matches("sekisho.toml:").count();
    for i in 0..20 {
        std::thread::sleep(Duration::from_millis(250));
        let valid = i % 2 == 0;
        let text = if valid {
            valid_config(&ports, i + 1)
        } else {
            invalid_config(&ports, i / 2)
        };
        std::fs::write(&config, text).unwrap();
        let rejected_before = metric(&metrics(admin), INVALID_RELOADS).unwrap_or(0.0);
        signal(pid, "HUP");
        if valid {
            generation = wait_metric(admin, GENERATION, Duration::from_secs(10), |g| {
                g > generation
            });
        } else {
            // The rejection is counted (and logged with file:line); the generation stays.
            wait_metric(admin, INVALID_RELOADS, Duration::from_secs(10), |n| {
                n > rejected_before
            });
            let now = metric(&metrics(admin), GENERATION);
            assert_eq!(
                now,
                Some(generation),
                "reload {i}: an invalid config was applied"
            );
        }
        if i == 10 {
            // Binary upgrade: the running process starts the new binary, hands it the
            // listening sockets and drains. The new process keeps the config generation
            // numbering of its own, so read it afresh.
            std::fs::write(&config, valid_config(&ports, 100)).unwrap();
            let staged = dir.path().join("sekisho.new");
            std::fs::copy(env!("CARGO_BIN_EXE_sekisho"), &staged).unwrap();
            std::fs::rename(&staged, &exe).unwrap();
            signal(pid, "USR2");
            let new_pid = wait_for(Duration::from_secs(20), "the upgraded process", || {
                successor_pid(&first.log_text())
            });
            _guard = Some(KillOnDrop(new_pid));
            // Regression: the successor runs the new file, not the old process's deleted image.
            let running = std::fs::read_link(format!("/proc/{new_pid}/exe")).unwrap();
            assert_eq!(
                running, exe,
                "the successor does not run the replaced binary"
            );
            wait_for(Duration::from_secs(30), "the old process to exit", || {
                first.child.try_wait().unwrap().map(|_| ())
            });
            pid = new_pid;
            upgraded_pid = Some(new_pid);
            generation = wait_metric(admin, GENERATION, Duration::from_secs(10), |_| true);
        }
    }
    let done_at_last_reload = load.ok.load(Ordering::Relaxed) + load.failed.load(Ordering::Relaxed);
    for c in clients {
        c.join().unwrap();
    }
    let took = start.elapsed();

    let log = first.log_text();
    if let Some(p) = upgraded_pid {
        signal(p, "TERM");
        wait_for(
            Duration::from_secs(20),
            "the upgraded process to stop",
            || (!alive(p)).then_some(()),
        );
    }
    let errors = load.errors.lock().unwrap().clone();
    let (ok, failed) = (
        load.ok.load(Ordering::Relaxed),
        load.failed.load(Ordering::Relaxed),
    );
    eprintln!(
        "load: {ok} ok, {failed} failed, {} stale keep-alive retries, {took:?}; backend saw {}",
        load.stale_retries.load(Ordering::Relaxed),
        backend.requests()
    );
    assert_eq!(
        failed, 0,
        "failed requests: {errors:#?}\nsekisho log:\n{log}"
    );
    assert_eq!(ok, 20_000);
    assert!(
        done_at_last_reload < 20_000,
        "the load ended before the reloads did: nothing was proven"
    );
    assert!(upgraded_pid.is_some());
    let rejected = log.matches("sekisho.toml:").count() - invalid_before;
    assert!(
        rejected >= 10,
        "expected the 10 rejected reloads in the log with file:line:\n{log}"
    );
}
