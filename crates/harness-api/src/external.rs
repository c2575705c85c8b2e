//! Instances of services that harness did not start (seed 000), as
//! `harness adopt` shows one before asking, and the request that adopts it.

use serde::{Deserialize, Serialize};

/// `GET /v1/external/NAME`: the instance of service NAME running outside
/// harness, as the daemon found it just now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExternalInstance {
    /// The service it stands for.
    pub service: String,
    /// Its process, when it could be named (another user's socket, or a
    /// check that passes against another host, has none).
    pub pid: Option<u32>,
    /// That process's start time in clock ticks since boot: with the pid,
    /// it names the process for good. An adoption names it, so that what
    /// is adopted is the process the person was shown.
    pub start_time: Option<u64>,
    /// When it started, ms since the Unix epoch.
    pub started_at_ms: Option<i64>,
    /// Its command line.
    pub command: Vec<String>,
    /// Its user's name (or uid, when the name is not known).
    pub user: Option<String>,
    /// The ports it listens on, of those the service is known by.
    pub ports: Vec<u16>,
    /// Why it is taken for the service: `port 5432`, `process name
    /// postgres`, `pidfile /run/postgresql/15-main.pid`.
    pub evidence: String,
    /// Whether its readiness check passed (with no check: always).
    pub healthy: bool,
    /// Why harness will not adopt or stop it, if it will not: PID 1,
    /// harness's own, another user's.
    pub refused: Option<String>,
}

/// `POST /v1/adopt` (make this instance outside harness the service's
/// run) and `POST /v1/replace` (stop it, so that a start runs harness's
/// own).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExternalRequest {
    /// The service.
    pub service: String,
    /// The process, as `GET /v1/external/NAME` showed it.
    pub pid: u32,
    /// Its start time, as shown: a process that is not this one any more
    /// is left alone (`changed`).
    pub start_time: u64,
}

/// The answer of `POST /v1/adopt`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Adopted {
    /// The service.
    pub service: String,
    /// Its process, now its run.
    pub pid: u32,
}

/// The answer of `POST /v1/replace`: the instance outside harness ended,
/// and its ports are free.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Replaced {
    /// The service.
    pub service: String,
    /// The process that was stopped.
    pub pid: u32,
    /// How it ended: `SIGTERM`, or `SIGKILL after SIGTERM`.
    pub ended_by: String,
}
