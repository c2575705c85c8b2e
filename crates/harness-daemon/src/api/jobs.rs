//! Jobs: `POST /v1/jobs/NAME/run` (SSE `plan`, `step`, `done`; a client
//! that goes away does not stop the run), `GET /v1/jobs` and
//! `GET /v1/jobs/NAME` (the record), `POST /v1/jobs/NAME/interrupt` and
//! `/cancel`.

use super::format_ts;
use super::{api_error, error, gone};
use crate::job_prep;
use crate::job_record;
use crate::supervisor::{Handle, JobControl, Msg};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use harness_api::{
    ApiError, ApiErrorKind, JobDecideRequest, JobEvent, JobMarkRequest, JobRecord, JobRunEntry,
    JobRunRequest,
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

pub(crate) async fn runs(State(h): State<Handle>, Path(name): Path<String>) -> Response {
    let (project, store) = (h.project.clone(), h.store.clone());
    let rows = tokio::task::spawn_blocking(move || {
        store.flush(READ_AFTER_WRITES);
        job_prep::job_named(&project, &name)?;
        let s = Store::open_read_only(&project.database()).map_err(internal)?;
        s.job_runs(&name, 1000).map_err(internal)
    })
    .await
    .unwrap_or_else(|e| Err(ApiError::new(ApiErrorKind::Internal, e.to_string())));
    match rows {
        Ok(rows) => Json(
            rows.into_iter()
                .map(|r| JobRunEntry {
                    run: r.run,
                    start: r.start,
                    started: format_ts(r.started_ms),
                    ended: r.ended_ms.map(format_ts),
                    current_state: r.state_step,
                    status: r.status,
                })
                .collect::<Vec<_>>(),
        )
        .into_response(),
        Err(e) if e.kind == ApiErrorKind::Usage => error(StatusCode::NOT_FOUND, e),
        Err(e) => api_error(e),
    }
}

#[derive(serde::Deserialize)]
pub(crate) struct LogParams {
    attempt: Option<i64>,
    tail: Option<usize>,
    #[serde(default)]
    follow: bool,
}

/// `GET /v1/jobs/NAME/logs/STEP?attempt=N&tail=N&follow=true`: the log of
/// an attempt at the step in the job's last run that ran it (the latest
/// attempt, or attempt N).
pub(crate) async fn logs(
    State(h): State<Handle>,
    Path((name, step)): Path<(String, String)>,
    Query(p): Query<LogParams>,
) -> Response {
    let (project, store) = (h.project.clone(), h.store.clone());
    let attempt = p.attempt;
    let found = tokio::task::spawn_blocking(move || {
        store.flush(READ_AFTER_WRITES);
        let job = job_prep::job_named(&project, &name)?;
        harness_core::job::resume::start_at(&job, Some(&step), false)
            .map_err(|e| ApiError::new(ApiErrorKind::Usage, e))?;
        let s = Store::open_read_only(&project.database()).map_err(internal)?;
        let mut logs = Vec::new();
        for run in s.job_runs(&name, 1000).map_err(internal)? {
            let rows = s.attempts(&name, run.run).map_err(internal)?;
            logs.extend(
                rows.into_iter()
                    .rev()
                    .filter(|a| a.step == step && attempt.is_none_or(|n| a.attempt == n))
                    .filter_map(|a| a.log),
            );
            if !logs.is_empty() {
                break;
            }
        }
        match logs.first() {
            Some(log) => Ok(project.state_dir().join(log)),
            None => Err(ApiError::new(
                ApiErrorKind::Usage,
                match attempt {
                    Some(n) => format!("step `{step}` of job `{name}` has no attempt {n}"),
                    None => format!("step `{step}` of job `{name}` has not run"),
                },
            )),
        }
    })
    .await
    .unwrap_or_else(|e| Err(ApiError::new(ApiErrorKind::Internal, e.to_string())));
    match found {
        Ok(path) => super::logs::file(&path, p.tail, p.follow),
        Err(e) if e.kind == ApiErrorKind::Usage => error(StatusCode::NOT_FOUND, e),
        Err(e) => api_error(e),
    }
}

fn internal(e: harness_store::StoreError) -> ApiError {
    ApiError::new(ApiErrorKind::Internal, e.to_string())
}
