//! Accept loop: one task per connection, HTTP/1.1 with keep-alive.

use crate::handlers::handle;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// Binds `addr` (port 0 picks a free port) and serves the demo API on it in a tokio task.
/// Returns the bound address and the task; abort the task to stop accepting.
///
/// Example: `let (addr, task) = sekisho_demo::spawn("127.0.0.1:0".parse()?).await?;`
pub async fn spawn(addr: SocketAddr) -> std::io::Result<(SocketAddr, JoinHandle<()>)> {
    let listener = TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    Ok((local, tokio::spawn(serve_listener(listener))))
}

/// Serves the demo API on an already bound listener until the task is dropped.
pub async fn serve_listener(listener: TcpListener) {
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(conn) => conn,
            Err(e) => {
                // EMFILE and friends: back off instead of spinning.
                eprintln!("sekisho-demo: accept failed: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        // Small responses: do not let Nagle hold them back.
        let _ = stream.set_nodelay(true);
        tokio::spawn(async move {
            let conn = http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), service_fn(handle));
            // A client that goes away mid-request is normal for a backend.
            let _ = conn.await;
        });
    }
}
