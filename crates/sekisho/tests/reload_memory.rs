//! Memory after many reloads: 100 valid reloads (with traffic between them) must grow the
//! resident set by less than 5 MB — a reload must free the config it replaced.
#![cfg(test)]

mod common;

use common::backend::Backend;
use common::http::Conn;
use common::process::{metric, rss_kib, signal, wait_metric, Sekisho};
use common::{free_port, TempDir};
use std::net::SocketAddr;
use std::time::Duration;

const GENERATION: &str = "sekisho_config_generation";

fn config(admin: u16, listen: u16, backend: SocketAddr, variant: usize) -> String {
    // Each variant has its own regex and header values, so that a leak of old configs
    // (compiled regexes, route tables) would show.
    format!(
        r#"[admin]
listen = "127.0.0.1:{admin}"

[[listeners]]
name = "main"
listen = "127.0.0.1:{listen}"

[[routes]]
name = "users-{variant}"
path_regex = "^/api/users/[0-9]+(/v{variant})?$"
cluster = "backend"
response_headers_set = {{ "x-variant" = "{variant}" }}

[[routes]]
name = "all"
path_prefix = "/"
cluster = "backend"

[[clusters]]
name = "backend"
endpoints = ["{backend}"]
"#
    )
}

fn traffic(listen: SocketAddr, n: usize) {
    let mut c = Conn::connect(listen).unwrap();
    for i in 0..n {
        let r = c
            .get("localhost", &format!("/api/users/{i}"), false)
            .unwrap();
        assert_eq!(r.status, 200);
        if r.close {
            c = Conn::connect(listen).unwrap();
        }
    }
}

#[test]
fn rss_grows_less_than_5_mb_over_100_reloads() {
    let dir = TempDir::new("rss");
    let backend = Backend::start();
    let (admin_port, listen_port) = (free_port(), free_port());
    let admin: SocketAddr = ([127, 0, 0, 1], admin_port).into();
    let listen: SocketAddr = ([127, 0, 0, 1], listen_port).into();
    let path = dir.path().join("sekisho.toml");
    std::fs::write(&path, config(admin_port, listen_port, backend.addr, 0)).unwrap();
    // One worker: the single-threaded runtime is exercised here (reloads, signals, events).
    let s = Sekisho::start_with(
        std::path::Path::new(env!("CARGO_BIN_EXE_sekisho")),
        dir.path(),
        &path,
        admin,
        &["--workers", "1"],
    );
    let mut generation = metric(&s.metrics(), GENERATION)
        .unwrap_or_else(|| panic!("no `{GENERATION}` in /metrics:\n{}", s.metrics()));

    let mut reload = |variant: usize| {
        std::fs::write(
            &path,
            config(admin_port, listen_port, backend.addr, variant),
        )
        .unwrap();
        signal(s.pid(), "HUP");
        generation = wait_metric(admin, GENERATION, Duration::from_secs(10), |g| {
            g > generation
        });
        traffic(listen, 10);
    };
    // Warm-up: allocator arenas, pools and lazily built tables reach their steady size.
    traffic(listen, 200);
    for v in 1..=10 {
        reload(v);
    }
    let before = rss_kib(s.pid());
    for v in 11..=110 {
        reload(v);
    }
    let after = rss_kib(s.pid());
    let growth = after.saturating_sub(before);
    eprintln!("rss: {before} KiB before, {after} KiB after 100 reloads, growth {growth} KiB");
    assert!(
        growth < 5 * 1024,
        "rss grew by {growth} KiB over 100 reloads"
    );
}
