//! Running the built `sekisho` binary: start, readiness, signals, `/metrics`, RSS.

use super::http;
use super::wait_for;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A running `sekisho serve --config FILE`. Killed on drop.
pub struct Sekisho {
    pub child: Child,
    pub admin: SocketAddr,
    pub log: PathBuf,
}

impl Sekisho {
    /// Starts the binary on `config` (its admin listener at `admin`) and waits until
    /// `/readyz` answers 200. Output goes to `dir/sekisho.log`.
    pub fn start(dir: &Path, config: &Path, admin: SocketAddr) -> Sekisho {
        Self::start_exe(Path::new(env!("CARGO_BIN_EXE_sekisho")), dir, config, admin)
    }

    /// As [`Sekisho::start`], from the executable at `exe`.
    pub fn start_exe(exe: &Path, dir: &Path, config: &Path, admin: SocketAddr) -> Sekisho {
        Self::start_with(exe, dir, config, admin, &[])
    }

    /// As [`Sekisho::start_exe`], with more `serve` arguments (e.g. `--workers 1`).
    pub fn start_with(
        exe: &Path,
        dir: &Path,
        config: &Path,
        admin: SocketAddr,
        args: &[&str],
    ) -> Sekisho {
        let log = dir.join("sekisho.log");
        let out = std::fs::File::create(&log).unwrap();
        let child = Command::new(exe)
            .arg("serve")
            .arg("--config")
            .arg(config)
            .args(args)
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .unwrap();
        let mut s = Sekisho { child, admin, log };
        s.wait_ready();
        s
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits for `/readyz` = 200, failing with the process log after 30 s.
    pub fn wait_ready(&mut self) {
        let admin = self.admin;
        let start = std::time::Instant::now();
        loop {
            if let Ok(r) = http::get(admin, "/readyz") {
                if r.status == 200 {
                    return;
                }
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "sekisho exited with {status} before ready:\n{}",
                    self.log_text()
                );
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "sekisho not ready after 30 s:\n{}",
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The admin `/metrics` text.
    pub fn metrics(&self) -> String {
        metrics(self.admin)
    }
}

impl Drop for Sekisho {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `GET /metrics` on an admin listener.
pub fn metrics(admin: SocketAddr) -> String {
    let r = http::get(admin, "/metrics").unwrap();
    assert_eq!(r.status, 200, "/metrics answered {}", r.status);
    String::from_utf8(r.body).unwrap()
}

/// The value of the first sample of `name` (with or without labels) in a Prometheus text.
pub fn metric(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find(|l| {
            l.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with(' ') || rest.starts_with('{'))
        })
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

/// Sends `signal` (`HUP`, `TERM`, `USR2`, …) to `pid` with kill(1).
pub fn signal(pid: u32, signal: &str) {
    let status = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(pid.to_string())
        .status()
        .unwrap();
    assert!(status.success(), "kill -{signal} {pid} failed");
}

/// Resident set size of `pid` in KiB, from `/proc/PID/status`.
pub fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no VmRSS in /proc/{pid}/status"))
}

/// Waits until `name` in `/metrics` satisfies `ok`, returning the value.
pub fn wait_metric(
    admin: SocketAddr,
    name: &str,
    limit: Duration,
    ok: impl Fn(f64) -> bool,
) -> f64 {
    wait_for(limit, &format!("metric `{name}`"), || {
        let text = http::get(admin, "/metrics").ok()?;
        let v = metric(std::str::from_utf8(&text.body).ok()?, name)?;
        ok(v).then_some(v)
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn metric_parses_plain_and_labelled_samples() {
        let text = "# HELP x\nsekisho_config_generation 3\nsekisho_requests_total{route=\"a\"} 7\n";
        assert_eq!(super::metric(text, "sekisho_config_generation"), Some(3.0));
        assert_eq!(super::metric(text, "sekisho_requests_total"), Some(7.0));
        assert_eq!(super::metric(text, "sekisho_config"), None);
    }
}
