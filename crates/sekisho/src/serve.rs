//! `sekisho serve` and `sekisho check`.

use anyhow::Context;
use sekisho_gateway::{upgrade, Gateway, Options};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use tokio::signal::unix::{signal, SignalKind};

#[derive(clap::Args)]
pub struct ServeArgs {
    /// The TOML configuration file; without it, embedded defaults and a demo backend.
    #[arg(long, short)]
    pub config: Option<PathBuf>,
    /// Without --config: the gateway's address.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Without --config: the admin listener's address (/healthz, /readyz, /metrics).
    #[arg(long, default_value = "127.0.0.1:9090")]
    pub admin: SocketAddr,
    /// Threads serving requests (default: one per CPU). With 1, a single-threaded event
    /// loop serves everything: the least work per request, for one core or for one process
    /// per core.
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
    pub workers: Option<u16>,
}

pub fn serve(args: ServeArgs) -> anyhow::Result<()> {
    // Before any thread starts: adopting inherited sockets edits the environment.
    let inherited = upgrade::inherited_listeners();
    let exe = upgrade::executable().context("cannot find this program's executable")?;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
    // One worker: a current-thread runtime (no work stealing, no cross-thread wake-ups),
    // measurably cheaper per request than a multi-thread runtime with one worker.
    let mut builder = match args.workers {
        Some(1) => tokio::runtime::Builder::new_current_thread(),
        Some(n) => {
            let mut b = tokio::runtime::Builder::new_multi_thread();
            b.worker_threads(usize::from(n));
            b
        }
        None => tokio::runtime::Builder::new_multi_thread(),
    };
    let rt = builder
        .enable_all()
        .build()
        .context("cannot start the runtime")?;
    rt.block_on(run(args, inherited, exe))
}

/// The embedded default: one listener in front of the demo backend, nothing else.
fn embedded(
    listen: SocketAddr,
    admin: SocketAddr,
    demo: SocketAddr,
) -> anyhow::Result<sekisho_config::Config> {
    let text = format!(
        r#"
[admin]
listen = "{admin}"

[[listeners]]
name = "http"
listen = "{listen}"

[[routes]]
name = "demo"
path_prefix = "/"
cluster = "demo"

[[clusters]]
name = "demo"
endpoints = ["{demo}"]
"#
    );
    sekisho_config::parse(&text, Path::new("<embedded>")).map_err(|e| anyhow::anyhow!("{e}"))
}

async fn run(
    args: ServeArgs,
    inherited: Vec<std::net::TcpListener>,
    exe: PathBuf,
) -> anyhow::Result<()> {
    let config = match &args.config {
        Some(path) => sekisho_config::load(path).map_err(|e| anyhow::anyhow!("{e}"))?,
        None => {
            let (demo, _handle) = sekisho_demo::spawn(SocketAddr::from(([127, 0, 0, 1], 0)))
                .await
                .context("cannot start the demo backend")?;
            println!("demo backend  http://{demo}/");
            embedded(args.listen, args.admin, demo)?
        }
    };
    let gw = Gateway::start(
        config,
        Options {
            inherited,
            ..Options::default()
        },
    )
    .await?;
    for a in gw.listener_addrs() {
        println!("gateway       http://{a}/");
    }
    let admin = gw.admin_addr();
    println!("admin         http://{admin}/healthz  http://{admin}/readyz  http://{admin}/metrics");
    upgrade::notify_parent().context("cannot tell the previous process to drain")?;

    let mut hup = signal(SignalKind::hangup())?;
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    let mut usr2 = signal(SignalKind::user_defined2())?;
    loop {
        tokio::select! {
            _ = hup.recv() => {
                if let Some(sink) = gw.events().cloned() {
                    // Waits for the writer thread: not on a runtime thread.
                    let reopened = tokio::task::spawn_blocking(move || {
                        sink.reopen(std::time::Duration::from_secs(5))
                    })
                    .await;
                    if let Ok(Err(e)) = reopened {
                        tracing::warn!("cannot reopen the access log: {e}");
                    }
                }
                let Some(path) = &args.config else {
                    tracing::info!("SIGHUP: no configuration file to reload");
                    continue;
                };
                match gw.reload_from_file(path).await {
                    Ok(generation) => tracing::info!(generation, "configuration reloaded"),
                    Err(errors) => {
                        for e in &errors.0 {
                            tracing::error!("reload refused, the running configuration stays: {e}");
                        }
                    }
                }
            }
            _ = usr2.recv() => {
                match upgrade::spawn_successor(&exe, gw.sockets()) {
                    Ok(child) => tracing::info!(pid = child.id(), "upgrade: new process started; draining once it serves"),
                    Err(e) => tracing::error!("upgrade failed, this process keeps serving: {e}"),
                }
            }
            _ = term.recv() => break,
            _ = int.recv() => break,
        }
    }
    let grace = gw.drain_grace();
    tracing::info!(grace = ?grace, "draining");
    let left = gw.shutdown(grace).await;
    if left > 0 {
        tracing::warn!("{left} connections still open after the drain grace");
    }
    Ok(())
}

pub fn check(config: &Path) -> anyhow::Result<()> {
    match sekisho_config::load(config) {
        Ok(c) => {
            println!(
                "{}: ok ({} listeners, {} routes, {} clusters)",
                config.display(),
                c.listeners.len(),
                c.routes.len(),
                c.clusters.len()
            );
            Ok(())
        }
        Err(errors) => {
            for e in &errors.0 {
                eprintln!("{e}");
            }
            anyhow::bail!("{} error(s) in `{}`", errors.0.len(), config.display())
        }
    }
}
