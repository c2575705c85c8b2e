//! What a run of a job is to do, worked out before it begins and off the
//! supervisor's loop (it reads the file, the store and every input and
//! output a step names): the job as the file says now, the run's number,
//! each step's print, and the plan — which steps run and why
//! (`harness_core::job::resume`).

use crate::file_hashes::FileHashes;
use crate::job_prints::step_now;
use harness_api::{ApiError, ApiErrorKind, JobRunRequest};
use harness_core::config::Job;
use harness_core::job::resume::{self, Planned, StartAt, StepNow, StepPrint};
use harness_core::job::runner::AttemptOutcome;
use harness_store::{Project, Store};
use std::sync::Mutex;

/// A run of a job, ready to begin.
#[derive(Debug, Clone)]
pub struct JobPrep {
    /// The job, as the file says now.
    pub job: Job,
    /// The number of its run: the last run's, when it goes on with it.
    pub run: i64,
    /// Whether it goes on with the last run, which stopped short of
    /// completing (failed, cancelled, interrupted): a plain `harness run`
    /// resumes a run; `--from`, `--restart` and a completed last run
    /// begin a new one.
    pub continues: bool,
    /// With `continues`: the attempts each step had in that run so far.
    pub tried: Vec<u32>,
    /// Its last run completed and nothing changed since: a start that
    /// waits for it needs no new run.
    pub up_to_date: bool,
    /// How it was asked to begin (`resume`, `from STEP`, `restart`).
    pub start: String,
    /// What it does with each step, and why.
    pub plan: Vec<Planned>,
    /// Each step's print now (kept with each attempt).
    pub prints: Vec<StepPrint>,
}

/// Prepares a run of job `name` as `req` asks. Blocking: the file, the
/// store (read after every write sent before was applied) and the files
/// the steps name.
pub fn prepare(
    project: &Project,
    hashes: &Mutex<FileHashes>,
    name: &str,
    req: &JobRunRequest,
) -> Result<JobPrep, ApiError> {
    let job = job_named(project, name)?;
    let start = resume::start_at(&job, req.from.as_deref(), req.restart)
        .map_err(|e| ApiError::new(ApiErrorKind::Usage, e))?;
    let internal =
        |e: harness_store::StoreError| ApiError::new(ApiErrorKind::Internal, e.to_string());
    let store = Store::open_read_only(&project.database()).map_err(internal)?;
    let last = store.last_job_run(name).map_err(internal)?;
    let mut done = Vec::with_capacity(job.steps.len());
    for step in &job.steps {
        done.push(store.last_completion(name, &step.name).map_err(internal)?);
    }
    // A step marked completed since needs no decision any more.
    if let Some(last) = &last
        && let Some(k) = job.steps.iter().position(|s| s.name == last.state_step)
        && done[k].is_none()
        && let Some(why) = resume::refused(&last.status, &last.state_step, start)
    {
        return Err(ApiError::new(ApiErrorKind::Usage, why));
    }
    let last_completed = last.as_ref().is_some_and(|l| l.status == "completed");
    let continued = last.filter(|l| resume::continues(&l.status, start));
    let (run, tried) = match &continued {
        Some(last) => {
            let attempts = store.attempts(name, last.run).map_err(internal)?;
            (last.run, tried(&job, &attempts))
        }
        None => (store.next_job_run(name).map_err(internal)?, Vec::new()),
    };
    let now: Vec<_> = {
        let mut hashes = hashes.lock().unwrap_or_else(|p| p.into_inner());
        job.steps
            .iter()
            .map(|s| step_now(&project.root, s, &mut hashes))
            .collect()
    };
    let plan = resume::plan(&now, &done, start);
    Ok(JobPrep {
        up_to_date: last_completed && plan.iter().all(|p| p.action == resume::Action::Skip),
        start: start.label(&job),
        job,
        run,
        continues: continued.is_some(),
        tried,
        plan,
        prints: now.into_iter().map(|s| s.print).collect(),
    })
}

/// The attempts each step of `job` had in a run (its `attempts` rows; a
/// mark is no attempt): see [`harness_core::job::run::attempts_made`].
fn tried(job: &Job, attempts: &[harness_store::AttemptRow]) -> Vec<u32> {
    let steps: Vec<&str> = job.steps.iter().map(|s| s.name.as_str()).collect();
    let ended = attempts
        .iter()
        .filter(|a| a.process_run.is_some())
        .filter_map(|a| {
            Some((
                a.step.as_str(),
                a.attempt as u32,
                AttemptOutcome::parse(&a.status)?,
            ))
        });
    harness_core::job::run::attempts_made(&steps, ended)
}

/// Job `name` as the file says now; one the file does not have is a
/// usage error naming the ones it has.
pub fn job_named(project: &Project, name: &str) -> Result<Job, ApiError> {
    let config = project
        .load()
        .map_err(|e| ApiError::new(ApiErrorKind::Config, e.to_string()))?;
    match config.jobs.iter().find(|j| j.name == name) {
        Some(job) => Ok(job.clone()),
        None => Err(ApiError::new(
            ApiErrorKind::Usage,
            resume::unknown_job(name, &config),
        )),
    }
}

/// A job's last run and one of its steps as it is now: what a decision
/// about the step the run stopped at (`decide`) or a mark of a step
/// (`mark`) needs.
#[derive(Debug, Clone)]
pub struct Standing {
    /// The job, as the file says now.
    pub job: Job,
    /// Its last run, if it ran.
    pub last: Option<harness_store::JobRunRow>,
    /// Attempts counted at the step that run stands at.
    pub tried: u32,
    /// The attempts each step had before that run was last resumed.
    pub tried_before: Vec<u32>,
    /// Each step's print now.
    pub prints: Vec<StepPrint>,
    /// The step concerned.
    pub step: usize,
    /// It as it is now (its print, its outputs' hashes): what a mark
    /// records, so that a later run skips it only while it stays so.
    pub now: StepNow,
}

/// What a decision about job `name`'s failed step (`step` = `None`), or
/// a mark of its step `step`, needs. Blocking, like [`prepare`].
pub fn standing(
    project: &Project,
    hashes: &Mutex<FileHashes>,
    name: &str,
    step: Option<&str>,
) -> Result<Standing, ApiError> {
    let job = job_named(project, name)?;
    let internal =
        |e: harness_store::StoreError| ApiError::new(ApiErrorKind::Internal, e.to_string());
    let store = Store::open_read_only(&project.database()).map_err(internal)?;
    let last = store.last_job_run(name).map_err(internal)?;
    let k = match step {
        Some(s) => match resume::start_at(&job, Some(s), false) {
            Ok(StartAt::Step(k)) => k,
            Ok(_) => 0,
            Err(e) => return Err(ApiError::new(ApiErrorKind::Usage, e)),
        },
        None => match &last {
            Some(l) if matches!(l.status.as_str(), "failed" | "needs_decision") => {
                match job.steps.iter().position(|s| s.name == l.state_step) {
                    Some(k) => k,
                    None => {
                        return Err(ApiError::new(
                            ApiErrorKind::Usage,
                            format!(
                                "job `{name}` has no step `{}` any more (its last run stopped there); run it again",
                                l.state_step
                            ),
                        ));
                    }
                }
            }
            _ => {
                return Err(ApiError::new(
                    ApiErrorKind::Usage,
                    format!("job `{name}` has no failed step to decide about"),
                ));
            }
        },
    };
    if k >= job.steps.len() {
        return Err(ApiError::new(
            ApiErrorKind::Usage,
            format!("job `{name}`'s steps changed since its last run; run it again"),
        ));
    }
    let tried = match &last {
        Some(l) => tried(&job, &store.attempts(name, l.run).map_err(internal)?)[k],
        None => 0,
    };
    let tried_before = match &last {
        Some(l) => store.job_run_tried(name, l.run).map_err(internal)?,
        None => Vec::new(),
    };
    let mut hashes = hashes.lock().unwrap_or_else(|p| p.into_inner());
    let all: Vec<StepNow> = job
        .steps
        .iter()
        .map(|s| step_now(&project.root, s, &mut hashes))
        .collect();
    Ok(Standing {
        last,
        tried,
        tried_before,
        prints: all.iter().map(|s| s.print.clone()).collect(),
        step: k,
        now: all[k].clone(),
        job,
    })
}
