//! Serving one listener's connections (the Unix socket, or `settings.listen`
//! on TCP), each with a limit on how long a request's headers may take to
//! arrive: a client that connects and sends nothing, or half a request's
//! headers, is closed after [`HEADER_READ`], so hung clients cannot pile up
//! until the daemon runs out of file descriptors, and a connection ends
//! with its answer (no keep-alive to idle in). A request's body must then
//! arrive within [`BODY_READ`] ([`body_deadline`]): one that stalls is cut
//! off and answered 400, saying so. An answer never read is not timed:
//! it is a stream (a start's progress, `logs -f`) whose writer waits on
//! the socket, holding one connection's buffers and no more. Request
//! bodies are limited by axum's extractors (2 MiB: a larger one is
//! answered 413 unread).

use axum::body::HttpBody;
use axum::serve::Listener;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

/// How long a request's headers may take to arrive.
pub const HEADER_READ: Duration = Duration::from_secs(10);

/// How long a request's body may take to arrive, once its headers have.
pub const BODY_READ: Duration = Duration::from_secs(10);

/// How long answers still streaming (log followers, a start's progress)
/// get once the daemon is told to stop.
const GRACE: Duration = Duration::from_millis(500);

/// Serves `app` on `listener` until `stop` completes, then gives the
/// answers in flight [`GRACE`] to end.
pub async fn serve<L>(mut listener: L, app: axum::Router, stop: impl Future<Output = ()>)
where
    L: Listener,
{
    let app = app.layer(axum::middleware::from_fn(body_deadline));
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

/// Gives a request's body until [`BODY_READ`] after its headers: past
/// that it ends in an error, which the extractor reading it answers with
/// a 400 that says so, and the connection closes.
async fn body_deadline(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let req = req.map(|inner| {
        axum::body::Body::new(TimedBody {
            inner,
            deadline: Box::pin(tokio::time::sleep(BODY_READ)),
        })
    });
    next.run(req).await
}

/// A request body that fails once its deadline passes. Its size stays
/// known, so a body declared over the limit is still refused unread.
struct TimedBody {
    inner: axum::body::Body,
    deadline: Pin<Box<tokio::time::Sleep>>,
}

impl HttpBody for TimedBody {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
        if let Poll::Ready(frame) = Pin::new(&mut self.inner).poll_frame(cx) {
            return Poll::Ready(frame);
        }
        match self.deadline.as_mut().poll(cx) {
            Poll::Ready(()) => {
                let overdue = std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!(
                        "the request's body did not arrive within {} s",
                        BODY_READ.as_secs()
                    ),
                );
                Poll::Ready(Some(Err(axum::Error::new(overdue))))
            }
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.inner.size_hint()
    }
}
