//! Serving one listener's connections (the Unix socket, or `settings.listen`
//! on TCP), each with a limit on how long a request's headers may take to
//! arrive: a client that connects and sends nothing, or half a request's
//! headers, is closed after [`HEADER_READ`], so hung clients cannot pile up
//! until the daemon runs out of file descriptors, and a connection ends
//! with its answer (no keep-alive to idle in). A body that stalls, or an
//! answer never read, is not timed. Request bodies are limited by
//! axum's extractors (2 MiB: a larger one is answered 413 unread).

use axum::serve::Listener;
use std::future::Future;
use std::time::Duration;

/// How long a request's headers may take to arrive.
pub const HEADER_READ: Duration = Duration::from_secs(10);

/// How long answers still streaming (log followers, a start's progress)
/// get once the daemon is told to stop.
const GRACE: Duration = Duration::from_millis(500);

/// Serves `app` on `listener` until `stop` completes, then gives the
/// answers in flight [`GRACE`] to end.
pub async fn serve<L>(mut listener: L, app: axum::Router, stop: impl Future<Output = ()>)
where
    L: Listener,
{
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    tokio::pin!(stop);
    loop {
        // Accept errors (out of descriptors) are retried by the listener.
        let (io, _) = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = &mut stop => break,
        };
        let service = hyper_util::service::TowerToHyperService::new(app.clone());
        let conn = hyper::server::conn::http1::Builder::new()
            .timer(hyper_util::rt::TokioTimer::new())
            .header_read_timeout(HEADER_READ)
            // One request per connection: an idle kept-alive connection
            // would be one more a hung client could hold forever.
            .keep_alive(false)
            .serve_connection(hyper_util::rt::TokioIo::new(io), service);
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            let _ = conn.await;
        });
    }
    let _ = tokio::time::timeout(GRACE, graceful.shutdown()).await;
}
