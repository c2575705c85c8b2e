//! Request bodies: start, plan, stop, health checks.

use serde::{Deserialize, Serialize};

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
    /// What the daemon does if the start fails, before it reports `done`.
    pub on_failure: OnFailure,
}

/// What a failed start does about its failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum OnFailure {
    /// Leave everything as the start left it.
    #[default]
    Keep,
    /// Stop every service in the start's scope, and what depends on them
    /// (`--teardown-on-failure`).
    Teardown,
    /// Stop what the start started, dependents first; what was already
    /// running is left alone (`--rollback-on-failure`).
    Rollback,
    /// Keep what does not depend on a failed service; stop what does, if
    /// the start started it (`--smart-rollback`).
    SmartRollback,
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
