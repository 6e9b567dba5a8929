//! The running gateway: binds the listeners, holds the live configuration, reloads it,
//! and drains on shutdown.

use crate::live::Live;
use crate::metrics::Metrics;
use crate::phase::Phase;
use arc_swap::ArcSwap;
use sekisho_config::{Config, ConfigErrors};
use sekisho_events::{EventSink, EventSinkConfig};
use std::collections::HashMap;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::Waker;
use std::time::Duration;
use tokio::sync::{watch, Notify};

/// Why the gateway could not start or reload.
#[derive(Debug)]
pub enum GatewayError {
    /// A listener address could not be bound.
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    /// A TLS certificate or key could not be loaded.
    Tls { listener: String, message: String },
    /// The event sink could not be opened.
    Events(sekisho_events::EventError),
    /// The new configuration is invalid (every error, with file:line).
    Config(ConfigErrors),
}

impl fmt::Display for GatewayError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Bind { addr, source } => write!(f, "cannot listen on `{addr}`: {source}"),
            Self::Tls { listener, message } => write!(f, "listener `{listener}`: {message}"),
            Self::Events(e) => write!(f, "events: {e}"),
            Self::Config(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for GatewayError {}

/// How to start the gateway beyond its configuration.
#[derive(Default)]
pub struct Options {
    /// Pipeline phases in the order they run (identity, policy, limits, WAF …).
    pub phases: Vec<Arc<dyn Phase>>,
    /// Listening sockets inherited from a previous process (binary upgrade); a configured
    /// address with a matching socket here is adopted instead of bound.
    pub inherited: Vec<std::net::TcpListener>,
}

/// Counts open client connections so that a drain can wait for them.
#[derive(Default)]
pub(crate) struct ConnTracker {
    open: AtomicUsize,
    idle: Notify,
    per_ip: Mutex<HashMap<IpAddr, usize>>,
    /// The task of every serving connection, woken when the drain begins (see
    /// `listener::UntilDrained`: cheaper per request than a watch receiver per connection).
    wakers: Mutex<HashMap<u64, Waker>>,
    next_id: AtomicU64,
}

impl ConnTracker {
    /// Registers a connection's task to be woken when the drain begins; returns its key.
    pub fn watch_drain(&self, waker: &Waker) -> u64 {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        self.lock_wakers().insert(id, waker.clone());
        id
    }

    pub fn unwatch_drain(&self, id: u64) {
        self.lock_wakers().remove(&id);
    }

    fn wake_all(&self) {
        for w in self.lock_wakers().values() {
            w.wake_by_ref();
        }
    }

    fn lock_wakers(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Waker>> {
        self.wakers.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Held by a connection's task; releases its slot when dropped.
pub(crate) struct ConnGuard {
    shared: Arc<Shared>,
    ip: IpAddr,
}

impl Drop for ConnGuard {
    fn drop(&mut self) {
        let t = &self.shared.conns;
        {
            let mut m = t.per_ip.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(n) = m.get_mut(&self.ip) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    m.remove(&self.ip);
                }
            }
        }
        if t.open.fetch_sub(1, Ordering::AcqRel) == 1 {
            t.idle.notify_waiters();
        }
    }
}

/// State shared by the listeners, the pipeline and the admin listener.
pub(crate) struct Shared {
    pub live: ArcSwap<Live>,
    pub metrics: Metrics,
    pub sink: Option<EventSink>,
    pub draining: AtomicBool,
    pub drain_tx: watch::Sender<bool>,
    pub conns: ConnTracker,
    pub phases: Vec<Arc<dyn Phase>>,
    /// Duplicates of the listening sockets, for hand-over to a new binary.
    pub sockets: Mutex<Vec<std::net::TcpListener>>,
}

impl Shared {
    /// Admits a new connection from `ip`, or refuses it (per-IP limit).
    pub fn admit(self: &Arc<Self>, ip: IpAddr) -> Option<ConnGuard> {
        let limit = self.live.load().config.server.max_connections_per_ip;
        {
            let mut m = self
                .conns
                .per_ip
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            let n = m.entry(ip).or_insert(0);
            if limit > 0 && *n >= limit {
                return None;
            }
            *n += 1;
        }
        self.conns.open.fetch_add(1, Ordering::AcqRel);
        Some(ConnGuard {
            shared: Arc::clone(self),
            ip,
        })
    }

    pub fn open_connections(&self) -> usize {
        self.conns.open.load(Ordering::Acquire)
    }
}

/// A running gateway. Dropping it does not stop it; call [`Gateway::shutdown`].
pub struct Gateway {
    shared: Arc<Shared>,
    listeners: Vec<SocketAddr>,
    admin: SocketAddr,
    /// The listeners' accept loops; a drain waits for them to close their sockets.
    accepting: Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

impl Gateway {
    /// Binds every listener and the admin listener, opens the event sink and starts
    /// serving. Must be called inside a tokio runtime.
    pub async fn start(config: Config, options: Options) -> Result<Gateway, GatewayError> {
        let sink = if config.events.access_log.is_some() || config.events.store.is_some() {
            Some(
                EventSink::start(EventSinkConfig {
                    access_log: config.events.access_log.clone(),
                    store: config.events.store.clone(),
                    queue_capacity: config.events.queue_size,
                    ..EventSinkConfig::default()
                })
                .map_err(GatewayError::Events)?,
            )
        } else {
            None
        };
        let mut inherited = options.inherited;
        let mut take = |addr: SocketAddr| -> Result<std::net::TcpListener, GatewayError> {
            if let Some(pos) = inherited
                .iter()
                .position(|l| l.local_addr().ok() == Some(addr))
            {
                return Ok(inherited.swap_remove(pos));
            }
            bind(addr)
        };
        let mut bound = Vec::new();
        for l in &config.listeners {
            let tls = match &l.tls {
                Some(t) => Some(
                    crate::tls::acceptor(t).map_err(|message| GatewayError::Tls {
                        listener: l.name.clone(),
                        message,
                    })?,
                ),
                None => None,
            };
            bound.push((take(l.listen)?, tls));
        }
        let admin_sock = take(config.admin.listen)?;
        let (drain_tx, _) = watch::channel(false);
        let metrics = Metrics::default();
        let live = Live::build(config, 1, None, options.phases.clone(), &metrics);
        let mut sockets = Vec::new();
        let mut listeners = Vec::new();
        let mut accepting = Vec::new();
        let shared = Arc::new(Shared {
            live: ArcSwap::from_pointee(live),
            metrics,
            sink,
            draining: AtomicBool::new(false),
            drain_tx,
            conns: ConnTracker::default(),
            phases: options.phases,
            sockets: Mutex::new(Vec::new()),
        });
        for (sock, tls) in bound {
            let addr = sock.local_addr().map_err(|source| GatewayError::Bind {
                addr: SocketAddr::from(([0, 0, 0, 0], 0)),
                source,
            })?;
            if let Ok(dup) = sock.try_clone() {
                sockets.push(dup);
            }
            let l = tokio::net::TcpListener::from_std(sock)
                .map_err(|source| GatewayError::Bind { addr, source })?;
            listeners.push(addr);
            accepting.push(tokio::spawn(crate::listener::accept_loop(
                Arc::clone(&shared),
                l,
                tls,
            )));
        }
        let admin = admin_sock
            .local_addr()
            .map_err(|source| GatewayError::Bind {
                addr: SocketAddr::from(([0, 0, 0, 0], 0)),
                source,
            })?;
        if let Ok(dup) = admin_sock.try_clone() {
            sockets.push(dup);
        }
        let admin_l =
            tokio::net::TcpListener::from_std(admin_sock).map_err(|source| GatewayError::Bind {
                addr: admin,
                source,
            })?;
        tokio::spawn(crate::admin::serve(Arc::clone(&shared), admin_l));
        *shared
            .sockets
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = sockets;
        Ok(Gateway {
            shared,
            listeners,
            admin,
            accepting: Mutex::new(accepting),
        })
    }

    /// The bound addresses of the listeners, in configuration order.
    pub fn listener_addrs(&self) -> &[SocketAddr] {
        &self.listeners
    }

    /// The bound address of the admin listener.
    pub fn admin_addr(&self) -> SocketAddr {
        self.admin
    }

    /// The generation of the live configuration (1 at start, +1 per reload).
    pub fn generation(&self) -> u64 {
        self.shared.live.load().generation
    }

    /// The live configuration's drain grace period.
    pub fn drain_grace(&self) -> Duration {
        self.shared.live.load().config.server.drain_grace
    }

    /// The event sink, when events are configured.
    pub fn events(&self) -> Option<&EventSink> {
        self.shared.sink.as_ref()
    }

    /// Swaps in a validated configuration; returns the new generation. Listener
    /// addresses, the admin address and `[events]` are fixed at start (changing them
    /// takes a binary upgrade); a change is logged and otherwise ignored.
    pub fn reload(&self, config: Config) -> u64 {
        let old = self.shared.live.load_full();
        let oc = &old.config;
        if oc
            .listeners
            .iter()
            .map(|l| l.listen)
            .ne(config.listeners.iter().map(|l| l.listen))
            || oc.admin.listen != config.admin.listen
        {
            tracing::warn!(
                "listener addresses changed: they take effect after a restart or upgrade"
            );
        }
        let generation = old.generation + 1;
        let live = Live::build(
            config,
            generation,
            Some(&old),
            self.shared.phases.clone(),
            &self.shared.metrics,
        );
        self.shared.live.store(Arc::new(live));
        self.shared
            .metrics
            .reloads_ok
            .fetch_add(1, Ordering::Relaxed);
        generation
    }

    /// Reads, validates and swaps in the configuration at `path`. On any error the
    /// running configuration stays and every error is returned (with file:line).
    ///
    /// Reading and validating (files, certificates, patterns) runs on a blocking thread:
    /// with one worker thread it would otherwise hold up every request meanwhile.
    pub async fn reload_from_file(&self, path: &Path) -> Result<u64, ConfigErrors> {
        let owned = path.to_owned();
        let loaded = tokio::task::spawn_blocking(move || sekisho_config::load(&owned))
            .await
            .unwrap_or_else(|e| {
                Err(ConfigErrors(vec![sekisho_config::ConfigError {
                    file: path.to_owned(),
                    line: 0,
                    message: format!("loading the configuration failed: {e}"),
                }]))
            });
        match loaded {
            Ok(c) => Ok(self.reload(c)),
            Err(e) => {
                self.shared
                    .metrics
                    .reloads_failed
                    .fetch_add(1, Ordering::Relaxed);
                Err(e)
            }
        }
    }

    /// Duplicates of the listening sockets (listeners, then admin), for
    /// [`crate::upgrade`].
    pub fn sockets(&self) -> Vec<std::net::TcpListener> {
        self.shared
            .sockets
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .filter_map(|s| s.try_clone().ok())
            .collect()
    }

    /// Open client connections.
    pub fn open_connections(&self) -> usize {
        self.shared.open_connections()
    }

    /// Stops accepting (the listening sockets are closed before the wait begins: new
    /// connections are refused), lets in-flight requests finish (HTTP/1 keep-alive
    /// responses get `Connection: close`, HTTP/2 connections a GOAWAY) for at most
    /// `grace`, then flushes the events. Returns the connections still open at the
    /// deadline.
    pub async fn shutdown(&self, grace: Duration) -> usize {
        self.shared.draining.store(true, Ordering::SeqCst);
        self.shared.drain_tx.send_replace(true);
        self.shared.conns.wake_all();
        // Close our copies so the kernel stops queueing connections nobody will accept
        // (a successor process keeps its own copies open).
        self.shared
            .sockets
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
        let deadline = tokio::time::Instant::now() + grace;
        // Once the accept loops have ended, their sockets are closed: a connection
        // attempt after this point is refused, not left in an accept queue nobody serves.
        let accepting = std::mem::take(
            &mut *self
                .accepting
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        );
        for task in accepting {
            let _ = tokio::time::timeout_at(deadline, task).await;
        }
        loop {
            let idle = self.shared.conns.idle.notified();
            if self.shared.open_connections() == 0 {
                break;
            }
            if tokio::time::timeout_at(deadline, idle).await.is_err() {
                break;
            }
        }
        if let Some(sink) = self.shared.sink.clone() {
            // A blocking wait for the writer thread: not on a runtime thread.
            let _ = tokio::task::spawn_blocking(move || sink.flush(Duration::from_secs(5))).await;
        }
        self.shared.open_connections()
    }
}

/// Binds a listening socket with a deep accept queue (bursts during upgrades and
/// reloads wait there instead of being refused).
fn bind(addr: SocketAddr) -> Result<std::net::TcpListener, GatewayError> {
    let err = |source| GatewayError::Bind { addr, source };
    let domain = socket2::Domain::for_address(addr);
    let s = socket2::Socket::new(domain, socket2::Type::STREAM, Some(socket2::Protocol::TCP))
        .map_err(err)?;
    s.set_reuse_address(true).map_err(err)?;
    s.set_nonblocking(true).map_err(err)?;
    s.bind(&addr.into()).map_err(err)?;
    s.listen(1024).map_err(err)?;
    Ok(s.into())
}
