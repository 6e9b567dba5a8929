//! Strict HTTP/1 checks beyond hyper's own parser.
//!
//! hyper already answers 400 to obs-fold, whitespace before the colon, NUL or bare CR in
//! headers, invalid methods, versions and chunk sizes, differing duplicate
//! `Content-Length`s, and 431 to oversized header sections. What it accepts (as RFC 9112
//! allows a server to) is a request with both `Content-Length` and `Transfer-Encoding`:
//! it silently drops the length. A proxy must refuse that message, because a server
//! behind another hop may frame it by the length instead (request smuggling). We also
//! refuse any `Transfer-Encoding` but one plain `chunked` (hyper takes `gzip, chunked` and
//! repeated codings, whose body the gateway would pass on still encoded).
//!
//! hyper no longer shows the dropped header, so [`HeadScanner`] watches the raw bytes of
//! the connection, frames each request exactly the way hyper (and httparse) do — empty
//! lines before a request line are skipped, lines may end in a bare LF, chunk lines are
//! size, optional whitespace, extensions, CRLF — and queues one verdict per request head;
//! the pipeline takes them in order. If the scanner ever loses the framing (bytes hyper
//! would refuse, or a limit), every later request on the connection is refused: a verdict
//! must never go to the wrong request.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};

/// Why a request is refused when the scanner could not follow the connection's framing.
const LOST: &str = "request framing could not be followed";

/// Verdicts for request heads seen on one connection, oldest first; `Some(reason)` marks a
/// head the gateway must refuse.
#[derive(Default, Debug)]
pub struct Verdicts(Mutex<Queue>);

#[derive(Default, Debug)]
struct Queue {
    pending: VecDeque<Option<&'static str>>,
    /// The scanner lost the framing: heads after the queued ones are refused.
    lost: bool,
}

impl Verdicts {
    /// The verdict for the next request hyper hands over; `None` when the scanner had
    /// nothing to say (it stops on HTTP/2, where it is not asked).
    pub fn next(&self) -> Option<&'static str> {
        let mut q = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        match q.pending.pop_front() {
            Some(v) => v,
            None if q.lost => Some(LOST),
            None => None,
        }
    }

    fn push(&self, v: Option<&'static str>) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pending
            .push_back(v);
    }

    /// Takes the queued verdicts, oldest first, and whether the framing was lost.
    pub fn take_all(&self) -> (Vec<Option<&'static str>>, bool) {
        let mut q = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        (q.pending.drain(..).collect(), q.lost)
    }

    fn lose(&self) {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).lost = true;
    }
}

#[derive(Debug)]
enum State {
    /// Before a request line: empty lines are skipped.
    Idle,
    /// Inside a head, up to its empty line.
    Head(Vec<u8>),
    /// `Content-Length` body bytes left.
    Body(u64),
    /// Chunk size digits (value so far, whether a digit was seen).
    ChunkSize(u64, bool),
    /// Whitespace after the chunk size.
    ChunkLws(u64),
    /// A chunk extension, up to CR.
    ChunkExt(u64),
    /// The LF ending a chunk size line.
    ChunkLf(u64),
    /// Chunk data bytes left.
    ChunkData(u64),
    /// The CR, then the LF after chunk data.
    ChunkDataCr,
    ChunkDataLf,
    /// After the last chunk or a trailer line: CR LF ends the body, anything else starts a
    /// trailer line.
    EndCr,
    EndLf,
    /// A trailer line (its bytes so far, over all trailer lines), up to CR.
    Trailer(usize),
    TrailerLf(usize),
    /// Not HTTP/1 any more (HTTP/2 prior knowledge).
    Off,
    /// The framing is lost; every later head is refused.
    Lost,
}

/// Follows the request framing of one HTTP/1 connection.
pub struct HeadScanner {
    state: State,
    max_head: usize,
    first: bool,
    verdicts: Arc<Verdicts>,
    /// The last head's buffer, kept for the next one (one allocation per connection).
    spare: Vec<u8>,
}

impl HeadScanner {
    pub fn new(max_head: usize, verdicts: Arc<Verdicts>) -> Self {
        Self {
            state: State::Idle,
            max_head,
            first: true,
            verdicts,
            spare: Vec::new(),
        }
    }

    /// Feeds bytes read from the client, in order.
    pub fn feed(&mut self, mut data: &[u8]) {
        while let Some((&byte, rest)) = data.split_first() {
            let state = std::mem::replace(&mut self.state, State::Lost);
            self.state = match state {
                State::Off | State::Lost => {
                    self.state = state;
                    return;
                }
                State::Idle if byte == b'\r' || byte == b'\n' => {
                    data = rest;
                    State::Idle
                }
                State::Idle => State::Head(std::mem::take(&mut self.spare)),
                // Fast path: the whole head is in this read (the usual case): judge it in
                // place, without copying it.
                State::Head(buf) if buf.is_empty() => match scan_head(data) {
                    Some((end, framing)) => {
                        let head = data.get(..end).unwrap_or_default();
                        data = data.get(end..).unwrap_or_default();
                        self.spare = buf;
                        self.judge(head, framing)
                    }
                    None => self.head_part(buf, &mut data),
                },
                State::Head(buf) => self.head_part(buf, &mut data),
                State::Body(n) => {
                    let k = usize::try_from(n).unwrap_or(usize::MAX).min(data.len());
                    data = data.get(k..).unwrap_or_default();
                    match n - k as u64 {
                        0 => State::Idle,
                        left => State::Body(left),
                    }
                }
                State::ChunkData(n) => {
                    let k = usize::try_from(n).unwrap_or(usize::MAX).min(data.len());
                    data = data.get(k..).unwrap_or_default();
                    match n - k as u64 {
                        0 => State::ChunkDataCr,
                        left => State::ChunkData(left),
                    }
                }
                other => {
                    data = rest;
                    self.chunk_byte(other, byte)
                }
            };
            if matches!(self.state, State::Lost) {
                self.verdicts.lose();
                return;
            }
        }
    }

    /// A head that spans reads: collected in `buf` until its blank line.
    fn head_part(&mut self, mut buf: Vec<u8>, data: &mut &[u8]) -> State {
        let (taken, done) = take_head(&mut buf, data);
        *data = data.get(taken..).unwrap_or_default();
        if done {
            let next = match scan_head(&buf) {
                Some((_, framing)) => self.judge(&buf, framing),
                // `take_head` and `scan_head` agree on where a head ends.
                None => State::Lost,
            };
            buf.clear();
            self.spare = buf;
            next
        } else if buf.len() > self.max_head {
            State::Lost
        } else {
            State::Head(buf)
        }
    }

    /// One byte of chunked framing outside chunk data, as hyper's decoder reads it.
    fn chunk_byte(&self, state: State, b: u8) -> State {
        match (state, b) {
            (State::ChunkSize(n, _), b) if b.is_ascii_hexdigit() => {
                let digit = u64::from(hex(b));
                match n.checked_mul(16).and_then(|n| n.checked_add(digit)) {
                    Some(n) => State::ChunkSize(n, true),
                    None => State::Lost,
                }
            }
            (State::ChunkSize(n, true) | State::ChunkLws(n), b' ' | b'\t') => State::ChunkLws(n),
            (State::ChunkSize(n, true) | State::ChunkLws(n), b';') => State::ChunkExt(n),
            (State::ChunkSize(n, true) | State::ChunkLws(n) | State::ChunkExt(n), b'\r') => {
                State::ChunkLf(n)
            }
            (State::ChunkExt(_), b'\n') => State::Lost,
            (State::ChunkExt(n), _) => State::ChunkExt(n),
            (State::ChunkLf(0), b'\n') => State::EndCr,
            (State::ChunkLf(n), b'\n') => State::ChunkData(n),
            (State::ChunkDataCr, b'\r') => State::ChunkDataLf,
            (State::ChunkDataLf, b'\n') => State::ChunkSize(0, false),
            (State::EndCr, b'\r') => State::EndLf,
            (State::EndCr, _) => State::Trailer(1),
            (State::EndLf, b'\n') => State::Idle,
            (State::Trailer(n) | State::TrailerLf(n), _) if n > self.max_head => State::Lost,
            (State::Trailer(n), b'\r') => State::TrailerLf(n + 1),
            (State::Trailer(n), _) => State::Trailer(n + 1),
            (State::TrailerLf(_), b'\n') => State::EndCr,
            _ => State::Lost,
        }
    }

    /// Judges one complete head by its framing headers and decides how its body is framed.
    fn judge(&mut self, head: &[u8], framing: Framing<'_>) -> State {
        let first = std::mem::replace(&mut self.first, false);
        if first && head.starts_with(b"PRI * HTTP/2.0") {
            return State::Off;
        }
        let Framing { lengths, codings } = framing;
        let refuse = |reason| {
            self.verdicts.push(Some(reason));
            State::Lost
        };
        if !codings.is_empty() && !lengths.is_empty() {
            return refuse("both content-length and transfer-encoding present");
        }
        match (codings.as_slice(), lengths.as_slice()) {
            ([], []) => {
                self.verdicts.push(None);
                State::Idle
            }
            ([te], []) if te.eq_ignore_ascii_case(b"chunked") => {
                self.verdicts.push(None);
                State::ChunkSize(0, false)
            }
            (_, []) => refuse("transfer-encoding other than one plain chunked"),
            ([], [Some(n), rest @ ..]) if rest.iter().all(|m| *m == Some(*n)) => {
                self.verdicts.push(None);
                match n {
                    0 => State::Idle,
                    n => State::Body(*n),
                }
            }
            _ => refuse("invalid or conflicting content-length"),
        }
    }
}

/// The framing headers of a head: the values of its `Content-Length` lines (`None`: not a
/// plain number) and of its `Transfer-Encoding` lines.
#[derive(Default)]
struct Framing<'a> {
    lengths: Vec<Option<u64>>,
    codings: Vec<&'a [u8]>,
}

/// Reads the head that starts `data` line by line, in one pass (this runs on every request
/// head): where it ends (just after its blank line; a line ends in LF, optionally after
/// CR) and its framing headers. `None` when the blank line is not there yet.
fn scan_head(data: &[u8]) -> Option<(usize, Framing<'_>)> {
    let mut framing = Framing::default();
    let mut start = 0;
    for end in memchr::memchr_iter(b'\n', data) {
        let line = data.get(start..end).unwrap_or_default();
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let request_line = start == 0;
        start = end + 1;
        if request_line {
            continue;
        }
        // Only Content-Length and Transfer-Encoding matter: other lines are passed over at
        // their first byte, without looking for their colon.
        match line.first() {
            None => return Some((start, framing)),
            Some(b'c' | b'C' | b't' | b'T') => {}
            Some(_) => continue,
        }
        let Some(colon) = memchr::memchr(b':', line) else {
            continue;
        };
        let (name, value) = line.split_at(colon);
        let value = trim(value.get(1..).unwrap_or_default());
        if name.eq_ignore_ascii_case(b"content-length") {
            framing.lengths.push(digits(value));
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            framing.codings.push(value);
        }
    }
    None
}

/// Appends `data` to `buf` up to and including the empty line that ends a head (a line
/// ends in LF, optionally after CR); returns how many bytes of `data` were taken and
/// whether the head is complete.
fn take_head(buf: &mut Vec<u8>, data: &[u8]) -> (usize, bool) {
    // Line by line (memchr), not byte by byte: this runs on every request head.
    let mut from = 0;
    while let Some(off) = memchr::memchr(b'\n', data.get(from..).unwrap_or_default()) {
        let end = from + off + 1;
        buf.extend_from_slice(data.get(from..end).unwrap_or_default());
        if buf.ends_with(b"\n\n") || buf.ends_with(b"\n\r\n") {
            return (end, true);
        }
        from = end;
    }
    buf.extend_from_slice(data.get(from..).unwrap_or_default());
    (data.len(), false)
}

/// A `Content-Length` value as hyper reads it: ASCII digits only, no sign, no list.
fn digits(v: &[u8]) -> Option<u64> {
    if v.is_empty() {
        return None;
    }
    v.iter().try_fold(0u64, |n, &b| {
        if b.is_ascii_digit() {
            n.checked_mul(10)?.checked_add(u64::from(b - b'0'))
        } else {
            None
        }
    })
}

fn hex(b: u8) -> u8 {
    match b {
        b'0'..=b'9' => b - b'0',
        b'a'..=b'f' => b - b'a' + 10,
        b'A'..=b'F' => b - b'A' + 10,
        _ => 0,
    }
}

/// Strips the optional whitespace (SP, HTAB) around a header value.
fn trim(v: &[u8]) -> &[u8] {
    let start = v.iter().position(|&b| b != b' ' && b != b'\t');
    let end = v.iter().rposition(|&b| b != b' ' && b != b'\t');
    match (start, end) {
        (Some(s), Some(e)) => v.get(s..=e).unwrap_or_default(),
        _ => &[],
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
        while let Some(x) = v.0.lock().unwrap().pending.pop_front() {
            out.push(x);
        }
        out
    }

    fn lost(chunks: &[&[u8]]) -> bool {
        let v = Arc::new(Verdicts::default());
        let mut s = HeadScanner::new(16384, v.clone());
        for c in chunks {
            s.feed(c);
        }
        let q = v.0.lock().unwrap();
        q.lost
    }

    #[test]
    fn frames_keep_alive_requests() {
        let got = run(&[
            b"POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhelloGET /a HTTP/1.1\r\nHost: x\r\n\r\n",
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
            b"GET /b HTTP/1.1\r\n\r\n",
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3;a=b \r\nabc\r\n0\r\nX: y\r\n\r\n",
            b"GET /c HTTP/1.1\r\n\r\n",
        ]);
        assert_eq!(got, vec![None; 6]);
    }

    #[test]
    fn frames_byte_by_byte() {
        let all: &[u8] = b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3 ;x\r\nabc\r\n0\r\nT: 1\r\n\r\n\
GET / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n";
        let chunks: Vec<&[u8]> = all.chunks(1).collect();
        let got = run(&chunks);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0], None);
        assert!(got[1].is_some());
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
    fn empty_lines_before_a_request_are_not_requests() {
        let got = run(&[b"\r\n\r\n\nGET / HTTP/1.1\r\n\r\n\r\nGET / HTTP/1.1\r\n\r\n"]);
        assert_eq!(got, vec![None, None]);
    }

    #[test]
    fn bare_lf_ends_lines() {
        let got = run(&[
            b"POST / HTTP/1.1\nContent-Length: 4\n\nabcd",
            b"POST / HTTP/1.1\r\nContent-Length: 4\nTransfer-Encoding: chunked\r\n\n",
        ]);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0], None);
        assert!(got[1].is_some());
    }

    #[test]
    fn only_one_plain_chunked_coding() {
        for te in [
            &b"gzip, chunked"[..],
            b"chunked, chunked",
            b"chunked\r\nTransfer-Encoding: chunked",
            b"identity",
            b"xchunked",
        ] {
            let head = [
                &b"POST / HTTP/1.1\r\nTransfer-Encoding: "[..],
                te,
                b"\r\n\r\n",
            ]
            .concat();
            let got = run(&[&head]);
            assert!(got[0].is_some(), "{}", String::from_utf8_lossy(te));
        }
        assert_eq!(
            run(&[b"POST / HTTP/1.1\r\nTransfer-Encoding:\tChunked \r\n\r\n"]),
            [None]
        );
    }

    #[test]
    fn content_length_as_hyper_reads_it() {
        for (cl, ok) in [
            (&b"5"[..], true),
            (b"5\r\nContent-Length: 5", true),
            (b"+5", false),
            (b"5, 5", false),
            (b"5\r\nContent-Length: 6", false),
            (b"", false),
        ] {
            let head = [&b"POST / HTTP/1.1\r\nContent-Length: "[..], cl, b"\r\n\r\n"].concat();
            assert_eq!(
                run(&[&head])[0].is_none(),
                ok,
                "{}",
                String::from_utf8_lossy(cl)
            );
        }
    }

    #[test]
    fn a_lost_framing_refuses_later_heads() {
        assert!(lost(&[
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"
        ]));
        assert!(lost(&[
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello"
        ]));
        assert!(lost(&[
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\naXX"
        ]));
        assert!(!lost(&[
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n"
        ]));
        let v = Arc::new(Verdicts::default());
        let mut s = HeadScanner::new(16384, v.clone());
        s.feed(b"GET / HTTP/1.1\r\n\r\nPOST / HTTP/1.1\r\nContent-Length: x\r\n\r\n");
        assert_eq!(v.next(), None);
        assert!(v.next().is_some());
        assert_eq!(v.next(), Some(LOST));
        assert_eq!(v.next(), Some(LOST));
    }

    #[test]
    fn stops_on_http2() {
        assert!(run(&[b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"]).is_empty());
        assert!(!lost(&[b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"]));
    }
}
