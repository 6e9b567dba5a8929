//! The event sink: `emit` hands an event to a bounded queue and returns at once; one
//! dedicated writer thread (not a tokio task: SQLite and file writes block) drains the
//! queue in batches into the access log and the store.

use crate::jsonl::AccessLog;
use crate::store::StoreWriter;
use crate::{Event, EventError, EventSinkConfig};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// What the request path and the control calls send to the writer thread.
enum Msg {
    /// Boxed so that each queue slot is one pointer, not a whole event.
    Event(Box<Event>),
    Flush(SyncSender<()>),
    Reopen(SyncSender<Result<(), EventError>>),
    Shutdown,
}

#[derive(Default)]
struct Counters {
    queued: AtomicU64,
    dropped: AtomicU64,
    written: AtomicU64,
    failed: AtomicU64,
    last_error: Mutex<Option<String>>,
}

struct Inner {
    tx: SyncSender<Msg>,
    counters: Arc<Counters>,
    writer: Mutex<Option<JoinHandle<()>>>,
}

/// Handle to the event writer. Cheap to clone (an `Arc`); `Send + Sync`.
///
/// Example:
/// ```
/// # use sekisho_events::{Event, EventSink, EventSinkConfig};
/// let sink = EventSink::start(EventSinkConfig::default()).unwrap();
/// sink.emit(Event::default());
/// sink.shutdown().unwrap();
/// ```
#[derive(Clone)]
pub struct EventSink {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for EventSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventSink")
            .field("pending", &self.pending())
            .field("written", &self.written())
            .field("dropped", &self.dropped())
            .field("failed", &self.failed())
            .finish()
    }
}

impl EventSink {
    /// Opens the configured access log and store (so that a bad path fails here, with
    /// the path in the error) and starts the writer thread.
    pub fn start(cfg: EventSinkConfig) -> Result<EventSink, EventError> {
        let log = cfg.access_log.as_deref().map(AccessLog::open).transpose()?;
        let store = cfg.store.as_deref().map(StoreWriter::open).transpose()?;
        let (tx, rx) = mpsc::sync_channel(cfg.queue_capacity.max(1));
        let counters = Arc::new(Counters::default());
        let writer = Writer {
            rx,
            log,
            store,
            batch: Vec::with_capacity(cfg.batch_size.max(1)),
            batch_size: cfg.batch_size.max(1),
            flush_interval: cfg.flush_interval,
            counters: Arc::clone(&counters),
        };
        let handle = std::thread::Builder::new()
            .name("sekisho-events".into())
            .spawn(move || writer.run())
            .map_err(EventError::Spawn)?;
        Ok(EventSink {
            inner: Arc::new(Inner {
                tx,
                counters,
                writer: Mutex::new(Some(handle)),
            }),
        })
    }

    /// Queues `ev` for writing. Never blocks: when the queue is full (or the sink is
    /// stopped) the event is dropped and counted in [`dropped`](Self::dropped).
    pub fn emit(&self, ev: Event) {
        let c = &self.inner.counters;
        // Counted before the send so the writer's decrement can never underflow.
        c.queued.fetch_add(1, Ordering::Relaxed);
        if self.inner.tx.try_send(Msg::Event(Box::new(ev))).is_err() {
            c.queued.fetch_sub(1, Ordering::Relaxed);
            c.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Events dropped because the queue was full or the sink stopped.
    pub fn dropped(&self) -> u64 {
        self.inner.counters.dropped.load(Ordering::Relaxed)
    }

    /// Events written to every configured destination.
    pub fn written(&self) -> u64 {
        self.inner.counters.written.load(Ordering::Relaxed)
    }

    /// Events lost because a destination failed (disk full, locked store, …).
    pub fn failed(&self) -> u64 {
        self.inner.counters.failed.load(Ordering::Relaxed)
    }

    /// Events queued and not yet taken by the writer (a gauge for `/metrics`).
    pub fn pending(&self) -> u64 {
        self.inner.counters.queued.load(Ordering::Relaxed)
    }

    /// The last write error, for logs and `/metrics`; `None` when every write succeeded.
    pub fn last_error(&self) -> Option<String> {
        self.inner
            .counters
            .last_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Waits until every event emitted before this call is written, at most `timeout`.
    pub fn flush(&self, timeout: Duration) -> Result<(), EventError> {
        let (reply, done) = mpsc::sync_channel(1);
        let deadline = Instant::now() + timeout;
        self.send_control(Msg::Flush(reply), deadline)?;
        recv_until(&done, deadline)
    }

    /// Flushes the access log and opens its path again, for log rotation (`SIGHUP`).
    pub fn reopen(&self, timeout: Duration) -> Result<(), EventError> {
        let (reply, done) = mpsc::sync_channel(1);
        let deadline = Instant::now() + timeout;
        self.send_control(Msg::Reopen(reply), deadline)?;
        recv_until(&done, deadline)?
    }

    /// Graceful stop: writes every queued event, then ends the writer thread and waits
    /// for it. Events emitted afterwards through other clones are dropped and counted.
    pub fn shutdown(self) -> Result<(), EventError> {
        self.shutdown_timeout(Duration::MAX)
    }

    /// [`shutdown`](Self::shutdown), giving up after `timeout` (the writer then finishes
    /// in the background).
    pub fn shutdown_timeout(self, timeout: Duration) -> Result<(), EventError> {
        let deadline = Instant::now().checked_add(timeout);
        self.send_control(Msg::Shutdown, deadline.unwrap_or_else(far_future))?;
        let handle = self
            .inner
            .writer
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        let Some(handle) = handle else {
            return Ok(()); // another clone already shut it down
        };
        while !handle.is_finished() {
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return Err(EventError::Timeout);
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        handle.join().map_err(|_| EventError::Stopped)
    }

    /// Control messages wait for room in the queue (they are off the request path).
    fn send_control(&self, mut msg: Msg, deadline: Instant) -> Result<(), EventError> {
        loop {
            match self.inner.tx.try_send(msg) {
                Ok(()) => return Ok(()),
                Err(TrySendError::Disconnected(_)) => return Err(EventError::Stopped),
                Err(TrySendError::Full(back)) => msg = back,
            }
            if Instant::now() >= deadline {
                return Err(EventError::Timeout);
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}

fn far_future() -> Instant {
    Instant::now() + Duration::from_secs(100 * 365 * 86_400)
}

fn recv_until<T>(rx: &Receiver<T>, deadline: Instant) -> Result<T, EventError> {
    rx.recv_timeout(deadline.saturating_duration_since(Instant::now()))
        .map_err(|e| match e {
            RecvTimeoutError::Timeout => EventError::Timeout,
            RecvTimeoutError::Disconnected => EventError::Stopped,
        })
}

/// State of the writer thread.
struct Writer {
    rx: Receiver<Msg>,
    log: Option<AccessLog>,
    store: Option<StoreWriter>,
    batch: Vec<Event>,
    batch_size: usize,
    flush_interval: Duration,
    counters: Arc<Counters>,
}

impl Writer {
    /// Batches events until `batch_size` or until the first of them is `flush_interval`
    /// old, whichever comes first; control messages write the batch at once.
    fn run(mut self) {
        let mut deadline: Option<Instant> = None;
        loop {
            let msg = match deadline {
                None => self.rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
                Some(d) => self
                    .rx
                    .recv_timeout(d.saturating_duration_since(Instant::now())),
            };
            match msg {
                Ok(Msg::Event(ev)) => {
                    self.take(*ev);
                    if deadline.is_none() {
                        deadline = Some(Instant::now() + self.flush_interval);
                    }
                    if self.batch.len() >= self.batch_size {
                        self.write_batch();
                        deadline = None;
                    }
                }
                Ok(Msg::Flush(reply)) => {
                    self.write_batch();
                    deadline = None;
                    let _ = reply.send(());
                }
                Ok(Msg::Reopen(reply)) => {
                    self.write_batch();
                    deadline = None;
                    let result = self.log.as_mut().map_or(Ok(()), AccessLog::reopen);
                    let _ = reply.send(result);
                }
                Ok(Msg::Shutdown) => {
                    self.drain();
                    return;
                }
                Err(RecvTimeoutError::Timeout) => {
                    self.write_batch();
                    deadline = None;
                }
                Err(RecvTimeoutError::Disconnected) => {
                    self.write_batch();
                    return;
                }
            }
        }
    }

    fn take(&mut self, ev: Event) {
        self.counters.queued.fetch_sub(1, Ordering::Relaxed);
        self.batch.push(ev);
    }

    /// Writes everything still queued, in batches; control messages are answered.
    fn drain(&mut self) {
        while let Ok(msg) = self.rx.try_recv() {
            match msg {
                Msg::Event(ev) => {
                    self.take(*ev);
                    if self.batch.len() >= self.batch_size {
                        self.write_batch();
                    }
                }
                Msg::Flush(reply) => {
                    self.write_batch();
                    let _ = reply.send(());
                }
                Msg::Reopen(reply) => {
                    let _ = reply.send(Err(EventError::Stopped));
                }
                Msg::Shutdown => {}
            }
        }
        self.write_batch();
    }

    fn write_batch(&mut self) {
        if self.batch.is_empty() {
            return;
        }
        let events = std::mem::replace(&mut self.batch, Vec::with_capacity(self.batch_size));
        let mut rows = Vec::with_capacity(events.len());
        for ev in events {
            match serde_json::to_string(&ev) {
                Ok(json) => rows.push((ev, json)),
                Err(e) => self.fail(1, &format!("cannot serialise an event: {e}")),
            }
        }
        let good = rows.len() as u64;
        let result = self.write_rows(&rows);
        match result {
            Ok(()) => {
                self.counters.written.fetch_add(good, Ordering::Relaxed);
            }
            Err(e) => self.fail(good, &e.to_string()),
        }
    }

    fn write_rows(&mut self, rows: &[(Event, String)]) -> Result<(), EventError> {
        if let Some(log) = self.log.as_mut() {
            for (_, json) in rows {
                log.write_line(json)?;
            }
            log.flush()?;
        }
        if let Some(store) = self.store.as_mut() {
            store.insert_batch(rows)?;
        }
        Ok(())
    }

    /// Counts lost events and reports the error on stderr once per distinct message, so
    /// that a full disk does not flood the log.
    fn fail(&self, n: u64, message: &str) {
        self.counters.failed.fetch_add(n, Ordering::Relaxed);
        let mut last = self
            .counters
            .last_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if last.as_deref() != Some(message) {
            eprintln!("sekisho-events: {n} events lost: {message}");
            *last = Some(message.to_owned());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::EventStore;
    use std::path::Path;

    fn event(i: usize) -> Event {
        Event {
            request_id: format!("r-{i}"),
            client_ip: "192.0.2.7".into(),
            method: "GET".into(),
            path: format!("/api/users/{i}"),
            status: 200,
            route: "api".into(),
            time: "2026-11-22T15:00:00.000Z".into(),
            ..Event::new()
        }
    }

    fn config(dir: &Path) -> EventSinkConfig {
        EventSinkConfig {
            access_log: Some(dir.join("access.jsonl")),
            store: Some(dir.join("events.db")),
            ..EventSinkConfig::default()
        }
    }

    #[test]
    fn sink_is_shareable_across_threads() {
        fn assert<T: Send + Sync + Clone + 'static>() {}
        assert::<EventSink>();
    }

    #[test]
    fn events_are_written_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let sink = EventSink::start(config(dir.path())).unwrap();
        for i in 0..1000 {
            sink.emit(event(i));
        }
        sink.flush(Duration::from_secs(10)).unwrap();
        assert_eq!(sink.written(), 1000);
        assert_eq!((sink.dropped(), sink.failed(), sink.pending()), (0, 0, 0));

        let store = EventStore::open(&dir.path().join("events.db")).unwrap();
        assert_eq!(store.count().unwrap(), 1000);
        assert_eq!(store.by_request_id("r-42").unwrap(), vec![event(42)]);
        let recent = store.recent(2).unwrap();
        let ids: Vec<_> = recent.iter().map(|e| e.request_id.as_str()).collect();
        assert_eq!(ids, ["r-999", "r-998"]);

        let log = std::fs::read_to_string(dir.path().join("access.jsonl")).unwrap();
        let lines: Vec<Event> = log
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 1000);
        assert_eq!(lines[7], event(7));
        sink.shutdown().unwrap();
    }

    /// A stalled writer (its store locked by another connection) must not slow `emit`:
    /// the queue fills, further events are dropped and counted, and nothing waits.
    #[test]
    fn full_queue_drops_and_counts_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = EventSinkConfig {
            access_log: None,
            queue_capacity: 8,
            batch_size: 1,
            ..config(dir.path())
        };
        let sink = EventSink::start(cfg).unwrap();
        let blocker = rusqlite::Connection::open(dir.path().join("events.db")).unwrap();
        blocker.execute_batch("BEGIN EXCLUSIVE").unwrap();

        sink.emit(event(0));
        let t = Instant::now();
        while sink.pending() > 0 {
            assert!(
                t.elapsed() < Duration::from_secs(5),
                "writer never took the event"
            );
            std::thread::sleep(Duration::from_millis(1));
        }
        // The writer now waits on the lock (busy timeout 5 s).
        let t = Instant::now();
        for i in 1..=1000 {
            sink.emit(event(i));
        }
        let took = t.elapsed();
        assert!(
            took < Duration::from_millis(200),
            "1000 emits took {took:?}"
        );
        assert_eq!(sink.pending(), 8);
        assert_eq!(sink.dropped(), 1000 - 8);

        blocker.execute_batch("COMMIT").unwrap();
        sink.flush(Duration::from_secs(20)).unwrap();
        assert_eq!(sink.written(), 9);
        assert_eq!(sink.failed(), 0);
        sink.shutdown().unwrap();
    }

    #[test]
    fn shutdown_writes_what_is_queued() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = EventSinkConfig {
            flush_interval: Duration::from_secs(3600),
            ..config(dir.path())
        };
        let sink = EventSink::start(cfg).unwrap();
        let other = sink.clone();
        for i in 0..100 {
            sink.emit(event(i));
        }
        sink.shutdown().unwrap();
        let store = EventStore::open(&dir.path().join("events.db")).unwrap();
        assert_eq!(store.count().unwrap(), 100);
        // A clone emitting after the shutdown drops and counts.
        other.emit(event(100));
        assert_eq!(other.dropped(), 1);
        assert!(matches!(
            other.flush(Duration::from_secs(1)),
            Err(EventError::Stopped)
        ));
    }

    #[test]
    fn reopen_follows_log_rotation() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("access.jsonl");
        let sink = EventSink::start(config(dir.path())).unwrap();
        sink.emit(event(1));
        sink.flush(Duration::from_secs(5)).unwrap();
        std::fs::rename(&log, dir.path().join("access.jsonl.1")).unwrap();
        sink.reopen(Duration::from_secs(5)).unwrap();
        sink.emit(event(2));
        sink.flush(Duration::from_secs(5)).unwrap();
        let fresh = std::fs::read_to_string(&log).unwrap();
        assert_eq!(fresh.lines().count(), 1);
        assert!(fresh.contains("\"r-2\""));
        sink.shutdown().unwrap();
    }

    #[test]
    fn bad_path_fails_at_start_naming_it() {
        let cfg = EventSinkConfig {
            access_log: Some("/nonexistent-dir/access.jsonl".into()),
            ..EventSinkConfig::default()
        };
        let err = EventSink::start(cfg).unwrap_err().to_string();
        assert!(
            err.starts_with("access log `/nonexistent-dir/access.jsonl`"),
            "{err}"
        );
    }
}
