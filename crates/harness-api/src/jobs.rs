//! Jobs (seed 003): a run's request and its SSE stream (`plan`, `step`,
//! `done`), a person's decision about a failed step, and the job's record
//! (`GET /v1/jobs/NAME`, `harness jobs status --json`).
//!
//! The record is seed 003's failure record in harness's snake_case:
//! `currentState` → `current_state` (the step's name: a job's milestones
//! are its steps, named, not numbered; `current_state_index` is its place),
//! `stateHistory` → `state_history`.

use serde::{Deserialize, Serialize};

/// `POST /v1/jobs/NAME/run`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobRunRequest {
    /// Run this step and every one after it, whatever they say
    /// (`--from STEP`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// Run every step from the first (`--restart`).
    #[serde(default)]
    pub restart: bool,
}

/// `POST /v1/jobs/NAME/decide`: what a person chose about the step the
/// last run stopped at (the prompt's answer, or `--on-error`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum JobDecision {
    /// Another attempt now.
    Retry,
    /// Mark it completed, with a reason, and go on.
    Skip {
        /// Why (kept in the history).
        reason: String,
    },
    /// Leave it: the state stays, status failed.
    Stop,
    /// Run the job's `cleanup`; the state stays.
    Cleanup,
}

/// `POST /v1/jobs/NAME/decide`: a decision, and how it was made (kept in
/// the history with it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobDecideRequest {
    /// What was decided.
    #[serde(flatten)]
    pub decision: JobDecision,
    /// `prompt` (a person answered), `--on-error` or `on_failure` (the
    /// job's own).
    pub via: String,
}

/// `POST /v1/jobs/NAME/mark`: step `step` is to count as completed
/// (`harness jobs mark JOB STEP --completed --reason …`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobMarkRequest {
    /// The step.
    pub step: String,
    /// Why (kept with the mark and in the history).
    pub reason: String,
}

/// The `cleanup` event: the job's `cleanup` ran (a person chose it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CleanupEvent {
    /// Whether it exited 0.
    pub success: bool,
    /// How it ended: `exit code 0`, `could not be started: …`.
    pub detail: String,
    /// Its log, relative to the state folder.
    pub log: String,
}

/// One step of a run's plan (the `plan` event).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedStep {
    /// The step.
    pub step: String,
    /// Its place in the job, from 0.
    pub index: usize,
    /// `run` or `skip`.
    pub action: String,
    /// Why: "up to date", "never completed", "input versions.lock changed",
    /// "output cache/base.iso missing", "an earlier step runs (base)".
    pub why: String,
}

/// The `plan` event: what the run does with each step, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobPlan {
    /// The job.
    pub job: String,
    /// The run's number (1 for the job's first).
    pub run: i64,
    /// Whether it goes on with that run (which had stopped short of
    /// completing) rather than beginning it.
    #[serde(default)]
    pub continues: bool,
    /// Each step.
    pub steps: Vec<PlannedStep>,
}

/// What happened to a step (the `step` event's `status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    /// An attempt began.
    Started,
    /// It completed.
    Completed,
    /// An attempt failed and nothing follows on its own.
    Failed,
    /// An attempt failed; another follows after `retry_in_ms`.
    Retrying,
    /// It was up to date and skipped.
    Cached,
    /// A person marked it completed.
    Marked,
    /// Its attempt was stopped by a cancel.
    Cancelled,
    /// Its attempt's end was not seen (it died with the host or its shim).
    Interrupted,
}

/// The `step` event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepEvent {
    /// The step.
    pub step: String,
    /// Its place, from 0.
    pub index: usize,
    /// What happened.
    pub status: StepStatus,
    /// The attempt (1 for the first), 0 for a skipped step.
    pub attempt: u32,
    /// Attempts in all for its class (the first class's before a failure).
    pub max_attempts: u32,
    /// A failure's class: `transient` or `persistent`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class: Option<String>,
    /// Its exit code, if it exited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    /// A failed attempt's last line(s) of output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Why: a skip's ("up to date"), a failure's class ("exit code 75 is
    /// transient"), a mark's reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
    /// Time to the next attempt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_in_ms: Option<u64>,
    /// The attempt's own log, relative to the state folder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log: Option<String>,
}

/// What comes next for a job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NextAction {
    /// `none` (completed, or running), `auto_retry` (harness retries at
    /// `at`) or `manual` (a person: `command`).
    pub kind: String,
    /// When the retry is due (local time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
    /// What a person runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
}

impl NextAction {
    /// Nothing to do.
    pub fn none() -> NextAction {
        NextAction {
            kind: "none".into(),
            at: None,
            command: None,
        }
    }
}

/// The final `done` event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobDone {
    /// Whether the job completed.
    pub success: bool,
    /// The step reached.
    pub current_state: String,
    /// How it stands: `completed`, `failed`, `needs_decision`,
    /// `cancelled`, `interrupted`.
    pub status: String,
    /// What follows.
    pub next_action: NextAction,
    /// Milliseconds since the request.
    pub elapsed_ms: u64,
    /// Why the run ended before any step ran ("needs db up, and it did
    /// not come up").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The events of a job's run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobEvent {
    /// `plan`.
    Plan(JobPlan),
    /// `step`.
    Step(StepEvent),
    /// `cleanup`.
    Cleanup(CleanupEvent),
    /// `done`.
    Done(JobDone),
}

impl JobEvent {
    /// The SSE event name.
    pub fn name(&self) -> &'static str {
        match self {
            JobEvent::Plan(_) => "plan",
            JobEvent::Step(_) => "step",
            JobEvent::Cleanup(_) => "cleanup",
            JobEvent::Done(_) => "done",
        }
    }

    /// The SSE data: the payload as JSON.
    pub fn data(&self) -> String {
        let json = match self {
            JobEvent::Plan(p) => serde_json::to_string(p),
            JobEvent::Step(s) => serde_json::to_string(s),
            JobEvent::Cleanup(c) => serde_json::to_string(c),
            JobEvent::Done(d) => serde_json::to_string(d),
        };
        json.unwrap_or_default()
    }

    /// An event read back; `Ok(None)` for a name this version does not
    /// know.
    pub fn parse(name: &str, data: &str) -> Result<Option<JobEvent>, serde_json::Error> {
        Ok(match name {
            "plan" => Some(JobEvent::Plan(serde_json::from_str(data)?)),
            "step" => Some(JobEvent::Step(serde_json::from_str(data)?)),
            "cleanup" => Some(JobEvent::Cleanup(serde_json::from_str(data)?)),
            "done" => Some(JobEvent::Done(serde_json::from_str(data)?)),
            _ => None,
        })
    }
}

/// Why the last attempt failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobFailure {
    /// `transient` or `persistent`.
    pub class: Option<String>,
    /// Its exit code, if it exited.
    pub exit_code: Option<i64>,
    /// The signal that ended it, if one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signal: Option<i64>,
    /// Its last line(s) of output.
    pub error: Option<String>,
    /// Its own log, relative to the state folder.
    pub log: Option<String>,
}

/// One entry of a run's history: an attempt began or ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateEntry {
    /// The step.
    pub state: String,
    /// `started`, `completed`, `failed`, `cancelled`, `interrupted`,
    /// `marked`.
    pub status: String,
    /// A failure's last line(s), or a mark's reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// When (local time).
    pub timestamp: String,
    /// The attempt (0 for a mark).
    pub attempt: i64,
}

/// `GET /v1/jobs/NAME`: seed 003's record of the job's last run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobRecord {
    /// The job.
    pub job: String,
    /// Its last run's number; 0 if it never ran.
    pub run: i64,
    /// The step reached (its name).
    pub current_state: String,
    /// Its place, from 0.
    pub current_state_index: i64,
    /// `never_run`, `running`, `waiting_retry`, `completed`, `failed`,
    /// `needs_decision`, `cancelled`, `interrupted`.
    pub status: String,
    /// Attempts at the step reached, in this run.
    pub attempt: i64,
    /// Their limit (of the last failure's class).
    pub max_attempts: i64,
    /// Why the last attempt at the step reached failed, if it did.
    pub failure: Option<JobFailure>,
    /// What follows.
    pub next_action: NextAction,
    /// The run's attempts, in order.
    pub state_history: Vec<StateEntry>,
    /// When the run began (local time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started: Option<String>,
    /// When it ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended: Option<String>,
}

/// One run of a job (`GET /v1/jobs/NAME/runs`, `harness jobs history`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobRunEntry {
    /// Its number.
    pub run: i64,
    /// How it was asked to begin: `resume`, `from STEP`, `restart`.
    pub start: String,
    /// When it began (local time).
    pub started: String,
    /// When it ended, if it did.
    pub ended: Option<String>,
    /// The step it reached.
    pub current_state: String,
    /// How it stands.
    pub status: String,
}
