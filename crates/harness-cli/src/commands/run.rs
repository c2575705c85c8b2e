//! `harness run JOB [--from STEP | --restart] [--no-wait] [--on-error W]`:
//! the plan, each step's events, and — when a step failed for good — the
//! prompt, the flag or the job's `on_failure`. A run goes on in the daemon
//! whatever happens to this command: Ctrl-C interrupts it (the step under
//! way runs to its end, no further one begins) and exits 130.

use crate::args::{OnError, RunArgs};
use crate::client::{Client, SseReader};
use crate::error::CliError;
use crate::prompt::{self, Answer};
use crate::render;
use harness_api::{
    JobDecideRequest, JobDecision, JobDone, JobEvent, JobRunRequest, StepEvent, StepStatus,
};
use harness_core::config::{Config, Job, JobOnFailure};
use harness_store::Project;
use hyper::Method;

pub async fn run(project: &Project, config: &Config, a: RunArgs) -> Result<(), CliError> {
    let client = Client::connect(project).await?;
    let req = JobRunRequest {
        from: a.from.clone(),
        restart: a.restart,
    };
    let body = serde_json::to_string(&req).unwrap_or_default();
    let path = format!("/v1/jobs/{}/run", a.job);
    let mut resp = client.request(Method::POST, &path, Some(body)).await?;
    let mut view = View::default();
    // `--on-error retry` and `on_failure: retry` give one more attempt,
    // not an endless loop over a step that keeps failing.
    let mut retried = false;
    loop {
        let Some(done) = follow(&client, resp, &a, &mut view).await? else {
            return Ok(()); // --no-wait
        };
        if done.success {
            return Ok(());
        }
        if !matches!(done.status.as_str(), "failed" | "needs_decision") || view.decided_end {
            return Err(CliError::ServiceFailed);
        }
        let job = config.jobs.iter().find(|j| j.name == a.job);
        let Some((decision, via)) = decide(&a, job, &done, &view, &mut retried).await? else {
            return Err(CliError::ServiceFailed);
        };
        view.decided_end = matches!(decision, JobDecision::Stop | JobDecision::Cleanup);
        let body = serde_json::to_string(&JobDecideRequest {
            decision,
            via: via.into(),
        })
        .unwrap_or_default();
        let path = format!("/v1/jobs/{}/decide", a.job);
        resp = client.request(Method::POST, &path, Some(body)).await?;
    }
}

/// What the events so far say, for the lines that follow.
#[derive(Default)]
struct View {
    total: usize,
    width: usize,
    /// The last failed attempt, for the prompt.
    failed: Option<StepEvent>,
    /// The run ended as a person decided (stop, cleanup): nothing more to
    /// ask.
    decided_end: bool,
}

/// Prints a run's events until its `done` (`None`: `--no-wait` returned
/// after the plan).
async fn follow(
    client: &Client,
    resp: hyper::Response<hyper::body::Incoming>,
    a: &RunArgs,
    view: &mut View,
) -> Result<Option<JobDone>, CliError> {
    let mut events = SseReader::new(resp);
    loop {
        let lost = |why: String| -> CliError {
            anyhow::anyhow!(
                "the daemon went away before job {} finished ({why}); `{} jobs status {}` \
                 shows where it stands",
                a.job,
                render::hx(),
                a.job
            )
            .into()
        };
        let next = tokio::select! {
            e = events.next() => e.map_err(|e| lost(e.to_string()))?,
            _ = tokio::signal::ctrl_c() => return interrupt(client, &a.job).await,
        };
        let Some((name, data)) = next else {
            return Err(lost("it closed the stream".into()));
        };
        let event = JobEvent::parse(&name, &data).map_err(|e| {
            anyhow::anyhow!("the daemon sent an event this harness cannot read: {e}")
        })?;
        match event {
            Some(JobEvent::Plan(plan)) => {
                render::job_plan(&plan);
                (view.total, view.width) = (plan.steps.len(), render::step_width(&plan));
                if a.no_wait {
                    println!(
                        "Running in the daemon; `{} jobs status {}` shows where it stands.",
                        render::hx(),
                        a.job
                    );
                    return Ok(None);
                }
            }
            Some(JobEvent::Step(e)) => {
                render::step_event(&e, view.total, view.width);
                if e.status == StepStatus::Failed {
                    view.failed = Some(e);
                }
            }
            Some(JobEvent::Cleanup(c)) => render::cleanup(&a.job, &c),
            Some(JobEvent::Done(done)) => {
                render::job_done(&a.job, &done);
                return Ok(Some(done));
            }
            None => {} // an event a newer daemon sends
        }
    }
}

/// What to do about the step the run stopped at, and how it was decided:
/// `--on-error`, else a person at a terminal, else the job's `on_failure`.
/// `None`: leave it (stop, nothing to record).
async fn decide(
    a: &RunArgs,
    job: Option<&Job>,
    done: &JobDone,
    view: &View,
    retried: &mut bool,
) -> Result<Option<(JobDecision, &'static str)>, CliError> {
    let has_cleanup = job.is_some_and(|j| j.cleanup.is_some());
    let mut unattended = |what: OnError, via| match what {
        OnError::Stop => None,
        OnError::Retry if *retried => None,
        OnError::Retry => {
            *retried = true;
            Some((JobDecision::Retry, via))
        }
        OnError::Cleanup if has_cleanup => Some((JobDecision::Cleanup, via)),
        OnError::Cleanup => None,
    };
    // A step that is not idempotent is never run again behind a person's
    // back: only someone at the prompt decides about it.
    let needs_person = done.status == "needs_decision";
    if let Some(what) = a.on_error {
        return Ok(unattended(what, "--on-error").filter(|_| !needs_person));
    }
    if !prompt::terminal() {
        let what = match job.map(|j| j.on_failure) {
            Some(JobOnFailure::Retry) => OnError::Retry,
            Some(JobOnFailure::Cleanup) => OnError::Cleanup,
            Some(JobOnFailure::Stop) | None => OnError::Stop,
        };
        return Ok(unattended(what, "on_failure").filter(|_| !needs_person));
    }
    let step = &done.current_state;
    match &view.failed {
        Some(f) if done.status == "failed" => println!(
            "\nStep {step} failed for good: {} (attempt {} of {}).",
            f.why.as_deref().unwrap_or("it failed"),
            f.attempt,
            f.max_attempts
        ),
        _ => println!(
            "\nStep {step} needs a decision: an attempt of it was cut short with no end seen, and \
             it is not idempotent."
        ),
    }
    let mut menu = vec![
        (OnStepFailed::Retry, format!("a new attempt at {step} now")),
        (
            OnStepFailed::Skip,
            format!("mark {step} completed (give a reason) and go on"),
        ),
        (
            OnStepFailed::Stop,
            format!(
                "leave the state at {step}, status {}",
                done.status.replace('_', " ")
            ),
        ),
    ];
    if has_cleanup {
        menu.push((
            OnStepFailed::Cleanup,
            format!("run the job's cleanup (the state stays at {step})"),
        ));
    }
    let decision = match prompt::ask(&menu).await? {
        OnStepFailed::Retry => JobDecision::Retry,
        OnStepFailed::Skip => JobDecision::Skip {
            reason: prompt::line("Reason (kept in the history): ").await?,
        },
        OnStepFailed::Stop => JobDecision::Stop,
        OnStepFailed::Cleanup => JobDecision::Cleanup,
    };
    Ok(Some((decision, "prompt")))
}

/// The prompt's answers about a step that failed for good.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OnStepFailed {
    Retry,
    Skip,
    Stop,
    Cleanup,
}

impl Answer for OnStepFailed {
    fn label(self) -> &'static str {
        match self {
            OnStepFailed::Retry => "Retry",
            OnStepFailed::Skip => "Skip",
            OnStepFailed::Stop => "Stop here",
            OnStepFailed::Cleanup => "Cleanup",
        }
    }
}

/// Ctrl-C: the run is told to begin no further attempt; the one under way
/// keeps running.
async fn interrupt(client: &Client, job: &str) -> Result<Option<JobDone>, CliError> {
    let path = format!("/v1/jobs/{job}/interrupt");
    let asked = client.request(Method::POST, &path, None).await;
    eprintln!(
        "interrupted: the step under way runs to its end, no further step starts; `{} jobs \
         status {job}` shows where it stands{}",
        render::hx(),
        asked.err().map(|e| format!(" [{e}]")).unwrap_or_default()
    );
    Err(CliError::Interrupted)
}
