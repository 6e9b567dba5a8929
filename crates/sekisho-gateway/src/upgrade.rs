//! Zero-downtime binary upgrade by socket hand-over.
//!
//! 1. The running process gets `SIGUSR2` and calls [`spawn_successor`]: it starts the
//!    (new) binary at its own path with the same arguments, passing duplicates of its
//!    listening sockets (listeners, then admin) as fds 3, 4, … with `LISTEN_FDS=n` (the
//!    systemd convention) and `SEKISHO_UPGRADE_PARENT=<its pid>`. It keeps serving.
//! 2. The new process adopts the sockets ([`inherited_listeners`]) instead of binding,
//!    so the kernel's accept queue is shared and no connection is refused; once it
//!    serves, it tells the old process to drain ([`notify_parent`]: `SIGTERM`).
//! 3. The old process stops accepting, finishes its in-flight requests within the drain
//!    grace and exits. If the new process fails before step 2, the old one never drains.

use command_fds::{CommandFdExt, FdMapping};
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};

/// Environment variable naming the process that should drain once we serve.
pub const PARENT_ENV: &str = "SEKISHO_UPGRADE_PARENT";

/// The path to start the successor from. Call at process start: once the binary file has
/// been replaced (the point of an upgrade), Linux names the running image `PATH (deleted)`,
/// while the path read at start names the new file.
pub fn executable() -> std::io::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let text = exe.to_string_lossy();
    Ok(match text.strip_suffix(" (deleted)") {
        Some(live) => PathBuf::from(live),
        None => exe,
    })
}

/// Starts the successor (`exe`, see [`executable`]) with `sockets` as fds 3, 4, …;
/// returns the child.
pub fn spawn_successor(exe: &Path, sockets: Vec<std::net::TcpListener>) -> std::io::Result<Child> {
    let n = sockets.len();
    let mappings: Vec<FdMapping> = sockets
        .into_iter()
        .enumerate()
        .map(|(i, s)| FdMapping {
            parent_fd: OwnedFd::from(s),
            child_fd: 3 + i32::try_from(i).unwrap_or(0),
        })
        .collect();
    let mut cmd = Command::new(exe);
    cmd.args(std::env::args_os().skip(1))
        .env("LISTEN_FDS", n.to_string())
        .env_remove("LISTEN_PID")
        .env(PARENT_ENV, std::process::id().to_string());
    cmd.fd_mappings(mappings)
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    cmd.spawn()
}

/// The listening sockets handed over by a previous process (none on a normal start).
/// Call before starting threads: it reads and clears `LISTEN_FDS`.
pub fn inherited_listeners() -> Vec<std::net::TcpListener> {
    let mut fds = listenfd::ListenFd::from_env();
    (0..fds.len())
        .filter_map(|i| fds.take_tcp_listener(i).ok().flatten())
        .filter(|l| l.set_nonblocking(true).is_ok())
        .collect()
}

/// Tells the process that handed us its sockets to drain (it sent `SEKISHO_UPGRADE_PARENT`).
pub fn notify_parent() -> std::io::Result<()> {
    let Some(pid) = std::env::var(PARENT_ENV)
        .ok()
        .and_then(|p| p.parse::<i32>().ok())
    else {
        return Ok(());
    };
    std::env::remove_var(PARENT_ENV);
    let Some(pid) = rustix::process::Pid::from_raw(pid) else {
        return Ok(());
    };
    rustix::process::kill_process(pid, rustix::process::Signal::TERM).map_err(std::io::Error::from)
}
