//! The JSON-lines access log: one event per line, appended, flushed once per batch.

use crate::EventError;
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// An open access log. Owned by the writer thread only.
pub(crate) struct AccessLog {
    path: PathBuf,
    out: BufWriter<File>,
}

impl AccessLog {
    /// Opens (creating if needed) `path` for appending.
    pub(crate) fn open(path: &Path) -> Result<Self, EventError> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|source| EventError::Io {
                path: path.to_owned(),
                source,
            })?;
        Ok(Self {
            path: path.to_owned(),
            // Large enough that a whole batch is usually one write(2).
            out: BufWriter::with_capacity(256 * 1024, file),
        })
    }

    /// Appends one already-serialised event and a newline (buffered).
    pub(crate) fn write_line(&mut self, json: &str) -> Result<(), EventError> {
        self.out
            .write_all(json.as_bytes())
            .and_then(|()| self.out.write_all(b"\n"))
            .map_err(|source| self.io(source))
    }

    /// Pushes buffered lines to the file.
    pub(crate) fn flush(&mut self) -> Result<(), EventError> {
        self.out.flush().map_err(|source| self.io(source))
    }

    /// Flushes, then opens the path again: after log rotation moved the old file away,
    /// new lines go to a fresh file at the configured path.
    pub(crate) fn reopen(&mut self) -> Result<(), EventError> {
        self.flush()?;
        *self = Self::open(&self.path)?;
        Ok(())
    }

    fn io(&self, source: std::io::Error) -> EventError {
        EventError::Io {
            path: self.path.clone(),
            source,
        }
    }
}
