//! The job routes that read: the records, a job's runs, an attempt's log,
//! from the store once the writes sent before are on disk.

use super::{READ_AFTER_WRITES, internal};
use crate::api::{api_error, error, format_ts};
use crate::job_prep;
use crate::job_record;
use crate::supervisor::Handle;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use harness_api::{ApiError, ApiErrorKind, JobRecord, JobRunEntry};
use harness_store::Store;

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
        Ok(path) => crate::api::service_log::file(&path, p.tail, p.follow),
        Err(e) if e.kind == ApiErrorKind::Usage => error(StatusCode::NOT_FOUND, e),
        Err(e) => api_error(e),
    }
}
