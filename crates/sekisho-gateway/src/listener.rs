//! Accepting client connections and serving HTTP/1.1 and HTTP/2 on them (plain or TLS),
//! each request going through [`crate::pipeline::handle`].

use crate::gateway::{ConnGuard, Shared};
use crate::strict::{HeadScanner, Verdicts};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use sekisho_events::{Decision, Event, TlsInfo};
use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Instant;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;

/// What the pipeline knows about the connection a request came on. Each request holds it
/// (one reference count, not one per field) until its response ends.
pub struct ConnInfo {
    pub shared: Arc<Shared>,
    /// The connection's slot: a drain waits until the connection and its last request end.
    _guard: ConnGuard,
    pub peer: SocketAddr,
    /// The peer's IP as text, made once per connection (`X-Forwarded-For`, events).
    pub peer_text: http::HeaderValue,
    pub tls: Option<TlsInfo>,
    /// Strict-parse verdicts for this connection's HTTP/1 request heads.
    pub verdicts: Arc<Verdicts>,
    /// Whether a request is in flight, and since when the connection has had none.
    pub idle: IdleClock,
}

/// How long a connection has had no request in flight: what the header read timeout
/// bounds (an idle keep-alive connection, or a head that does not arrive in time).
#[derive(Debug)]
pub struct IdleClock {
    since: Instant,
    in_flight: AtomicU32,
    /// When the last request ended, in µs after `since` (0: none yet).
    idle_at_us: AtomicU64,
}

impl IdleClock {
    fn new(since: Instant) -> Self {
        Self {
            since,
            in_flight: AtomicU32::new(0),
            idle_at_us: AtomicU64::new(0),
        }
    }

    /// A request head went to the pipeline.
    fn busy(&self) {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
    }

    /// A request ended (its response was sent or abandoned) at `now`.
    pub fn done(&self, now: Instant) {
        let us = u64::try_from(now.saturating_duration_since(self.since).as_micros());
        self.idle_at_us
            .store(us.unwrap_or(u64::MAX), Ordering::Release);
        self.in_flight.fetch_sub(1, Ordering::AcqRel);
    }

    /// When the connection is overdue if nothing arrives; `None` while a request is in flight.
    fn overdue_at(&self, limit: std::time::Duration) -> Option<Instant> {
        if self.in_flight.load(Ordering::Acquire) > 0 {
            return None;
        }
        let idle_at = std::time::Duration::from_micros(self.idle_at_us.load(Ordering::Acquire));
        Some(self.since + idle_at + limit)
    }
}

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// Accepts until the gateway starts draining; then the listening socket is closed.
pub async fn accept_loop(shared: Arc<Shared>, listener: TcpListener, tls: Option<TlsAcceptor>) {
    let mut drain = shared.drain_tx.subscribe();
    loop {
        let accepted = tokio::select! {
            biased;
            () = draining(&mut drain) => return,
            r = listener.accept() => r,
        };
        let (stream, peer) = match accepted {
            Ok(x) => x,
            Err(e) => {
                // EMFILE and friends: back off instead of spinning.
                tracing::warn!("accept failed: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            }
        };
        shared
            .metrics
            .connections_total
            .fetch_add(1, Ordering::Relaxed);
        // Connection guard: the per-IP connection limit is checked before any byte is read.
        let Some(guard) = shared.admit(peer.ip()) else {
            shared
                .metrics
                .connections_refused
                .fetch_add(1, Ordering::Relaxed);
            continue;
        };
        let _ = stream.set_nodelay(true);
        tokio::spawn(serve(Arc::clone(&shared), stream, peer, tls.clone(), guard));
    }
}

async fn serve(
    shared: Arc<Shared>,
    stream: TcpStream,
    peer: SocketAddr,
    tls: Option<TlsAcceptor>,
    guard: ConnGuard,
) {
    let live = shared.live.load_full();
    let server = &live.config.server;
    let started = Instant::now();
    let (io, tls_info): (Box<dyn Io>, Option<TlsInfo>) = match tls {
        None => (Box::new(stream), None),
        Some(acceptor) => {
            // The handshake is bounded like a header section: a slow client holds nothing long.
            match tokio::time::timeout(server.header_read_timeout, acceptor.accept(stream)).await {
                Ok(Ok(s)) => {
                    let (_, c) = s.get_ref();
                    let info = TlsInfo {
                        version: c
                            .protocol_version()
                            .and_then(|v| v.as_str())
                            .unwrap_or("")
                            .replace("TLSv1_", "TLSv1.")
                            .to_owned(),
                        cipher: c
                            .negotiated_cipher_suite()
                            .and_then(|s| s.suite().as_str())
                            .unwrap_or("")
                            .to_owned(),
                        sni: c.server_name().unwrap_or("").to_owned(),
                        alpn: c
                            .alpn_protocol()
                            .map(|a| String::from_utf8_lossy(a).into_owned())
                            .unwrap_or_default(),
                    };
                    (Box::new(s), Some(info))
                }
                _ => return,
            }
        }
    };
    let verdicts = Arc::new(Verdicts::default());
    let meter = Arc::new(Meter::new());
    let mut io = Watched {
        inner: io,
        scanner: HeadScanner::new(server.max_header_bytes, Arc::clone(&verdicts)),
        meter: Arc::clone(&meter),
        tally: Tally::new(started),
        replay: Vec::new(),
    };
    // HTTP/2 when ALPN chose it, or (plain or without ALPN) when the client opens with
    // the HTTP/2 preface (prior knowledge); HTTP/1 otherwise. The first bytes are read
    // here, bounded like a request head, and handed back to hyper.
    let h2 = match tls_info.as_ref().map(|t| t.alpn.as_str()) {
        Some("h2") => true,
        Some("http/1.1") => false,
        // A connection accepted before a drain began is served even if the drain begins
        // now: its client may have sent its request already, and closing a socket with
        // unread bytes resets it (the client sees its request fail, not a closed idle
        // connection it could retry).
        _ => match tokio::time::timeout(server.header_read_timeout, io.sniff_h2()).await {
            Ok(Ok(h2)) => h2,
            _ => return,
        },
    };
    let conn = Arc::new(ConnInfo {
        shared: Arc::clone(&shared),
        _guard: guard,
        peer,
        peer_text: http::HeaderValue::try_from(peer.ip().to_string())
            .unwrap_or(http::HeaderValue::from_static("")),
        tls: tls_info,
        verdicts,
        idle: IdleClock::new(started),
    });
    let max_header_bytes = server.max_header_bytes;
    let header_read_timeout = server.header_read_timeout;
    drop(live);
    let svc_conn = Arc::clone(&conn);
    let svc_meter = Arc::clone(&meter);
    let home = Arc::new(std::sync::Mutex::new(None));
    let service = service_fn(move |req| {
        svc_meter.mark();
        svc_conn.idle.busy();
        let conn = Arc::clone(&svc_conn);
        // The pipeline runs on the connection's task. When the client goes away mid-request
        // (HTTP/1 connection closed, HTTP/2 stream reset) hyper drops this future; the rest
        // of the request then moves to a task of its own and still runs to its end and
        // emits its one event (the response is dropped unsent and the event says so). The
        // request holds the connection (and its slot) until its response ends, so that a
        // drain waits for it.
        let pipeline = FinishOnDrop::new(crate::pipeline::handle(conn, req), Arc::clone(&home));
        async move { Ok::<_, Infallible>(pipeline.await) }
    });
    let io = TokioIo::new(io);
    let result = if h2 {
        let connection = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
            .timer(TokioTimer::new())
            .max_header_list_size(u32::try_from(max_header_bytes).unwrap_or(u32::MAX))
            .serve_connection(io, service);
        // HTTP/2's GOAWAY names the last stream served: a client retries the later ones.
        until_done(connection, &shared, None, None).await
    } else {
        // No header read timeout of hyper's (a timer per request): `HeadTimer` is one per
        // connection.
        let connection = hyper::server::conn::http1::Builder::new()
            .max_buf_size(max_header_bytes)
            .keep_alive(true)
            // Head and body in one buffer, one plain write: for the small answers an API
            // mostly sends, cheaper than a vectored write of several pieces (+3 % proxy
            // throughput). A large body is copied once more in user space, as nginx's proxy
            // buffers do.
            .writev(false)
            .serve_connection(io, service);
        let timer = HeadTimer::new(header_read_timeout, &conn.idle);
        until_done(connection, &shared, Some(&meter), Some(timer)).await
    };
    if let Err(e) = result {
        parse_error_event(&shared, &conn, &e, &meter);
    }
}

/// A served connection that can be asked to finish gracefully.
trait Graceful: Future<Output = hyper::Result<()>> {
    fn graceful(self: Pin<&mut Self>);
}

impl<I, S, B> Graceful for hyper::server::conn::http1::Connection<I, S>
where
    S: hyper::service::HttpService<hyper::body::Incoming, ResBody = B>,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    I: hyper::rt::Read + hyper::rt::Write + Unpin,
    B: hyper::body::Body + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    fn graceful(self: Pin<&mut Self>) {
        self.graceful_shutdown();
    }
}

impl<I, S, B, E> Graceful for hyper::server::conn::http2::Connection<I, S, E>
where
    S: hyper::service::HttpService<hyper::body::Incoming, ResBody = B>,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    I: hyper::rt::Read + hyper::rt::Write + Unpin,
    B: hyper::body::Body + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    E: hyper::rt::bounds::Http2ServerConnExec<S::Future, B>,
{
    fn graceful(self: Pin<&mut Self>) {
        self.graceful_shutdown();
    }
}

/// Serves a connection to its end; once the gateway drains, asks it to finish gracefully
/// (HTTP/1: the request in flight, then close; HTTP/2: GOAWAY). An HTTP/1 connection that
/// has not yet had a request (its `meter` counts none) is asked once its first one arrives:
/// hyper closes an idle connection at once, and the first request's bytes may be on their
/// way (its client could not know to retry it). An HTTP/1 connection is closed when its
/// `timer` finds it overdue.
async fn until_done<C: Graceful>(
    connection: C,
    shared: &Shared,
    meter: Option<&Meter>,
    mut timer: Option<HeadTimer<'_>>,
) -> hyper::Result<()> {
    tokio::pin!(connection);
    let mut drain = DrainWatch::new(shared);
    let mut finish = false;
    let asked = || meter.is_none_or(|m| m.requests() > 0);
    std::future::poll_fn(|cx| {
        if drain.begins(cx) {
            finish = true;
        }
        if finish && asked() {
            finish = false;
            connection.as_mut().graceful();
        }
        if timer.as_mut().is_some_and(|t| t.overdue(cx)) {
            // Closed without an answer, as hyper's own header read timeout does.
            return Poll::Ready(Ok(()));
        }
        let polled = connection.as_mut().poll(cx);
        if polled.is_pending() && finish && asked() {
            // The first request arrived during this poll: ask now, and be polled again for
            // hyper to act on it (it may have answered already and be waiting to read).
            finish = false;
            connection.as_mut().graceful();
            cx.waker().wake_by_ref();
        }
        polled
    })
    .await
}

/// The header read timeout of an HTTP/1 connection: it is overdue once it has had no request
/// in flight for `limit` (see [`IdleClock`]). One timer per connection, re-armed only when
/// it fires (at most once per `limit`): hyper's own is made and dropped with every request.
struct HeadTimer<'a> {
    limit: std::time::Duration,
    idle: &'a IdleClock,
    sleep: Pin<Box<tokio::time::Sleep>>,
    wake: Arc<TimerWake>,
    armed: bool,
}

/// The timer's waker: marks that the timer fired, then wakes the connection's task, so that
/// the task's other wake-ups need not poll the timer.
#[derive(Default)]
struct TimerWake {
    fired: AtomicBool,
    task: std::sync::OnceLock<std::task::Waker>,
}

impl std::task::Wake for TimerWake {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.fired.store(true, Ordering::SeqCst);
        if let Some(w) = self.task.get() {
            w.wake_by_ref();
        }
    }
}

impl<'a> HeadTimer<'a> {
    fn new(limit: std::time::Duration, idle: &'a IdleClock) -> Self {
        Self {
            limit,
            idle,
            sleep: Box::pin(tokio::time::sleep(limit)),
            wake: Arc::default(),
            armed: false,
        }
    }

    /// Whether the connection is overdue. Looks only when the timer fired (or on the first
    /// poll, to arm it), then re-arms it for the next moment the connection could be overdue.
    fn overdue(&mut self, cx: &Context<'_>) -> bool {
        // A load first: the swap (a locked write) only once the timer really fired.
        let fired = self.wake.fired.load(Ordering::Acquire)
            && self.wake.fired.swap(false, Ordering::AcqRel);
        if self.armed && !fired {
            return false;
        }
        if !self.armed {
            let _ = self.wake.task.set(cx.waker().clone());
            self.armed = true;
        }
        let waker = std::task::Waker::from(Arc::clone(&self.wake));
        let mut timer_cx = Context::from_waker(&waker);
        // Twice at most: a deadline already past either is overdue or moves to the future.
        for _ in 0..2 {
            let now = Instant::now();
            let at = match self.idle.overdue_at(self.limit) {
                Some(at) if at <= now => return true,
                Some(at) => at,
                None => now + self.limit,
            };
            self.sleep
                .as_mut()
                .reset(tokio::time::Instant::from_std(at));
            if self.sleep.as_mut().poll(&mut timer_cx).is_pending() {
                return false;
            }
        }
        false
    }
}

/// Tells a connection's task when the gateway starts draining. The drain wakes the task
/// (`ConnTracker::watch_drain`); between wake-ups the check is one atomic load per poll,
/// where a `select!` on a watch receiver would poll the receiver on every wake-up.
struct DrainWatch<'a> {
    shared: &'a Shared,
    key: Option<u64>,
    seen: bool,
}

impl<'a> DrainWatch<'a> {
    fn new(shared: &'a Shared) -> Self {
        Self {
            shared,
            key: None,
            seen: false,
        }
    }

    /// True once: on the first poll after the drain began.
    fn begins(&mut self, cx: &Context<'_>) -> bool {
        if self.key.is_none() {
            // Registered before the flag is read: a drain that starts in between wakes us.
            self.key = Some(self.shared.conns.watch_drain(cx.waker()));
        }
        if self.seen || !self.shared.draining.load(Ordering::SeqCst) {
            return false;
        }
        self.seen = true;
        true
    }
}

impl Drop for DrainWatch<'_> {
    fn drop(&mut self) {
        if let Some(key) = self.key {
            self.shared.conns.unwatch_drain(key);
        }
    }
}

/// A future that, if dropped before it finished, finishes on a task of its own. Cheaper than
/// spawning every request: only a request whose client left pays for a task.
///
/// The future lives in a box (a few KiB: the whole pipeline's state) that the connection
/// keeps in `home` between requests: the next request's pipeline is written into it instead
/// of a fresh box being allocated and freed per request.
struct FinishOnDrop<F: Future + Send + 'static>
where
    F::Output: Send + 'static,
{
    fut: Option<Pin<Box<F>>>,
    home: Home<F>,
}

/// Where a connection keeps its finished pipeline box for the next request.
type Home<F> = Arc<std::sync::Mutex<Option<Pin<Box<F>>>>>;

impl<F: Future + Send + 'static> FinishOnDrop<F>
where
    F::Output: Send + 'static,
{
    fn new(fut: F, home: Home<F>) -> Self {
        let kept = home
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        let fut = match kept {
            Some(mut boxed) => {
                boxed.as_mut().set(fut);
                boxed
            }
            None => Box::pin(fut),
        };
        Self {
            fut: Some(fut),
            home,
        }
    }
}

impl<F: Future + Send + 'static> Future for FinishOnDrop<F>
where
    F::Output: Send + 'static,
{
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let Some(fut) = self.fut.as_mut() else {
            // Polled after it finished: a contract breach by the caller; never resolve twice.
            return Poll::Pending;
        };
        match fut.as_mut().poll(cx) {
            Poll::Ready(out) => {
                if let Some(done) = self.fut.take() {
                    let mut home = self
                        .home
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    if home.is_none() {
                        *home = Some(done);
                    }
                }
                Poll::Ready(out)
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<F: Future + Send + 'static> Drop for FinishOnDrop<F>
where
    F::Output: Send + 'static,
{
    fn drop(&mut self) {
        if let Some(fut) = self.fut.take() {
            if let Ok(rt) = tokio::runtime::Handle::try_current() {
                rt.spawn(async move {
                    drop(fut.await);
                });
            }
        }
    }
}

/// hyper answers malformed request heads itself (400, 431, 414); the pipeline never sees
/// them, so their event is written here.
fn parse_error_event(
    shared: &Shared,
    conn: &ConnInfo,
    err: &(dyn std::error::Error + 'static),
    meter: &Meter,
) {
    let Some(h) = err.downcast_ref::<hyper::Error>() else {
        return;
    };
    if !h.is_parse() {
        return;
    }
    let text = h.to_string();
    let status = if h.is_parse_too_large() {
        431
    } else if text.contains("URI too long") {
        414
    } else {
        400
    };
    let since = meter.since_mark();
    let latency = since.started.map(|t| t.elapsed()).unwrap_or_default();
    shared.metrics.parse_errors.fetch_add(1, Ordering::Relaxed);
    shared.live.load().unrouted.stats.record(status, latency);
    let Some(sink) = &shared.sink else { return };
    let mut ev = Event::new();
    ev.request_id = crate::forwarded::new_request_id().to_string();
    ev.client_ip = conn.peer.ip().to_string();
    ev.protocol = "HTTP/1.1".into();
    ev.status = status;
    ev.latency_us = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
    ev.bytes_in = since.read;
    ev.bytes_out = since.written;
    // What can be read of the refused head, for the record (it may be garbage).
    if let Some((method, target, host)) = request_line(&since.head) {
        ev.method = method;
        match target.split_once('?') {
            Some((p, q)) => {
                ev.path = p.to_owned();
                ev.query = q.to_owned();
            }
            None => ev.path = target,
        }
        ev.host = host;
    }
    ev.tls = conn.tls.clone();
    ev.decisions.push(Decision {
        phase: "parse".into(),
        action: "deny".into(),
        rule: String::new(),
        reason: text,
    });
    sink.emit(ev);
}

/// Method, target and `Host` of a raw HTTP/1 head, when its request line looks like one
/// (a token, a target without controls, `HTTP/`).
fn request_line(head: &[u8]) -> Option<(String, String, String)> {
    let text = String::from_utf8_lossy(head);
    let mut lines = text.trim_start_matches(['\r', '\n']).split("\r\n");
    let mut parts = lines.next()?.split(' ');
    let (method, target, version) = (parts.next()?, parts.next()?, parts.next()?);
    let plain = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_graphic());
    let looks_like_http = method.len() <= 32
        && method.bytes().all(|b| b.is_ascii_alphabetic())
        && plain(target)
        && version.starts_with("HTTP/");
    if !looks_like_http {
        return None;
    }
    let host = lines
        .take_while(|l| !l.is_empty())
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("host").then(|| value.trim())
        })
        .filter(|h| h.bytes().all(|b| b.is_ascii_graphic()))
        .unwrap_or("");
    Some((method.to_owned(), target.to_owned(), host.to_owned()))
}

/// How much of a request head is kept for the event of a refused request.
const HEAD_KEPT: usize = 1024;

/// Bytes a connection read and wrote, and the start of what it read since the last
/// request went to the pipeline: what the event of a request hyper refuses itself (whose
/// head the pipeline never sees) can say about it. Approximate on pipelined connections.
///
/// The reader ([`Watched`]) keeps the tally without a lock; the pipeline's side only counts
/// the heads it was handed (`mark`), and the reader hands the tally over when the connection
/// ends.
struct Meter {
    marks: AtomicU64,
    last: Mutex<Option<SinceMark>>,
}

/// What happened on a connection since its last request went to the pipeline.
#[derive(Default)]
struct SinceMark {
    read: u64,
    written: u64,
    started: Option<Instant>,
    head: Vec<u8>,
}

impl Meter {
    fn new() -> Self {
        Self {
            marks: AtomicU64::new(0),
            last: Mutex::new(None),
        }
    }

    /// A request head went to the pipeline: what follows belongs to the next one.
    fn mark(&self) {
        self.marks.fetch_add(1, Ordering::Release);
    }

    /// How many requests went to the pipeline.
    fn requests(&self) -> u64 {
        self.marks.load(Ordering::Acquire)
    }

    /// The reader's last tally (once the connection has ended).
    fn since_mark(&self) -> SinceMark {
        self.last
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
            .unwrap_or_default()
    }
}

/// The reader's side of the [`Meter`].
struct Tally {
    read: u64,
    written: u64,
    /// `Meter::marks` when last looked at, and the counts at that moment.
    marks: u64,
    read_at_mark: u64,
    written_at_mark: u64,
    /// When the first byte since the mark was read (the connection's start before any).
    started: Instant,
    head: Vec<u8>,
}

impl Tally {
    fn new(started: Instant) -> Self {
        Self {
            read: 0,
            written: 0,
            marks: 0,
            read_at_mark: 0,
            written_at_mark: 0,
            started,
            head: Vec::new(),
        }
    }

    /// Starts over if a request went to the pipeline since the last look.
    fn sync(&mut self, meter: &Meter) {
        let marks = meter.marks.load(Ordering::Acquire);
        if marks != self.marks {
            self.marks = marks;
            self.read_at_mark = self.read;
            self.written_at_mark = self.written;
            self.head.clear();
        }
    }

    fn on_read(&mut self, meter: &Meter, data: &[u8]) {
        self.sync(meter);
        self.read += data.len() as u64;
        let room = HEAD_KEPT.saturating_sub(self.head.len());
        if room > 0 {
            if self.head.is_empty() {
                // The first bytes since the mark: the next request starts here.
                self.started = Instant::now();
            }
            self.head
                .extend_from_slice(data.get(..room.min(data.len())).unwrap_or_default());
        }
    }

    fn on_write(&mut self, meter: &Meter, n: usize) {
        self.sync(meter);
        self.written += n as u64;
    }
}

/// A client connection as the gateway reads it: every byte read goes through the strict
/// [`HeadScanner`] (smuggling checks hyper does not make) and is counted by the [`Meter`]
/// (bytes and head of each request, for events); bytes written are counted too. One wrapper
/// for both, so a read costs one pass through one layer.
struct Watched<T> {
    inner: T,
    scanner: HeadScanner,
    meter: Arc<Meter>,
    tally: Tally,
    /// Bytes read before hyper took over (protocol sniffing), given to hyper first.
    replay: Vec<u8>,
}

/// What an HTTP/2 client with prior knowledge sends first.
const H2_PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

impl<T: AsyncRead + Unpin> Watched<T> {
    /// Reads until the first bytes are the HTTP/2 preface (true) or cannot be (false). The
    /// bytes read are kept for hyper.
    async fn sniff_h2(&mut self) -> io::Result<bool> {
        use tokio::io::AsyncReadExt;
        let mut buf = [0u8; H2_PREFACE.len()];
        let mut n = 0;
        loop {
            let Some(rest) = buf.get_mut(n..) else {
                return Ok(false);
            };
            let k = self.read(rest).await?;
            let seen = buf.get(..n + k).unwrap_or_default();
            self.replay
                .extend_from_slice(seen.get(n..).unwrap_or_default());
            n += k;
            if k == 0 || !H2_PREFACE.starts_with(seen) {
                return Ok(false);
            }
            if n == H2_PREFACE.len() {
                return Ok(true);
            }
        }
    }
}

impl<T> Drop for Watched<T> {
    /// The connection ends: the tally goes to the [`Meter`] for a refused head's event.
    fn drop(&mut self) {
        let t = &mut self.tally;
        t.sync(&self.meter);
        let since = SinceMark {
            read: t.read - t.read_at_mark,
            written: t.written - t.written_at_mark,
            started: Some(t.started),
            head: std::mem::take(&mut t.head),
        };
        *self
            .meter
            .last
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(since);
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Watched<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if !this.replay.is_empty() {
            // Already scanned and counted when first read.
            let k = this.replay.len().min(buf.remaining());
            buf.put_slice(this.replay.get(..k).unwrap_or_default());
            this.replay.drain(..k);
            return Poll::Ready(Ok(()));
        }
        let before = buf.filled().len();
        let r = Pin::new(&mut this.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = r {
            if let Some(new) = buf.filled().get(before..).filter(|n| !n.is_empty()) {
                this.scanner.feed(new);
                this.tally.on_read(&this.meter, new);
            }
        }
        r
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Watched<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        b: &[u8],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, b);
        if let Poll::Ready(Ok(n)) = r {
            let this = &mut *self;
            this.tally.on_write(&this.meter, n);
        }
        r
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if let Poll::Ready(Ok(n)) = r {
            let this = &mut *self;
            this.tally.on_write(&this.meter, n);
        }
        r
    }
    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

/// Resolves once the gateway drains (the watch guard must not live across an await).
pub(crate) async fn draining(rx: &mut tokio::sync::watch::Receiver<bool>) {
    let _ = rx.wait_for(|d| *d).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_it_can_of_a_refused_head() {
        let head = b"\r\nPOST /a/b?x=1 HTTP/1.1\r\nX: y\r\nHOST:  api.test:8080 \r\n\r\nHost: late";
        assert_eq!(
            request_line(head),
            Some(("POST".into(), "/a/b?x=1".into(), "api.test:8080".into()))
        );
        assert_eq!(
            request_line(b"GET / HTTP/1.1\r\nbroken\r\n"),
            Some(("GET".into(), "/".into(), String::new()))
        );
        assert_eq!(request_line(b"\x16\x03\x01\x02\x00"), None);
        assert_eq!(request_line(b"GET /a\x01b HTTP/1.1\r\n"), None);
        assert_eq!(request_line(b"G3T / HTTP/1.1\r\n"), None);
        assert_eq!(request_line(b"GET / SPDY/3\r\n"), None);
    }
}
