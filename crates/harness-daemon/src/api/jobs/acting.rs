//! The job routes that act: a run, a decision, a mark, an interrupt, a
//! cancel. Each is prepared off the loop (the file, the store, the
//! hashes) and handed to the supervisor.

use super::READ_AFTER_WRITES;
use crate::api::{api_error, gone};
use crate::job_prep;
use crate::supervisor::{Handle, JobControl, Msg};
use axum::Json;
use axum::extract::{Path, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use harness_api::{
    ApiError, ApiErrorKind, JobDecideRequest, JobEvent, JobMarkRequest, JobRunRequest,
};
use std::collections::BTreeMap;
use std::convert::Infallible;

pub(crate) async fn run(
    State(h): State<Handle>,
    Path(name): Path<String>,
    Json(req): Json<JobRunRequest>,
) -> Response {
    let (project, hashes, store) = (h.project.clone(), h.hashes.clone(), h.store.clone());
    let prep = tokio::task::spawn_blocking(move || {
        store.flush(READ_AFTER_WRITES);
        let prep = job_prep::prepare(&project, &hashes, &name, &req);
        crate::file_hashes::keep_new(&hashes, &store);
        prep
    })
    .await
    .unwrap_or_else(|e| Err(ApiError::new(ApiErrorKind::Internal, e.to_string())));
    let Some(answer) = h.ask(|reply| Msg::RunJob(Box::new(prep), reply)).await else {
        return gone();
    };
    match answer {
        Ok(events) => stream(events),
        Err(e) => api_error(e),
    }
}

pub(crate) async fn decide(
    State(h): State<Handle>,
    Path(name): Path<String>,
    Json(req): Json<JobDecideRequest>,
) -> Response {
    let prep = standing(&h, name, None).await;
    match h
        .ask(|reply| Msg::DecideJob(Box::new(prep), req, reply))
        .await
    {
        Some(Ok(events)) => stream(events),
        Some(Err(e)) => api_error(e),
        None => gone(),
    }
}

pub(crate) async fn mark(
    State(h): State<Handle>,
    Path(name): Path<String>,
    Json(req): Json<JobMarkRequest>,
) -> Response {
    let prep = standing(&h, name, Some(req.step)).await;
    match h
        .ask(|reply| Msg::MarkStep(Box::new(prep), req.reason, reply))
        .await
    {
        Some(Ok(())) => Json(BTreeMap::<String, String>::new()).into_response(),
        Some(Err(e)) => api_error(e),
        None => gone(),
    }
}

/// [`job_prep::standing`], on a blocking thread once the writes sent
/// before are on disk.
async fn standing(
    h: &Handle,
    name: String,
    step: Option<String>,
) -> Result<job_prep::Standing, ApiError> {
    let (project, hashes, store) = (h.project.clone(), h.hashes.clone(), h.store.clone());
    tokio::task::spawn_blocking(move || {
        store.flush(READ_AFTER_WRITES);
        let standing = job_prep::standing(&project, &hashes, &name, step.as_deref());
        crate::file_hashes::keep_new(&hashes, &store);
        standing
    })
    .await
    .unwrap_or_else(|e| Err(ApiError::new(ApiErrorKind::Internal, e.to_string())))
}

/// A run's events as SSE, until its `done`.
fn stream(events: tokio::sync::mpsc::Receiver<JobEvent>) -> Response {
    let stream = futures_util::stream::unfold(events, |mut rx| async move {
        let e = rx.recv().await?;
        let sse = Event::default().event(e.name()).data(e.data());
        Some((Ok::<_, Infallible>(sse), rx))
    });
    Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response()
}

pub(crate) async fn interrupt(State(h): State<Handle>, Path(name): Path<String>) -> Response {
    control(h, name, JobControl::Interrupt).await
}

pub(crate) async fn cancel(State(h): State<Handle>, Path(name): Path<String>) -> Response {
    control(h, name, JobControl::Cancel).await
}

async fn control(h: Handle, name: String, c: JobControl) -> Response {
    match h.ask(|reply| Msg::JobControl(name, c, reply)).await {
        Some(Ok(())) => Json(BTreeMap::<String, String>::new()).into_response(),
        Some(Err(e)) => api_error(e),
        None => gone(),
    }
}
