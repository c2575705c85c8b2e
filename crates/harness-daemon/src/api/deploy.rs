//! `GET /v1/deploys` and `GET /v1/deploys/ID` read deploys from the store.
//! `POST /v1/deploy` and `GET /v1/deploys/ID/events`: a deploy's events as
//! SSE, each with its `id:`. The answer is 200 before any work; the result
//! is the final `done` event's `success`. Closing the stream does not stop
//! the deploy: following it again with `Last-Event-ID` picks up after the
//! last event read.

use super::history::format_ts;
use super::{api_error, error, gone};
use crate::supervisor::{DeployReply, Handle, Msg, Numbered};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream::{self, Stream};
use harness_api::{
    ApiError, ApiErrorKind, DEPLOY_HEADER, DeployEvent, DeployRecord, DeployRequest,
    DeployedService,
};
use harness_store::{DeployRow, DeployServiceRow, Store};
use std::convert::Infallible;
use tokio::sync::{mpsc, oneshot};

pub(crate) async fn deploy(State(h): State<Handle>, Json(req): Json<DeployRequest>) -> Response {
    let observed = observed(&h).await;
    answer(h, |reply| Msg::Deploy(req, observed, reply)).await
}

/// The file parsed and observed (version commands run) on a blocking
/// thread, so the supervisor never waits for a version command.
pub(crate) async fn observed(
    h: &Handle,
) -> Box<Result<crate::supervisor::observe::Observed, ApiError>> {
    let project = h.project.clone();
    Box::new(
        tokio::task::spawn_blocking(move || crate::supervisor::observe::load_observed(&project))
            .await
            .unwrap_or_else(|e| Err(ApiError::new(ApiErrorKind::Internal, e.to_string()))),
    )
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

/// `POST /v1/rollback`: an earlier version of one service, deployed; the
/// same events as a deploy.
pub(crate) async fn rollback(
    State(h): State<Handle>,
    Json(req): Json<harness_api::RollbackRequest>,
) -> Response {
    let observed = observed(&h).await;
    answer(h, |reply| Msg::Rollback(req, observed, reply)).await
}

/// `POST /v1/deploys/ID/cancel`: no further service of the deploy begins.
pub(crate) async fn cancel(State(h): State<Handle>, Path(id): Path<u64>) -> Response {
    match h.ask(|reply| Msg::CancelDeploy(id, reply)).await {
        Some(Ok(())) => Json(Cancelled { cancelled: id }).into_response(),
        Some(Err(e)) => api_error(e),
        None => gone(),
    }
}

/// The answer of a cancel: which deploy.
#[derive(serde::Serialize)]
struct Cancelled {
    cancelled: u64,
}

/// `GET /v1/deploys?limit=N`: the last deploys, newest first.
pub(crate) async fn list(
    State(h): State<Handle>,
    axum::extract::Query(p): axum::extract::Query<ListParams>,
) -> Response {
    let db = h.project.database();
    let limit = p.limit.unwrap_or(20);
    let found = tokio::task::spawn_blocking(move || {
        let store = Store::open_read_only(&db)?;
        let mut out = Vec::new();
        for d in store.deploys(limit)? {
            if let Some(record) = store.deploy(d.id)? {
                out.push(record);
            }
        }
        Ok::<_, harness_store::StoreError>(out)
    })
    .await;
    match found {
        Ok(Ok(rows)) => Json(rows.into_iter().map(record).collect::<Vec<_>>()).into_response(),
        Ok(Err(e)) => internal(e.to_string()),
        Err(e) => internal(e.to_string()),
    }
}

#[derive(serde::Deserialize)]
pub(crate) struct ListParams {
    limit: Option<u32>,
}

/// `GET /v1/deploys/ID`: one deploy and what it did with each service.
pub(crate) async fn show(State(h): State<Handle>, Path(id): Path<i64>) -> Response {
    let db = h.project.database();
    let found = tokio::task::spawn_blocking(move || Store::open_read_only(&db)?.deploy(id)).await;
    match found {
        Ok(Ok(Some(d))) => Json(record(d)).into_response(),
        Ok(Ok(None)) => error(
            StatusCode::NOT_FOUND,
            ApiError::new(ApiErrorKind::Usage, format!("no deploy {id}")),
        ),
        Ok(Err(e)) => internal(e.to_string()),
        Err(e) => internal(e.to_string()),
    }
}

fn internal(e: String) -> Response {
    error(
        StatusCode::INTERNAL_SERVER_ERROR,
        ApiError::new(ApiErrorKind::Internal, e),
    )
}

fn record((d, services): (DeployRow, Vec<DeployServiceRow>)) -> DeployRecord {
    DeployRecord {
        id: d.id as u64,
        started: format_ts(d.started_ms),
        ended: d.ended_ms.map(format_ts),
        took_secs: d
            .ended_ms
            .map(|e| (e - d.started_ms).max(0) as f64 / 1000.0),
        config: d.config,
        status: d.status,
        services: services
            .into_iter()
            .map(|s| DeployedService {
                // (A word this build does not know reads as unchanged.)
                action: crate::wire::deploy_action(
                    harness_core::report::DeployAction::parse(&s.action)
                        .unwrap_or(harness_core::report::DeployAction::Unchanged),
                ),
                service: s.service,
                reasons: s
                    .reasons
                    .split(", ")
                    .filter(|r| !r.is_empty())
                    .map(str::to_string)
                    .collect(),
                from: s.from_version,
                to: s.to_version,
                outcome: s.outcome,
                detail: s.detail,
            })
            .collect(),
    }
}
