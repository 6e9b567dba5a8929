//! Strict HTTP/1 checks beyond hyper's own parser.
//!
//! hyper already answers 400 to obs-fold, whitespace before the colon, NUL or bare CR in
//! headers, invalid methods, versions and chunk sizes, differing duplicate
//! `Content-Length`s, and 431 to oversized header sections. What it accepts (as RFC 9112
//! allows a server to) is a request with both `Content-Length` and `Transfer-Encoding`:
//! it silently drops the length. A proxy must refuse that message, because a server
//! behind another hop may frame it by the length instead (request smuggling). hyper no
//! longer shows the dropped header, so [`HeadScanner`] watches the raw bytes of the
//! connection, frames each request the way hyper does, and queues one verdict per request
//! head; the pipeline takes them in order.

use std::collections::VecDeque;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Verdicts for request heads seen on one connection, oldest first; `Some(reason)` marks a
/// head the gateway must refuse.
#[derive(Default, Debug)]
pub struct Verdicts(Mutex<VecDeque<Option<&'static str>>>);

impl Verdicts {
    /// The verdict for the next request hyper hands over; `None` when the scanner had
    /// nothing to say (it stops on HTTP/2 and on heads hyper refuses itself).
    pub fn next(&self) -> Option<&'static str> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop_front()
            .flatten()
    }

    fn push(&self, v: Option<&'static str>) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push_back(v);
    }
}

enum State {
    Head(Vec<u8>),
    Body(u64),
    ChunkLine(Vec<u8>),
    ChunkData(u64),
    Trailers(Vec<u8>),
    /// Not HTTP/1 any more (HTTP/2, upgrade) or hyper will refuse the bytes itself.
    Off,
}

/// Follows the request framing of one HTTP/1 connection.
pub struct HeadScanner {
    state: State,
    max_head: usize,
    verdicts: Arc<Verdicts>,
}

impl HeadScanner {
    pub fn new(max_head: usize, verdicts: Arc<Verdicts>) -> Self {
        Self {
            state: State::Head(Vec::new()),
            max_head,
            verdicts,
        }
    }

    /// Feeds bytes read from the client, in order.
    pub fn feed(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            let state = std::mem::replace(&mut self.state, State::Off);
            self.state = match state {
                State::Off => return,
                State::Head(mut buf) => {
                    let (taken, done) = take_until(&mut buf, data, b"\r\n\r\n");
                    data = data.get(taken..).unwrap_or_default();
                    if done {
                        self.head(&buf)
                    } else if buf.len() > self.max_head {
                        State::Off
                    } else {
                        State::Head(buf)
                    }
                }
                State::Body(n) => {
                    let k = usize::try_from(n).unwrap_or(usize::MAX).min(data.len());
                    data = data.get(k..).unwrap_or_default();
                    let left = n - k as u64;
                    if left == 0 {
                        State::Head(Vec::new())
                    } else {
                        State::Body(left)
                    }
                }
                State::ChunkLine(mut buf) => {
                    let (taken, done) = take_until(&mut buf, data, b"\n");
                    data = data.get(taken..).unwrap_or_default();
                    if !done {
                        if buf.len() > 1024 {
                            State::Off
                        } else {
                            State::ChunkLine(buf)
                        }
                    } else {
                        let line = String::from_utf8_lossy(&buf);
                        let size = line.trim_end().split(';').next().unwrap_or("").trim();
                        match u64::from_str_radix(size, 16) {
                            Ok(0) => State::Trailers(Vec::new()),
                            // data, then its CRLF
                            Ok(n) => State::ChunkData(n.saturating_add(2)),
                            Err(_) => State::Off,
                        }
                    }
                }
                State::ChunkData(n) => {
                    let k = usize::try_from(n).unwrap_or(usize::MAX).min(data.len());
                    data = data.get(k..).unwrap_or_default();
                    let left = n - k as u64;
                    if left == 0 {
                        State::ChunkLine(Vec::new())
                    } else {
                        State::ChunkData(left)
                    }
                }
                State::Trailers(mut buf) => {
                    let (taken, _) = take_until(&mut buf, data, b"\n");
                    data = data.get(taken..).unwrap_or_default();
                    if buf == b"\r\n" || buf.ends_with(b"\r\n\r\n") {
                        State::Head(Vec::new())
                    } else if buf.len() > self.max_head {
                        State::Off
                    } else {
                        State::Trailers(buf)
                    }
                }
            };
        }
    }

    /// Judges one complete head and decides how its body is framed.
    fn head(&mut self, head: &[u8]) -> State {
        // hyper skips empty lines before a request line; so do we.
        let start = head
            .iter()
            .position(|&b| b != b'\r' && b != b'\n')
            .unwrap_or(0);
        let head = head.get(start..).unwrap_or_default();
        if head.starts_with(b"PRI * HTTP/2.0") {
            return State::Off;
        }
        let mut content_length = None;
        let mut lengths = 0usize;
        let mut te = 0usize;
        let mut upgrade = false;
        for line in head.split(|&b| b == b'\n').skip(1) {
            let Some(colon) = line.iter().position(|&b| b == b':') else {
                continue;
            };
            let (name, value) = line.split_at(colon);
            let value = String::from_utf8_lossy(value.get(1..).unwrap_or_default());
            let value = value.trim();
            if name.eq_ignore_ascii_case(b"content-length") {
                lengths += 1;
                content_length = value.parse::<u64>().ok();
            } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
                te += 1;
            } else if name.eq_ignore_ascii_case(b"upgrade") {
                upgrade = true;
            }
        }
        if te > 0 && lengths > 0 {
            self.verdicts
                .push(Some("both content-length and transfer-encoding present"));
            return State::Off;
        }
        self.verdicts.push(None);
        if upgrade {
            State::Off
        } else if te > 0 {
            State::ChunkLine(Vec::new())
        } else if lengths > 0 {
            match content_length {
                Some(0) => State::Head(Vec::new()),
                Some(n) => State::Body(n),
                None => State::Off,
            }
        } else {
            State::Head(Vec::new())
        }
    }
}

/// Appends `data` to `buf` up to and including the first `end` (searched across the
/// boundary); returns how many bytes of `data` were taken and whether `end` was found.
fn take_until(buf: &mut Vec<u8>, data: &[u8], end: &[u8]) -> (usize, bool) {
    for (i, &b) in data.iter().enumerate() {
        buf.push(b);
        if buf.ends_with(end) {
            return (i + 1, true);
        }
    }
    (data.len(), false)
}

/// A client connection whose reads go through a [`HeadScanner`].
pub struct Scanned<T> {
    inner: T,
    scanner: HeadScanner,
}

impl<T> Scanned<T> {
    pub fn new(inner: T, scanner: HeadScanner) -> Self {
        Self { inner, scanner }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Scanned<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let this = &mut *self;
        let r = Pin::new(&mut this.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = r {
            if let Some(new) = buf.filled().get(before..) {
                this.scanner.feed(new);
            }
        }
        r
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Scanned<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        b: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, b)
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
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }
    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(chunks: &[&[u8]]) -> Vec<Option<&'static str>> {
        let v = Arc::new(Verdicts::default());
        let mut s = HeadScanner::new(16384, v.clone());
        for c in chunks {
            s.feed(c);
        }
        let mut out = Vec::new();
        while let Some(x) = v.0.lock().unwrap().pop_front() {
            out.push(x);
        }
        out
    }

    #[test]
    fn frames_keep_alive_requests() {
        let got = run(&[
            b"POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhelloGET /a HTTP/1.1\r\nHost: x\r\n\r\n",
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
            b"GET /b HTTP/1.1\r\n\r\n",
        ]);
        assert_eq!(got, vec![None, None, None, None]);
    }

    #[test]
    fn flags_cl_and_te_split_across_reads() {
        let got = run(&[
            b"POST / HTTP/1.1\r\nContent-Len",
            b"gth: 4\r\nTransfer-Encoding: chunked\r",
            b"\n\r\n",
        ]);
        assert_eq!(got.len(), 1);
        assert!(got[0].is_some());
    }

    #[test]
    fn stops_on_http2() {
        assert!(run(&[b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"]).is_empty());
    }
}
