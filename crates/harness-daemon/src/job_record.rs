//! A job's record as `GET /v1/jobs/NAME` and `harness jobs status` give
//! it (seed 003's failure record), read from `job_runs` and
//! `job_attempts`, and what comes next for a run in a given status.

use crate::api::format_ts;
use harness_api::{JobFailure, JobRecord, NextAction, StateEntry};
use harness_core::config::Job;
use harness_store::{AttemptRow, JobRunRow};

/// What follows a run of `name` that stands at step `step` with `status`
/// (`retry_at_ms`: when its retry is due).
pub fn next_action(
    name: &str,
    step: &str,
    status: &str,
    retry_at_ms: Option<i64>,
    job: &Job,
) -> NextAction {
    let manual = |command: String| NextAction {
        kind: "manual".into(),
        at: None,
        command: Some(command),
    };
    match status {
        "waiting_retry" => NextAction {
            kind: "auto_retry".into(),
            at: retry_at_ms.map(format_ts),
            command: None,
        },
        // Resumed at the failed step once the cause is fixed.
        "failed" | "cancelled" | "interrupted" => manual(format!("harness run {name}")),
        "needs_decision" => manual(format!(
            "harness run {name} --from {step}  (or: harness jobs mark {name} {step} --completed --reason …)"
        )),
        "never_run" if !job.steps.is_empty() => manual(format!("harness run {name}")),
        _ => NextAction::none(),
    }
}

/// The record of `job`'s last run (`last`, with its `attempts` in order);
/// a job that never ran has run 0 and status `never_run`.
pub fn record(job: &Job, last: Option<&JobRunRow>, attempts: &[AttemptRow]) -> JobRecord {
    let Some(last) = last else {
        return JobRecord {
            job: job.name.clone(),
            run: 0,
            current_state: job.steps[0].name.clone(),
            current_state_index: 0,
            status: "never_run".into(),
            attempt: 0,
            max_attempts: 0,
            failure: None,
            next_action: next_action(&job.name, &job.steps[0].name, "never_run", None, job),
            state_history: Vec::new(),
            started: None,
            ended: None,
        };
    };
    let at_state: Vec<&AttemptRow> = attempts
        .iter()
        .filter(|a| a.step == last.state_step && a.process_run.is_some())
        .filter(|a| a.status != "cancelled" && a.status != "interrupted")
        .collect();
    let latest = at_state.last();
    let failure = latest.filter(|a| a.status == "failed").map(|a| JobFailure {
        class: a.class.clone(),
        exit_code: a.exit_code,
        signal: a.signal,
        error: a.error.clone(),
        log: a.log.clone(),
    });
    let mut state_history = Vec::new();
    for a in attempts {
        if a.process_run.is_none() {
            state_history.push(StateEntry {
                state: a.step.clone(),
                status: "marked".into(),
                error: a.error.clone(),
                timestamp: format_ts(a.started_ms),
                attempt: 0,
            });
            continue;
        }
        state_history.push(StateEntry {
            state: a.step.clone(),
            status: "started".into(),
            error: None,
            timestamp: format_ts(a.started_ms),
            attempt: a.attempt,
        });
        if let Some(ended) = a.ended_ms {
            state_history.push(StateEntry {
                state: a.step.clone(),
                status: a.status.clone(),
                error: a.error.clone().filter(|_| a.status == "failed"),
                timestamp: format_ts(ended),
                attempt: a.attempt,
            });
        }
    }
    JobRecord {
        job: job.name.clone(),
        run: last.run,
        current_state: last.state_step.clone(),
        current_state_index: last.state,
        status: last.status.clone(),
        attempt: latest.map(|a| a.attempt).unwrap_or(0),
        max_attempts: latest.map(|a| a.max_attempts).unwrap_or(0),
        failure,
        next_action: next_action(
            &job.name,
            &last.state_step,
            &last.status,
            last.retry_at_ms,
            job,
        ),
        state_history,
        started: Some(format_ts(last.started_ms)),
        ended: last.ended_ms.map(format_ts),
    }
}
