//! Jobs: `POST /v1/jobs/NAME/run` (SSE `plan`, `step`, `done`; a client
//! that goes away does not stop the run), `GET /v1/jobs` and
//! `GET /v1/jobs/NAME` (the record), `POST /v1/jobs/NAME/interrupt` and
//! `/cancel`.

use super::{api_error, error, gone};
use crate::job_prep;
use crate::job_record;
use crate::supervisor::{Handle, JobControl, Msg};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use harness_api::{
    ApiError, ApiErrorKind, JobDecideRequest, JobEvent, JobMarkRequest, JobRecord, JobRunRequest,
};
use harness_store::Store;
use std::collections::BTreeMap;
use std::convert::Infallible;
use std::time::Duration;

/// How long a request waits for the writes sent before it to be on disk
/// before it reads the store.
const READ_AFTER_WRITES: Duration = Duration::from_secs(2);

pub(crate) async fn run(
    State(h): State<Handle>,
    Path(name): Path<String>,
    Json(req): Json<JobRunRequest>,
) -> Response {
    let (project, hashes, store) = (h.project.clone(), h.hashes.clone(), h.store.clone());
    let prep = tokio::task::spawn_blocking(move || {
        store.flush(READ_AFTER_WRITES);
        job_prep::prepare(&project, &hashes, &name, &req)
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
        job_prep::standing(&project, &hashes, &name, step.as_deref())
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

pub(crate) async fn show(State(h): State<Handle>, Path(name): Path<String>) -> Response {
    match records(&h, Some(name)).await {
        Ok(mut r) => Json(r.remove(0)).into_response(),
        Err(e) if e.kind == ApiErrorKind::Usage => error(StatusCode::NOT_FOUND, e),
        Err(e) => api_error(e),
    }
}

pub(crate) async fn list(State(h): State<Handle>) -> Response {
    match records(&h, None).await {
        Ok(r) => Json(r).into_response(),
        Err(e) => api_error(e),
    }
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

/// The record of job `name`, or of every job of the file, from the store
/// once the writes sent before are on disk.
async fn records(h: &Handle, name: Option<String>) -> Result<Vec<JobRecord>, ApiError> {
    let (project, store) = (h.project.clone(), h.store.clone());
    tokio::task::spawn_blocking(move || {
        store.flush(READ_AFTER_WRITES);
        let config = project
            .load()
            .map_err(|e| ApiError::new(ApiErrorKind::Config, e.to_string()))?;
        let jobs: Vec<_> = match &name {
            None => config.jobs.iter().collect(),
            Some(n) => match config.jobs.iter().find(|j| &j.name == n) {
                Some(j) => vec![j],
                None => {
                    return Err(ApiError::new(
                        ApiErrorKind::Usage,
                        harness_core::job::resume::unknown_job(n, &config),
                    ));
                }
            },
        };
        let internal =
            |e: harness_store::StoreError| ApiError::new(ApiErrorKind::Internal, e.to_string());
        let s = Store::open_read_only(&project.database()).map_err(internal)?;
        let mut out = Vec::new();
        for job in jobs {
            let last = s.last_job_run(&job.name).map_err(internal)?;
            let attempts = match &last {
                Some(l) => s.attempts(&job.name, l.run).map_err(internal)?,
                None => Vec::new(),
            };
            out.push(job_record::record(job, last.as_ref(), &attempts));
        }
        Ok(out)
    })
    .await
    .unwrap_or_else(|e| Err(ApiError::new(ApiErrorKind::Internal, e.to_string())))
}
