//! `POST /v1/deploy` and `GET /v1/deploys/ID/events`: a deploy's events as
//! SSE, each with its `id:`. The answer is 200 before any work; the result
//! is the final `done` event's `success`. Closing the stream does not stop
//! the deploy: following it again with `Last-Event-ID` picks up after the
//! last event read.

use super::{api_error, gone};
use crate::supervisor::{DeployReply, Handle, Msg, Numbered};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream::{self, Stream};
use harness_api::{DEPLOY_HEADER, DeployEvent, DeployRequest};
use std::convert::Infallible;
use tokio::sync::{mpsc, oneshot};

pub(crate) async fn deploy(State(h): State<Handle>, Json(req): Json<DeployRequest>) -> Response {
    answer(h, |reply| Msg::Deploy(req, reply)).await
}

pub(crate) async fn events(
    State(h): State<Handle>,
    Path(id): Path<u64>,
    headers: HeaderMap,
) -> Response {
    let after = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    answer(h, |reply| Msg::FollowDeploy { id, after, reply }).await
}

async fn answer(h: Handle, msg: impl FnOnce(DeployReply) -> Msg) -> Response {
    let (tx, rx) = oneshot::channel();
    if !h.send(msg(tx)) {
        return gone();
    }
    match rx.await {
        Ok(Ok((id, events))) => (
            [(DEPLOY_HEADER, id.to_string())],
            Sse::new(numbered(events)).keep_alive(KeepAlive::default()),
        )
            .into_response(),
        Ok(Err(e)) => api_error(e),
        Err(_) => gone(),
    }
}

/// The events as SSE, ending after `done`.
fn numbered(events: mpsc::Receiver<Numbered>) -> impl Stream<Item = Result<Event, Infallible>> {
    stream::unfold((events, false), |(mut events, done)| async move {
        if done {
            return None;
        }
        let (n, e) = events.recv().await?;
        let last = matches!(e, DeployEvent::Done(_));
        let event = Event::default()
            .id(n.to_string())
            .event(e.name())
            .data(e.data());
        Some((Ok(event), (events, last)))
    })
}
