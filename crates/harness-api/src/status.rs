//! `GET /v1/status`: every service and the stack as a whole.

use serde::{Deserialize, Serialize};

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
    /// Running, but not started by harness: left as it is.
    External,
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
    /// How its run differs from its definition in the config file
    /// ("command changed", "env PGPORT changed"); never a value.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<String>,
    /// It runs, and the config file no longer has it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub removed_from_file: bool,
}

/// `GET /v1/status`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusReport {
    /// The stack as a whole.
    pub system_state: SystemState,
    /// One entry per service, in config order.
    pub services: Vec<ServiceStatus>,
    /// Something about harness itself the user should know now ("no room
    /// for the state database …"); absent when there is nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
}
