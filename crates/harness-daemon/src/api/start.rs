//! `POST /v1/start`: answers 200 at once and streams the progress as SSE.
//! The result is the final `done` event's `success`, never the HTTP status.

use super::{api_error, gone};
use crate::supervisor::{Handle, Msg, OpReply};
use axum::Json;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream::Stream;
use harness_api::{OpEvent, StartRequest};
use harness_core::engine::OpId;
use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::sync::{mpsc, oneshot};

pub(crate) async fn start(State(h): State<Handle>, Json(req): Json<StartRequest>) -> Response {
    let observed = super::deploy::observed(&h).await;
    operation(h, |reply| Msg::Start(req, observed, reply)).await
}

/// Hands a start or stop to the supervisor and answers with its event
/// stream, or with the error that kept it from beginning.
pub(crate) async fn operation(h: Handle, msg: impl FnOnce(OpReply) -> Msg) -> Response {
    let (tx, rx) = oneshot::channel();
    if !h.send(msg(tx)) {
        return gone();
    }
    match rx.await {
        Ok(Ok((op, events))) => sse(h, op, events),
        Ok(Err(e)) => api_error(e),
        Err(_) => gone(),
    }
}

/// Streams an operation's events; dropping the stream (the client went
/// away, e.g. Ctrl-C) cancels the operation.
fn sse(h: Handle, op: OpId, events: mpsc::Receiver<OpEvent>) -> Response {
    Sse::new(OpStream {
        h,
        op,
        events,
        done: false,
    })
    .keep_alive(KeepAlive::default())
    .into_response()
}

struct OpStream {
    h: Handle,
    op: OpId,
    events: mpsc::Receiver<OpEvent>,
    done: bool,
}

impl Stream for OpStream {
    type Item = Result<Event, Infallible>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.done {
            return Poll::Ready(None);
        }
        match self.events.poll_recv(cx) {
            Poll::Ready(Some(e)) => {
                self.done = matches!(e, OpEvent::Done(_));
                Poll::Ready(Some(Ok(Event::default().event(e.name()).data(e.data()))))
            }
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl Drop for OpStream {
    fn drop(&mut self) {
        if !self.done {
            self.h.send(Msg::Cancel(self.op));
        }
    }
}
