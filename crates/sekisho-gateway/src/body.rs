//! The response body type and the wrapper that runs the response-body phase, counts the
//! bytes sent and emits the request's event when the body ends (or is dropped); and the
//! slow-body guard on request bodies.

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Empty, Full};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Any error a body can carry.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
/// The body of every response the gateway sends and of every upstream request.
pub type RespBody = UnsyncBoxBody<Bytes, BoxError>;

/// A body of fixed bytes.
pub fn full(b: impl Into<Bytes>) -> RespBody {
    Full::new(b.into()).map_err(|e| match e {}).boxed_unsync()
}

/// An empty body.
pub fn empty() -> RespBody {
    Empty::new().map_err(|e| match e {}).boxed_unsync()
}

/// Called with every data chunk of the response and once at the end.
pub trait BodyObserver: Send + 'static {
    /// A data chunk is about to be sent; the observer may replace it (response masking).
    fn chunk(&mut self, chunk: &mut Bytes);
    /// The body ended (`complete`) or the client went away (`!complete`).
    fn end(&mut self, bytes: u64, complete: bool);
}

/// Wraps `inner` so that `observer` sees every chunk and the end.
pub struct Observed<O: BodyObserver> {
    inner: RespBody,
    observer: Option<O>,
    bytes: u64,
}

impl<O: BodyObserver> Observed<O> {
    pub fn new(inner: RespBody, observer: O) -> Self {
        Self {
            inner,
            observer: Some(observer),
            bytes: 0,
        }
    }

    fn finish(&mut self, complete: bool) {
        if let Some(mut o) = self.observer.take() {
            o.end(self.bytes, complete);
        }
    }
}

impl<O: BodyObserver + Unpin> Body for Observed<O> {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                let frame = match frame.into_data() {
                    Ok(mut data) => {
                        if let Some(o) = this.observer.as_mut() {
                            o.chunk(&mut data);
                        }
                        this.bytes += data.len() as u64;
                        Frame::data(data)
                    }
                    Err(other) => other,
                };
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(None) => {
                this.finish(true);
                Poll::Ready(None)
            }
            Poll::Ready(Some(Err(e))) => {
                this.finish(false);
                Poll::Ready(Some(Err(e)))
            }
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl<O: BodyObserver> Drop for Observed<O> {
    fn drop(&mut self) {
        // A body dropped before its end: the client went away or the response had no
        // body to poll (HEAD, 204); either way the request is over and gets its event.
        let complete = self.inner.is_end_stream();
        self.finish(complete);
    }
}

/// A client's request body that fails with [`BodyReadTimeout`] when the client sends nothing
/// for `idle` (the slow-body guard, like nginx's `client_body_timeout`), and tells `done`
/// when it has been read to its end.
pub struct ReadTimeout<B> {
    inner: B,
    idle: std::time::Duration,
    sleep: Pin<Box<tokio::time::Sleep>>,
    /// The clock starts at the first read, not when the body is wrapped: a streamed body
    /// waits for the upstream connection before anyone reads it.
    started: bool,
    done: Option<tokio::sync::oneshot::Sender<()>>,
}

/// The client left more than `body_read_timeout` between two reads of its body.
#[derive(Debug)]
pub struct BodyReadTimeout;

impl std::fmt::Display for BodyReadTimeout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("request body not received in time")
    }
}

impl std::error::Error for BodyReadTimeout {}

impl<B> ReadTimeout<B> {
    pub fn new(inner: B, idle: std::time::Duration) -> Self {
        Self {
            inner,
            idle,
            sleep: Box::pin(tokio::time::sleep(idle)),
            started: false,
            done: None,
        }
    }

    /// The body with a signal sent once it has been read to its end.
    pub fn with_done(mut self, done: tokio::sync::oneshot::Sender<()>) -> Self {
        self.done = Some(done);
        self
    }

    fn finished(&mut self) {
        if let Some(done) = self.done.take() {
            let _ = done.send(());
        }
    }
}

impl<B> Body for ReadTimeout<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        if !this.started {
            this.started = true;
            let first = tokio::time::Instant::now() + this.idle;
            this.sleep.as_mut().reset(first);
        }
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                let next = tokio::time::Instant::now() + this.idle;
                this.sleep.as_mut().reset(next);
                if this.inner.is_end_stream() {
                    this.finished();
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e.into()))),
            Poll::Ready(None) => {
                this.finished();
                Poll::Ready(None)
            }
            Poll::Pending => match this.sleep.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Some(Err(Box::new(BodyReadTimeout)))),
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
