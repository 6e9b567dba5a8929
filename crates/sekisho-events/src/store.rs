//! The embedded event store: SQLite in WAL mode, one table `events` with the columns
//! that queries filter on, plus the whole event as JSON.
//!
//! The writer side ([`StoreWriter`]) belongs to the sink's writer thread; the read side
//! ([`EventStore`]) is for tests and the console. WAL lets both work at the same time.

use crate::{Event, EventError};
use rusqlite::{params, Connection, OpenFlags, OptionalExtension};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Layout version of the store's tables, kept in `PRAGMA user_version`. Bumped whenever
/// a column or index changes; a store of another version is refused, never rewritten.
pub const STORE_SCHEMA_VERSION: i64 = 1;

const SCHEMA: &str = "
CREATE TABLE events (
    id         INTEGER PRIMARY KEY,
    time       TEXT    NOT NULL,
    request_id TEXT    NOT NULL,
    client_ip  TEXT    NOT NULL,
    method     TEXT    NOT NULL,
    host       TEXT    NOT NULL,
    path       TEXT    NOT NULL,
    status     INTEGER NOT NULL,
    route      TEXT    NOT NULL,
    upstream   TEXT    NOT NULL,
    latency_us INTEGER NOT NULL,
    bytes_in   INTEGER NOT NULL,
    bytes_out  INTEGER NOT NULL,
    event      TEXT    NOT NULL
);
CREATE INDEX events_time ON events(time);
CREATE INDEX events_client_ip ON events(client_ip);
CREATE INDEX events_status ON events(status);
CREATE INDEX events_route ON events(route);
CREATE INDEX events_request_id ON events(request_id);
";

const INSERT: &str = "INSERT INTO events (time, request_id, client_ip, method, host, path,
    status, route, upstream, latency_us, bytes_in, bytes_out, event)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)";

/// Opens `path` with the pragmas both sides need and checks (or, when `create` and the
/// database is empty, writes) the schema version.
fn open(path: &Path, create: bool) -> Result<Connection, EventError> {
    let err = |source| EventError::Store {
        path: path.to_owned(),
        source,
    };
    let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    if create {
        flags |= OpenFlags::SQLITE_OPEN_CREATE;
    }
    let conn = Connection::open_with_flags(path, flags).map_err(err)?;
    conn.busy_timeout(Duration::from_secs(5)).map_err(err)?;
    // WAL: readers never block the writer. NORMAL: no fsync per commit; a power loss may
    // lose the last batches but never corrupts the store.
    conn.pragma_update(None, "journal_mode", "WAL")
        .map_err(err)?;
    conn.pragma_update(None, "synchronous", "NORMAL")
        .map_err(err)?;
    let found: i64 = conn
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .map_err(err)?;
    if found == STORE_SCHEMA_VERSION {
        return Ok(conn);
    }
    let empty = conn
        .query_row("SELECT 1 FROM sqlite_master LIMIT 1", [], |_| Ok(()))
        .optional()
        .map_err(err)?
        .is_none();
    if found == 0 && empty && create {
        let batch = format!("BEGIN;{SCHEMA}PRAGMA user_version = {STORE_SCHEMA_VERSION};COMMIT;");
        conn.execute_batch(&batch).map_err(err)?;
        return Ok(conn);
    }
    Err(EventError::SchemaVersion {
        path: path.to_owned(),
        found,
        expected: STORE_SCHEMA_VERSION,
    })
}

/// The write side, owned by the writer thread.
pub(crate) struct StoreWriter {
    path: PathBuf,
    conn: Connection,
}

impl StoreWriter {
    /// Opens or creates the store at `path`.
    pub(crate) fn open(path: &Path) -> Result<Self, EventError> {
        Ok(Self {
            path: path.to_owned(),
            conn: open(path, true)?,
        })
    }

    /// Inserts a batch of `(event, its JSON)` in one transaction: one commit per batch
    /// is what makes the store keep up with the request rate.
    pub(crate) fn insert_batch(&mut self, batch: &[(Event, String)]) -> Result<(), EventError> {
        let path = &self.path;
        let err = |source| EventError::Store {
            path: path.clone(),
            source,
        };
        let tx = self.conn.transaction().map_err(err)?;
        {
            let mut stmt = tx.prepare_cached(INSERT).map_err(err)?;
            for (ev, json) in batch {
                stmt.execute(params![
                    ev.time,
                    ev.request_id,
                    ev.client_ip,
                    ev.method,
                    ev.host,
                    ev.path,
                    ev.status,
                    ev.route,
                    ev.upstream,
                    clamp(ev.latency_us),
                    clamp(ev.bytes_in),
                    clamp(ev.bytes_out),
                    json,
                ])
                .map_err(err)?;
            }
        }
        tx.commit().map_err(err)
    }
}

/// SQLite integers are signed 64-bit; larger counts are capped rather than refused.
fn clamp(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// The read side of an event store written by an [`EventSink`](crate::EventSink).
///
/// Example: `EventStore::open("events.db".as_ref())?.recent(10)?`.
pub struct EventStore {
    path: PathBuf,
    conn: Connection,
}

impl EventStore {
    /// Opens an existing store; fails when it is missing or of another schema version.
    pub fn open(path: &Path) -> Result<Self, EventError> {
        Ok(Self {
            path: path.to_owned(),
            conn: open(path, false)?,
        })
    }

    /// Number of stored events.
    pub fn count(&self) -> Result<u64, EventError> {
        let n: i64 = self
            .conn
            .query_row("SELECT count(*) FROM events", [], |row| row.get(0))
            .map_err(|source| self.store_err(source))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// The `limit` most recently written events, newest first.
    pub fn recent(&self, limit: usize) -> Result<Vec<Event>, EventError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.select("SELECT event FROM events ORDER BY id DESC LIMIT ?1", limit)
    }

    /// Every event with this request id (normally one), oldest first.
    pub fn by_request_id(&self, request_id: &str) -> Result<Vec<Event>, EventError> {
        self.select(
            "SELECT event FROM events WHERE request_id = ?1 ORDER BY id",
            request_id,
        )
    }

    fn select(&self, sql: &str, arg: impl rusqlite::ToSql) -> Result<Vec<Event>, EventError> {
        let mut stmt = self
            .conn
            .prepare_cached(sql)
            .map_err(|source| self.store_err(source))?;
        let rows = stmt
            .query_map([arg], |row| row.get::<_, String>(0))
            .map_err(|source| self.store_err(source))?;
        let mut out = Vec::new();
        for json in rows {
            let json = json.map_err(|source| self.store_err(source))?;
            let ev = serde_json::from_str(&json).map_err(|source| EventError::Decode {
                path: self.path.clone(),
                source,
            })?;
            out.push(ev);
        }
        Ok(out)
    }

    fn store_err(&self, source: rusqlite::Error) -> EventError {
        EventError::Store {
            path: self.path.clone(),
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_store_records_its_schema_version() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.db");
        StoreWriter::open(&path).unwrap();
        let conn = Connection::open(&path).unwrap();
        let v: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(v, STORE_SCHEMA_VERSION);
        let mode: String = conn
            .pragma_query_value(None, "journal_mode", |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        // Opening again (restart) keeps it.
        StoreWriter::open(&path).unwrap();
        assert_eq!(EventStore::open(&path).unwrap().count().unwrap(), 0);
    }

    #[test]
    fn other_schema_version_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.db");
        StoreWriter::open(&path).unwrap();
        Connection::open(&path)
            .unwrap()
            .pragma_update(None, "user_version", 7)
            .unwrap();
        for err in [
            StoreWriter::open(&path).err().unwrap(),
            EventStore::open(&path).err().unwrap(),
        ] {
            assert!(
                matches!(
                    err,
                    EventError::SchemaVersion {
                        found: 7,
                        expected: 1,
                        ..
                    }
                ),
                "{err}"
            );
        }
    }

    #[test]
    fn foreign_database_is_refused_not_altered() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("other.db");
        Connection::open(&path)
            .unwrap()
            .execute_batch("CREATE TABLE t (x)")
            .unwrap();
        let err = StoreWriter::open(&path).err().unwrap();
        assert!(
            matches!(err, EventError::SchemaVersion { found: 0, .. }),
            "{err}"
        );
    }

    #[test]
    fn reading_a_missing_store_fails() {
        let dir = tempfile::tempdir().unwrap();
        let err = EventStore::open(&dir.path().join("missing.db"))
            .err()
            .unwrap();
        assert!(err.to_string().starts_with("event store `"), "{err}");
    }
}
