//! Keep-alive HTTP/1.1 connections to one endpoint.
//!
//! Why not hyper-util's pooled client: it costs a task spawn and several wake-ups per
//! request (its pool hands connections back through a spawned future), which made it the
//! largest part of the proxy's per-request cost. Here a connection is a hyper
//! `SendRequest`; it goes back to the idle list the moment its response body ends (seen by
//! [`PooledBody`]), and the next request takes the most recently used one (LIFO keeps few
//! connections warm). One task per connection drives it; none per request.

use crate::body::{BoxError, RespBody};
use bytes::Bytes;
use http::{Request, Response};
use http_body::{Body, Frame, SizeHint};
use hyper::body::Incoming;
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use std::fmt;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// Why a request to an endpoint failed.
#[derive(Debug)]
pub enum SendError {
    /// No connection could be made (refused, unreachable, connect timeout): nothing was sent.
    Connect(String),
    /// The request failed on an established connection.
    Request(hyper::Error),
}

impl SendError {
    pub fn is_connect(&self) -> bool {
        matches!(self, SendError::Connect(_))
    }
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SendError::Connect(e) => write!(f, "connect: {e}"),
            SendError::Request(e) => write!(f, "request: {e}"),
        }
    }
}

/// A request that failed: why, and the request itself when it never left (no connection,
/// or a connection that closed before taking it), so that it can be sent elsewhere.
pub struct Failed {
    pub error: SendError,
    pub unsent: Option<Request<RespBody>>,
}

/// The idle connections of one endpoint and how to make new ones.
pub struct Pool {
    addr: SocketAddr,
    connect_timeout: Duration,
    idle_timeout: Duration,
    max_idle: usize,
    idle: Mutex<Vec<(SendRequest<RespBody>, Instant)>>,
}

impl fmt::Debug for Pool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pool")
            .field("addr", &self.addr)
            .field("idle", &self.idle_count())
            .finish()
    }
}

impl Pool {
    pub fn new(
        addr: SocketAddr,
        connect_timeout: Duration,
        idle_timeout: Duration,
        max_idle: usize,
    ) -> Self {
        Self {
            addr,
            connect_timeout,
            idle_timeout,
            max_idle,
            idle: Mutex::new(Vec::new()),
        }
    }

    /// A pool with its reaper: a task that closes connections idle longer than
    /// `idle_timeout` even when no request comes to notice them. It holds only a weak
    /// reference and ends with the pool (a reload drops the old pools).
    pub fn start(
        addr: SocketAddr,
        connect_timeout: Duration,
        idle_timeout: Duration,
        max_idle: usize,
    ) -> Arc<Self> {
        let pool = Arc::new(Self::new(addr, connect_timeout, idle_timeout, max_idle));
        let weak = Arc::downgrade(&pool);
        let every = (idle_timeout / 2).max(Duration::from_millis(100));
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                let mut tick = tokio::time::interval(every);
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                loop {
                    tick.tick().await;
                    let Some(pool) = weak.upgrade() else { return };
                    pool.prune();
                }
            });
        }
        pool
    }

    /// Drops idle connections that are closed or idle longer than `idle_timeout`.
    fn prune(&self) {
        let timeout = self.idle_timeout;
        self.lock()
            .retain(|(s, since)| !s.is_closed() && since.elapsed() <= timeout);
    }

    /// Sends `req` (origin-form URI, `Host` header set) on an idle connection or a new one.
    // Not an `async fn`: that would keep a second copy of `req` in the future's state.
    #[allow(clippy::manual_async_fn)]
    pub fn send(
        self: &Arc<Self>,
        mut req: Request<RespBody>,
    ) -> impl std::future::Future<Output = Result<Response<RespBody>, Failed>> + Send + '_ {
        async move {
            // A pooled connection the endpoint closed meanwhile gives the request back unsent:
            // then it goes on the next idle connection, at last on a new one.
            loop {
                let (mut sender, fresh) = match self.take_idle().await {
                    Some(s) => (s, false),
                    None => match self.connect().await {
                        Ok(s) => (s, true),
                        Err(error) => {
                            return Err(Failed {
                                error,
                                unsent: Some(req),
                            })
                        }
                    },
                };
                match sender.try_send_request(req).await {
                    Ok(resp) => {
                        let (parts, body) = resp.into_parts();
                        let body = PooledBody {
                            inner: body,
                            back: Some((Arc::clone(self), sender)),
                        };
                        return Ok(Response::from_parts(parts, RespBody::new(body)));
                    }
                    Err(mut e) => match e.take_message() {
                        Some(unsent) if !fresh => req = unsent,
                        unsent => {
                            return Err(Failed {
                                error: SendError::Request(e.into_error()),
                                unsent,
                            })
                        }
                    },
                }
            }
        }
    }

    /// The most recently used idle connection that is still open and ready.
    async fn take_idle(&self) -> Option<SendRequest<RespBody>> {
        loop {
            let (mut s, since) = self.lock().pop()?;
            if s.is_closed() || since.elapsed() > self.idle_timeout {
                continue;
            }
            // Ready at once unless the connection is still finishing the last response.
            if s.ready().await.is_ok() {
                return Some(s);
            }
        }
    }

    async fn connect(&self) -> Result<SendRequest<RespBody>, SendError> {
        let stream = match tokio::time::timeout(
            self.connect_timeout,
            tokio::net::TcpStream::connect(self.addr),
        )
        .await
        {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => return Err(SendError::Connect(e.to_string())),
            Err(_) => {
                return Err(SendError::Connect(format!(
                    "no connection within {:?}",
                    self.connect_timeout
                )))
            }
        };
        let _ = stream.set_nodelay(true);
        // One buffer, one plain write per request, as for the answers to clients (listener.rs).
        let (sender, conn) = http1::Builder::new()
            .writev(false)
            .handshake(TokioIo::new(stream))
            .await
            .map_err(SendError::Request)?;
        // The connection's own task: it ends when the connection closes (idle timeout,
        // endpoint gone, pool dropped on reload).
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(sender)
    }

    fn give_back(&self, sender: SendRequest<RespBody>) {
        if sender.is_closed() || self.max_idle == 0 {
            return;
        }
        let mut idle = self.lock();
        if idle.len() < self.max_idle {
            idle.push((sender, Instant::now()));
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<(SendRequest<RespBody>, Instant)>> {
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Idle connections kept now (for tests and metrics).
    pub fn idle_count(&self) -> usize {
        self.lock().len()
    }
}

/// An upstream response body that returns its connection to the pool when it ends. A body
/// dropped before its end takes the connection with it (hyper closes it: the rest of the
/// response is still on the wire).
struct PooledBody {
    inner: Incoming,
    back: Option<(Arc<Pool>, SendRequest<RespBody>)>,
}

impl PooledBody {
    fn release(&mut self) {
        if let Some((pool, sender)) = self.back.take() {
            pool.give_back(sender);
        }
    }
}

impl Body for PooledBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if this.inner.is_end_stream() {
                    this.release();
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => {
                this.back = None;
                Poll::Ready(Some(Err(e.into())))
            }
            Poll::Ready(None) => {
                this.release();
                Poll::Ready(None)
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

impl Drop for PooledBody {
    fn drop(&mut self) {
        // A response without body (HEAD, 204, 304) may never be polled.
        if self.inner.is_end_stream() {
            self.release();
        }
    }
}
