//! The SSE stream of a start or stop: progress, recovery, and the summary.

use crate::requests::OnFailure;
use serde::{Deserialize, Serialize};

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
    /// Asked to stop but running outside harness: left as they are.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub left_running: Vec<String>,
    /// Started with warnings (`--force`).
    pub warned: Vec<String>,
    /// Those of `started` that were already running: the request started
    /// nothing for them.
    #[serde(default)]
    pub existing: Vec<String>,
    /// Why each of `warned` has a warning, in the same order.
    #[serde(default)]
    pub warnings: Vec<Warning>,
    /// What a failed start's `on_failure` policy did about the failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery: Option<Box<Recovery>>,
}

/// What a failed start's `on_failure` policy did. Names are in config
/// order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct Recovery {
    /// The policy carried out.
    pub policy: OnFailure,
    /// Stopped by it.
    pub stopped: Vec<String>,
    /// Seconds its stop took.
    pub elapsed: f64,
    /// Left running: they do not depend on a failed service (smart
    /// rollback).
    pub kept: Vec<String>,
    /// Dependents of a failed service the start never started (smart
    /// rollback).
    pub not_started: Vec<String>,
    /// Running before the start, so left alone (rollbacks).
    pub left_running: Vec<String>,
    /// Started by the start, still running, not healthy (smart rollback).
    pub unhealthy: Vec<String>,
}

/// The SSE event `recovery`: a failed start's recovery begins; the
/// progress that follows is its stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecoveryBegins {
    /// The policy being carried out.
    pub policy: OnFailure,
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
    /// `recovery`: a failed start's recovery begins.
    Recovery(RecoveryBegins),
    /// `done`: the request is over; always the last event.
    Done(Summary),
}

impl OpEvent {
    /// The SSE event name.
    pub fn name(&self) -> &'static str {
        match self {
            OpEvent::Progress(_) => "progress",
            OpEvent::Recovery(_) => "recovery",
            OpEvent::Done(_) => "done",
        }
    }

    /// The SSE data: the payload as JSON.
    pub fn data(&self) -> String {
        let json = match self {
            OpEvent::Progress(p) => serde_json::to_string(p),
            OpEvent::Recovery(r) => serde_json::to_string(r),
            OpEvent::Done(s) => serde_json::to_string(s),
        };
        json.unwrap_or_default()
    }

    /// An event read back from its name and data; `Ok(None)` for an event
    /// name this version does not know (a newer daemon may send more).
    pub fn parse(name: &str, data: &str) -> Result<Option<OpEvent>, serde_json::Error> {
        Ok(match name {
            "progress" => Some(OpEvent::Progress(serde_json::from_str(data)?)),
            "recovery" => Some(OpEvent::Recovery(serde_json::from_str(data)?)),
            "done" => Some(OpEvent::Done(serde_json::from_str(data)?)),
            _ => None,
        })
    }
}
