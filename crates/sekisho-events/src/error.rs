//! The one error type of the event sinks and the store.

use std::fmt;
use std::path::PathBuf;

/// Why a sink or the store could not be opened or written.
#[derive(Debug)]
#[non_exhaustive]
pub enum EventError {
    /// The access log could not be opened or written.
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The SQLite store failed.
    Store {
        path: PathBuf,
        source: rusqlite::Error,
    },
    /// The store was written by another schema version of this program.
    SchemaVersion {
        path: PathBuf,
        found: i64,
        expected: i64,
    },
    /// A stored event is not valid JSON for this schema.
    Decode {
        path: PathBuf,
        source: serde_json::Error,
    },
    /// The writer thread could not be started.
    Spawn(std::io::Error),
    /// The sink has been shut down, or its writer thread is gone.
    Stopped,
    /// The writer did not answer within the given time.
    Timeout,
}

impl fmt::Display for EventError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io { path, source } => {
                write!(f, "access log `{}`: {source}", path.display())
            }
            Self::Store { path, source } => {
                write!(f, "event store `{}`: {source}", path.display())
            }
            Self::SchemaVersion {
                path,
                found,
                expected,
            } => write!(
                f,
                "event store `{}` has schema version {found}, this build reads version {expected}",
                path.display()
            ),
            Self::Decode { path, source } => {
                write!(
                    f,
                    "event store `{}`: bad stored event: {source}",
                    path.display()
                )
            }
            Self::Spawn(source) => write!(f, "cannot start the event writer thread: {source}"),
            Self::Stopped => f.write_str("the event sink is stopped"),
            Self::Timeout => f.write_str("the event writer did not answer in time"),
        }
    }
}

impl std::error::Error for EventError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io { source, .. } | Self::Spawn(source) => Some(source),
            Self::Store { source, .. } => Some(source),
            Self::Decode { source, .. } => Some(source),
            _ => None,
        }
    }
}
