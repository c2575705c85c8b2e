//! # harness-api: the vocabulary shared by the daemon, the CLI and tests
//!
//! Every type here is serialized as JSON on the daemon's Unix socket. Field
//! names are part of the contract (`status --json` prints [`StatusReport`]
//! as it is), so renaming one is a breaking change: add fields, never rename.
//! [`API_VERSION`] is the prefix of every route.

use serde::{Deserialize, Serialize};

/// Routes live under `/v1/…`.
pub const API_VERSION: &str = "v1";

/// What a service's process is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Not running.
    Stopped,
    /// Spawned, not yet ready.
    Starting,
    /// Running.
    Running,
    /// Being stopped.
    Stopping,
    /// Waiting to be started again.
    Restarting,
    /// Given up on: needs a person.
    Failed,
    /// Ended on its own after it had started.
    Exited,
}

/// What harness knows of a service's health.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Health {
    /// Its check passes (or it has none and is running).
    Healthy,
    /// Its check fails.
    Unhealthy,
    /// Not decided yet.
    Starting,
    /// Not started because a dependency is not up.
    Blocked,
    /// Failed to start or ended with an error.
    Failed,
    /// Nothing known (stopped cleanly, never started).
    Unknown,
}

/// The stack as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum SystemState {
    /// Everything requested is up and healthy.
    Running,
    /// Some of what was requested is not up.
    Partial,
    /// Everything requested is up, some of it unhealthy.
    Degraded,
    /// Nothing is up, and something failed (a start, or a run that ended
    /// badly).
    Failed,
    /// Nothing is up, and nothing failed.
    Stopped,
}

/// One row of `status`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceStatus {
    /// Service name.
    pub name: String,
    /// Process state.
    pub status: Status,
    /// Health.
    pub health: Health,
    /// Main process id while running.
    pub pid: Option<u32>,
    /// Automatic restarts so far.
    pub restarts: u32,
    /// Seconds since the process started, while running.
    pub uptime_secs: Option<u64>,
    /// Exit code of the last run, if it ended with one.
    pub exit_code: Option<i32>,
    /// Network label from the config.
    pub network: String,
    /// Why the service is as it is ("exit code 1", "dependency failed").
    pub notes: String,
    /// For a failed service: the last lines it wrote (stdout and stderr).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub last_output: Vec<String>,
}

/// `GET /v1/status`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusReport {
    /// The stack as a whole.
    pub system_state: SystemState,
    /// One entry per service, in config order.
    pub services: Vec<ServiceStatus>,
}

/// One row of the history (`GET /v1/history`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// Local time, `YYYY-MM-DD HH:MM:SS.mmm`.
    pub ts: String,
    /// Service name.
    pub service: String,
    /// State before.
    pub from: String,
    /// State after.
    pub to: String,
    /// Why.
    pub reason: String,
    /// What request led to it, when a person or a follow-up asked
    /// ("retry chosen at prompt", "rollback: api failed
    /// (--rollback-on-failure)"). It is also part of `reason`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
}

/// `POST /v1/start`. Fields left out take their defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct StartRequest {
    /// Services to start (their dependencies come along).
    pub services: Vec<String>,
    /// Start every service.
    pub all: bool,
    /// `--timeout`, in seconds.
    pub timeout_secs: Option<f64>,
    /// Start dependents even when a dependency is not up; timeouts warn.
    pub force: bool,
    /// Do not wait for health.
    pub no_wait: bool,
    /// Start the services that failed last time (`--failed`).
    pub failed: bool,
    /// Start the services that were blocked last time, without pulling in
    /// their dependencies (`--blocked`; with `force`, start them anyway).
    pub blocked: bool,
    /// Why the start was asked for; added to its history rows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
}

/// `POST /v1/plan`: what a start would do, changing nothing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct PlanRequest {
    /// The start to plan.
    #[serde(flatten)]
    pub start: StartRequest,
    /// Plan as if every service in scope were stopped first (`--restart`).
    pub restart: bool,
}

/// What a start would do with one service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanAction {
    /// Running and healthy: used as it is.
    Use,
    /// Running, not healthy yet: its check is waited for.
    Wait,
    /// Started, in `wave`.
    Start,
    /// Not started: a dependency is not up and will not be started.
    Blocked,
}

/// One service of a [`Plan`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanEntry {
    /// The service as it is now.
    pub current: ServiceStatus,
    /// What the start would do with it.
    pub action: PlanAction,
    /// For `start`: 1 for services with nothing to wait for, then one more
    /// than the highest wave among the dependencies it waits for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wave: Option<u32>,
    /// Why ("dependency failed: api", "forced: dependency api not up").
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub detail: String,
}

/// The answer of `POST /v1/plan`: the services in the start's scope, in
/// config order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Plan {
    /// One entry per service in scope.
    pub services: Vec<PlanEntry>,
}

/// `POST /v1/choice`: an answer given at a prompt, kept in the history as
/// a row of the pseudo-service [`CHOICE_SUBJECT`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Choice {
    /// The question ("partial system", "startup failed").
    pub prompt: String,
    /// The answer ("continue", "retry").
    pub answer: String,
    /// The situation it answered ("2 of 5 services running").
    pub detail: String,
}

/// The history's name for rows recording a person's choice; not a valid
/// service name, so it never collides with one.
pub const CHOICE_SUBJECT: &str = "(choice)";

/// `POST /v1/stop`. Fields left out take their defaults.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct StopRequest {
    /// Services to stop (their dependents stop first).
    pub services: Vec<String>,
    /// Stop every service.
    pub all: bool,
    /// Stop exactly these services (a rollback): dependents outside them
    /// are left running.
    pub exact: bool,
    /// Why the stop was asked for; added to its history rows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
}

/// A step in the progress of one service during a start or stop, sent as
/// the SSE event `progress`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    /// Service name.
    pub service: String,
    /// What happened.
    pub phase: Phase,
    /// Milliseconds since the request.
    pub elapsed_ms: u64,
    /// Process id, once spawned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<u32>,
    /// Exit code, when it exited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    /// Human detail: "exit code 1", "timeout after 300s", "blocked by api".
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub detail: String,
}

/// Phases a service goes through in a start or stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Waiting for its dependencies.
    Waiting,
    /// Already running and healthy: used as it is.
    Existing,
    /// Spawned; health not yet known.
    Starting,
    /// Healthy (final).
    Healthy,
    /// Started, health not waited for (final, `--no-wait` or no check).
    Started,
    /// Started with a warning (final, `--force`).
    Warning,
    /// Failed to start (final).
    Failed,
    /// Did not become healthy in time; left running (final).
    TimedOut,
    /// Not started: a dependency is not up (final).
    Blocked,
    /// Being stopped.
    Stopping,
    /// Stopped (final, for stops).
    Stopped,
}

impl Phase {
    /// Whether this phase ends the service's part in the request.
    pub fn is_final(self) -> bool {
        !matches!(self, Phase::Waiting | Phase::Starting | Phase::Stopping)
    }
}

/// The last SSE event of a request, `done`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Summary {
    /// Whether everything requested ended as asked. This, not the HTTP
    /// status, is the result of the request.
    pub success: bool,
    /// Seconds from request to done.
    pub elapsed: f64,
    /// Started (or already running) and healthy or accepted.
    pub started: Vec<String>,
    /// Failed to start or timed out.
    pub failed: Vec<String>,
    /// Not started because of a dependency.
    pub blocked: Vec<String>,
    /// Stopped (for stop requests).
    pub stopped: Vec<String>,
    /// Started with warnings (`--force`).
    pub warned: Vec<String>,
    /// Those of `started` that were already running: the request started
    /// nothing for them.
    #[serde(default)]
    pub existing: Vec<String>,
    /// Why each of `warned` has a warning, in the same order.
    #[serde(default)]
    pub warnings: Vec<Warning>,
}

/// A service started with a warning, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Warning {
    /// Service name.
    pub service: String,
    /// Why.
    pub reason: WarningReason,
}

/// Why a service started with a warning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WarningReason {
    /// It started although a dependency is not up or not healthy.
    DependenciesNotHealthy,
    /// It runs, but did not become healthy in time.
    NotHealthy,
}

/// The events of a start or stop stream (Server-Sent Events): the SSE
/// event name is [`OpEvent::name`], its data the JSON of the payload.
#[derive(Debug, Clone, PartialEq)]
pub enum OpEvent {
    /// `progress`: one service moved.
    Progress(Progress),
    /// `done`: the request is over; always the last event.
    Done(Summary),
}

impl OpEvent {
    /// The SSE event name.
    pub fn name(&self) -> &'static str {
        match self {
            OpEvent::Progress(_) => "progress",
            OpEvent::Done(_) => "done",
        }
    }

    /// The SSE data: the payload as JSON.
    pub fn data(&self) -> String {
        let json = match self {
            OpEvent::Progress(p) => serde_json::to_string(p),
            OpEvent::Done(s) => serde_json::to_string(s),
        };
        json.unwrap_or_default()
    }

    /// An event read back from its name and data; `Ok(None)` for an event
    /// name this version does not know (a newer daemon may send more).
    pub fn parse(name: &str, data: &str) -> Result<Option<OpEvent>, serde_json::Error> {
        Ok(match name {
            "progress" => Some(OpEvent::Progress(serde_json::from_str(data)?)),
            "done" => Some(OpEvent::Done(serde_json::from_str(data)?)),
            _ => None,
        })
    }
}

/// The body of an error answer (4xx/5xx).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    /// What went wrong.
    pub error: String,
    /// What kind of error: picks the HTTP status and the CLI's exit code.
    pub kind: ApiErrorKind,
}

impl ApiError {
    /// An error of `kind` saying `error`.
    pub fn new(kind: ApiErrorKind, error: impl Into<String>) -> Self {
        ApiError {
            error: error.into(),
            kind,
        }
    }
}

/// The kinds of [`ApiError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApiErrorKind {
    /// The request names something that does not exist or asks for
    /// something impossible (CLI exit 2; HTTP 422, or 404 for an unknown
    /// service in the path).
    Usage,
    /// The config file is invalid (CLI exit 2; HTTP 422).
    Config,
    /// harness itself failed (CLI exit 1; HTTP 500 or 503).
    Internal,
}

/// `POST /v1/health`: run the checks now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct HealthRequest {
    /// Services to check; empty means all.
    pub services: Vec<String>,
}

/// One answer of `POST /v1/health`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HealthResult {
    /// Service name.
    pub service: String,
    /// Whether the check passed.
    pub healthy: bool,
    /// What the probe saw.
    pub detail: String,
    /// How long the probe took, in milliseconds.
    pub took_ms: u64,
}

/// `GET /v1/info`: who is serving this socket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DaemonInfo {
    /// Daemon process id.
    pub pid: u32,
    /// The config file it serves.
    pub config: String,
    /// harness version.
    pub version: String,
}
