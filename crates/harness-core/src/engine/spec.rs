//! What the runtime is to run or probe, as the engine decided it. Actions
//! carry these, so the runtime never reads the config back to find out
//! what to spawn for a service: a deploy holds two versions of one. A
//! job's step is not a service: its spec is made from the job its run
//! began with (`RunSpec::of_step`).

use super::ids::UnitId;
use crate::config::{Command, HealthCheck, Job, LogRotation, Ready, Service, StopSignal};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// One run of a unit's process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunSpec {
    /// The unit's name; its log, exit file and notify socket are named
    /// for it.
    pub unit: UnitId,
    /// What to run.
    pub command: Command,
    /// Folder to run in, relative to the config's folder.
    pub working_dir: Option<PathBuf>,
    /// Environment, in file order (after `env_file`'s).
    pub env: Vec<(String, String)>,
    /// A dotenv file read at spawn, relative to the config's folder.
    pub env_file: Option<PathBuf>,
    /// First signal of a stop.
    pub stop_signal: StopSignal,
    /// Time from the stop signal to SIGKILL.
    pub stop_timeout: Duration,
    /// Pushed readiness: `sd_notify` or a log line.
    pub ready: Option<Ready>,
    /// With `ready: notify`: the watchdog period exported to the service.
    pub watchdog: Option<Duration>,
    /// Hashes of what it names outside the file (`Service::observed`).
    pub observed: BTreeMap<String, String>,
    /// The listening socket harness hands it as fd 3 (`socket.tcp`).
    pub socket: Option<std::net::SocketAddr>,
    /// How its log is rotated (the shim does it). Not part of its version:
    /// a new limit applies from its next start.
    pub logs: LogRotation,
}

impl RunSpec {
    /// The run a service's definition asks for.
    pub fn of(svc: &Service) -> RunSpec {
        RunSpec {
            unit: UnitId::Service(svc.name.clone()),
            command: svc.command.clone(),
            working_dir: svc.working_dir.as_ref().map(|(d, _)| d.clone()),
            env: svc.env.clone(),
            env_file: svc.env_file.as_ref().map(|(f, _)| f.clone()),
            stop_signal: svc.stop_signal,
            stop_timeout: svc.stop_timeout,
            ready: svc.ready.clone(),
            watchdog: svc.watchdog,
            observed: svc.observed.clone(),
            socket: svc.socket.map(|(addr, _)| addr),
            logs: svc.logs,
        }
    }
}

impl RunSpec {
    /// An attempt at step `k` of `job`: stopped (past its `timeout`, or
    /// cancelled) with SIGTERM, then SIGKILL after
    /// [`crate::job::runner::STOP_GRACE`].
    pub fn of_step(job: &Job, k: usize) -> RunSpec {
        let step = &job.steps[k];
        RunSpec {
            unit: UnitId::step(&job.name, &step.name),
            command: step.command.clone(),
            working_dir: step.working_dir.as_ref().map(|(d, _)| d.clone()),
            env: step.env.clone(),
            env_file: step.env_file.as_ref().map(|(f, _)| f.clone()),
            stop_signal: StopSignal::Term,
            stop_timeout: crate::job::runner::STOP_GRACE,
            ready: None,
            watchdog: None,
            observed: BTreeMap::new(),
            socket: None,
            logs: job.logs,
        }
    }
}

/// One probe of a unit's run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeSpec {
    /// The unit probed.
    pub unit: UnitId,
    /// What to probe, and its timeout.
    pub check: HealthCheck,
    /// Where a command probe runs, relative to the config's folder.
    pub working_dir: Option<PathBuf>,
    /// A command probe's environment (the unit's `env`).
    pub env: Vec<(String, String)>,
}

impl ProbeSpec {
    /// `check` of a service, run the way the service runs.
    pub fn of(svc: &Service, check: &HealthCheck) -> ProbeSpec {
        ProbeSpec {
            unit: UnitId::Service(svc.name.clone()),
            check: check.clone(),
            working_dir: svc.working_dir.as_ref().map(|(d, _)| d.clone()),
            env: svc.env.clone(),
        }
    }
}
