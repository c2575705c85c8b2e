//! Facts in ([`Input`]), commands out ([`Action`]).

use super::definition::Definition;
use super::history::HistoryState;
use super::recovery::OnFailure;
use super::spec::{ProbeSpec, RunSpec};
use crate::config::{Config, StopSignal};
use crate::report::{DeployEvent, DeployPlan, DeploySummary, Progress, Summary};
use std::time::{Duration, Instant};

pub use super::ids::{OpId, RunId, ServiceId, UnitId};

/// How a service's main process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProcessEnd {
    /// It exited with this code.
    Exited(i32),
    /// A signal killed it.
    Signaled(i32),
    /// It ended while nobody watched, and how is not known: its shim
    /// vanished without recording the exit (killed too, or the host went
    /// down). harness does not invent an exit code or a signal for it.
    Lost,
    /// It never ran: the spawn failed (the shim could not be started, or
    /// could not start the command).
    NotSpawned,
    /// An adopted process ended: harness did not start it and is not its
    /// parent, so the kernel tells it only that the process is gone, never
    /// how it ended. harness does not invent an exit code for it.
    Unknown,
}

impl ProcessEnd {
    /// The exit code, if it exited.
    pub fn code(self) -> Option<i32> {
        match self {
            ProcessEnd::Exited(c) => Some(c),
            ProcessEnd::Signaled(_)
            | ProcessEnd::Lost
            | ProcessEnd::NotSpawned
            | ProcessEnd::Unknown => None,
        }
    }

    /// The signal that killed it, if one did.
    pub fn signal(self) -> Option<i32> {
        match self {
            ProcessEnd::Signaled(s) => Some(s),
            ProcessEnd::Exited(_)
            | ProcessEnd::Lost
            | ProcessEnd::NotSpawned
            | ProcessEnd::Unknown => None,
        }
    }

    /// Whether it ended well (exit code 0).
    pub fn success(self) -> bool {
        self == ProcessEnd::Exited(0)
    }

    /// "exit code 1", "killed by signal 9", "ended unseen (exit status
    /// lost)", "could not be started", "ended (adopted: exit status
    /// unknown)".
    pub fn describe(self) -> String {
        match self {
            ProcessEnd::Exited(c) => format!("exit code {c}"),
            ProcessEnd::Signaled(s) => format!("killed by signal {s}"),
            ProcessEnd::Lost => "ended unseen (exit status lost)".to_string(),
            ProcessEnd::NotSpawned => "could not be started".to_string(),
            ProcessEnd::Unknown => "ended (adopted: exit status unknown)".to_string(),
        }
    }
}

/// Which of a service's three probes (seed 004).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProbeKind {
    /// `health_check`: readiness; gates dependents, never restarts.
    Ready,
    /// `liveness`: failing `retries` times in a row restarts the service.
    Live,
    /// `startup`: holds the others back until it passes.
    Startup,
}

/// What a service pushed about itself (`sd_notify`, or a log line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notified {
    /// It is ready; how it said so ("READY=1", "log line matched").
    Ready(String),
    /// `STATUS=…`: a line of text to show in status.
    Status(String),
    /// `WATCHDOG=1`: still alive.
    Watchdog,
}

/// Options of a start request.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StartOptions {
    /// `--timeout`.
    pub timeout: Option<Duration>,
    /// `--force`.
    pub force: bool,
    /// `--no-wait`.
    pub no_wait: bool,
    /// Start exactly the targets, without pulling in their dependencies
    /// (`--blocked`): a dependency that is not up blocks them, or with
    /// `force` they start anyway.
    pub no_deps: bool,
    /// Why this start was asked for, added to its history rows
    /// ("retry chosen at prompt").
    pub cause: Option<String>,
    /// What to do if it fails; carried out before the start is done.
    pub on_failure: OnFailure,
}

/// Options of a stop request.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StopOptions {
    /// Stop exactly the targets (a rollback): running dependents outside
    /// them are left alone rather than pulled in.
    pub exact: bool,
    /// Why this stop was asked for, added to its history rows.
    pub cause: Option<String>,
}

/// Options of a deploy.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeployOptions {
    /// Leave services gone from the file running (`--no-prune`).
    pub no_prune: bool,
    /// Run these versions instead of the file's definitions (a rollback,
    /// or going back after a daemon died mid-deploy), by service.
    pub versions: Vec<(String, RunSpec)>,
}

/// An instance of a service that harness did not start (systemd's, a
/// person's, another project's), as the runtime saw it
/// (`harness_core::external::find`, then its readiness check).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExternalInstance {
    /// Its process, when it could be named.
    pub pid: Option<u32>,
    /// That process's start time (clock ticks since boot): with the pid,
    /// it names the process for good, so a reused pid is never taken
    /// for it.
    pub start_time: Option<u64>,
    /// Whether its readiness check passed (with no check: whether it was
    /// found at all, so always).
    pub healthy: bool,
}

/// A run the last daemon recorded, as a new daemon found it.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    /// Its run.
    pub run: RunId,
    /// Main process id.
    pub pid: u32,
    /// When it started.
    pub since: Instant,
    /// Whether it is wanted up: false when the last daemon died while
    /// stopping it; the engine then finishes that stop.
    pub wanted: bool,
    /// How it ended, if it ended while no daemon ran (its shim is gone);
    /// `None` while it still runs.
    pub ended: Option<ProcessEnd>,
    /// What it was spawned with, if the record says (records made before
    /// prints were kept do not).
    pub definition: Option<Definition>,
    /// It is a process harness adopted, not one it spawned.
    pub adopted: bool,
}

/// Facts the runtime feeds in.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// Start these services (by index) and what they depend on.
    Start {
        /// Operation id chosen by the runtime.
        op: OpId,
        /// Services asked for.
        targets: Vec<ServiceId>,
        /// Flags.
        options: StartOptions,
    },
    /// Stop these services and what depends on them.
    Stop {
        /// Operation id chosen by the runtime.
        op: OpId,
        /// Services asked for.
        targets: Vec<ServiceId>,
        /// Flags.
        options: StopOptions,
    },
    /// Make what runs match `file`, as `plan` (made by
    /// [`super::Engine::deploy_plan`] against the engine as it is, with
    /// the same file) says. The runtime begins a deploy only when no other
    /// operation is in progress.
    Deploy {
        /// Operation id chosen by the runtime.
        op: OpId,
        /// The file, as the plan read it.
        file: Box<Config>,
        /// What to do with each service.
        plan: DeployPlan,
        /// Flags.
        options: DeployOptions,
    },
    /// What the runtime saw of services harness runs no instance of: one
    /// outside, or none (any longer).
    External {
        /// Each service looked at, and what was found.
        seen: Vec<(ServiceId, Option<ExternalInstance>)>,
    },
    /// Adopt service `service`'s instance outside harness, process `pid`
    /// that started at `start_time` (`harness adopt`): it becomes the
    /// service's run. The runtime asks [`super::Engine::may_adopt`] first,
    /// and has refused what is not to be adopted (PID 1, harness's own,
    /// another user's).
    Adopt {
        /// The service.
        service: ServiceId,
        /// Its process.
        pid: u32,
        /// That process's start time (clock ticks since boot).
        start_time: u64,
    },
    /// The client of an operation went away: start nothing more for it.
    Cancel {
        /// The operation.
        op: OpId,
    },
    /// A spawn succeeded.
    Spawned {
        /// Service index when the run began (the engine goes by `run`).
        service: ServiceId,
        /// The run spawned.
        run: RunId,
        /// Its main process id.
        pid: u32,
    },
    /// A spawn could not be carried out.
    SpawnFailed {
        /// Service index when the run began (the engine goes by `run`).
        service: ServiceId,
        /// The run that failed.
        run: RunId,
        /// Why.
        reason: String,
    },
    /// A run the last daemon recorded, found when this one started.
    Attached {
        /// Service index (fed at boot, before any reload).
        service: ServiceId,
        /// The run, as found.
        found: Found,
    },
    /// A second live run of a service the last daemon recorded — a
    /// start-first deploy's other version — that is not to be kept: it is
    /// stopped. Fed after the service's own run's `Attached`.
    AttachedBeside {
        /// Service index (fed at boot, before any reload).
        service: ServiceId,
        /// The run, as found.
        found: Found,
    },
    /// A run ended.
    Exited {
        /// Service index when the run began (the engine goes by `run`).
        service: ServiceId,
        /// The run that ended.
        run: RunId,
        /// How.
        end: ProcessEnd,
    },
    /// A probe answered.
    Probed {
        /// Service index when the run began (the engine goes by `run`).
        service: ServiceId,
        /// The run it probed.
        run: RunId,
        /// Which probe.
        kind: ProbeKind,
        /// Whether it passed.
        ok: bool,
    },
    /// A service pushed something about itself.
    Notified {
        /// Service index when the run began (the engine goes by `run`).
        service: ServiceId,
        /// The run it came from.
        run: RunId,
        /// What.
        message: Notified,
    },
    /// A run of a job that services wait for ended (or could not begin):
    /// `completed`, or why not ("failed at step kickstart").
    JobSettled {
        /// The job.
        job: String,
        /// Whether it completed.
        completed: bool,
        /// How it ended.
        detail: String,
    },
    /// Time passed (a deadline may have been reached).
    Tick,
}

/// What happened to a service's health, worth a line in the logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HealthEvent {
    /// Probes failed: it is marked not ready, or (liveness, startup,
    /// watchdog) its run is stopped to be restarted. Why.
    Unhealthy(String),
    /// Its run ended on its own and a restart is scheduled: why, and when.
    Ended(String),
    /// A restart is being made: attempt within the window, and the limit
    /// (0: none).
    Restarting {
        /// This attempt.
        attempt: u32,
        /// The limit.
        max: u32,
    },
    /// A restarted run is up: how it showed it.
    Restarted(String),
    /// Too many restarts; given up until a person starts it. The
    /// transition's reason: "exceeded maximum restart limit (…) - …".
    GaveUp(String),
}

/// How loud a [`HealthEvent`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// Things going as they should.
    Info,
    /// Something failed; harness is handling it.
    Warning,
    /// A person has to step in.
    Error,
}

impl HealthEvent {
    /// How every line of [`HealthEvent::line`] begins.
    const STARTS: [&str; 5] = [
        "Service marked unhealthy",
        "Service ended",
        "Restarting service",
        "Service restarted successfully",
        "Service has exceeded maximum restart limit",
    ];

    /// The log line, as seed 004 writes it.
    pub fn line(&self) -> String {
        let [unhealthy, ended, restarting, restarted, _] = Self::STARTS;
        match self {
            HealthEvent::Unhealthy(why) => format!("{unhealthy} ({why})"),
            HealthEvent::Ended(why) => format!("{ended} ({why})"),
            HealthEvent::Restarting { attempt, max } => {
                format!(
                    "{restarting} (attempt {})",
                    super::auto_restart::attempt_of(*attempt, *max)
                )
            }
            HealthEvent::Restarted(how) => format!("{restarted} ({how})"),
            HealthEvent::GaveUp(why) => format!("Service has {why}"),
        }
    }

    /// How loud it is.
    pub fn severity(&self) -> Severity {
        match self {
            HealthEvent::Restarted(_) => Severity::Info,
            HealthEvent::GaveUp(_) => Severity::Error,
            _ => Severity::Warning,
        }
    }

    /// Whether `line` is one [`HealthEvent::line`] wrote.
    pub fn is_line(line: &str) -> bool {
        Self::STARTS.iter().any(|s| line.starts_with(s))
    }
}

/// Commands the runtime carries out.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Everything recorded so far (history rows, deploy outcomes) must be
    /// on disk before the actions after this one are carried out: what
    /// follows is only safe once a daemon killed next would find it.
    Persist,
    /// Run this job (resumed where it stopped; up to date, it completes at
    /// once): services of a start wait for it, and go on once the runtime
    /// says how it ended ([`Input::JobSettled`]).
    RunJob {
        /// The job.
        job: String,
    },
    /// Spawn a run of a service.
    Spawn {
        /// Service index.
        service: ServiceId,
        /// The run's id, to tag later facts with.
        run: RunId,
        /// What to run.
        spec: Box<RunSpec>,
    },
    /// Watch process `pid`, which harness did not start, as run `run` of
    /// a service (it was adopted): record it, so a new daemon takes it
    /// over, and report its end.
    Adopt {
        /// Service index.
        service: ServiceId,
        /// The run it is now.
        run: RunId,
        /// Its process.
        pid: u32,
        /// That process's start time (clock ticks since boot).
        start_time: u64,
    },
    /// Stop a run: `signal` to its process group, SIGKILL after `grace`.
    Stop {
        /// Service index.
        service: ServiceId,
        /// The run.
        run: RunId,
        /// Main process id (also the process group id).
        pid: u32,
        /// First signal.
        signal: StopSignal,
        /// Time before SIGKILL.
        grace: Duration,
    },
    /// Run the health probe of a service at `at`.
    Probe {
        /// Service index.
        service: ServiceId,
        /// The run to probe.
        run: RunId,
        /// Which probe.
        kind: ProbeKind,
        /// When.
        at: Instant,
        /// What to probe, and how.
        spec: Box<ProbeSpec>,
    },
    /// Record a state change in the history.
    Transition {
        /// Service index.
        service: ServiceId,
        /// State before: the one the previous row recorded.
        from: HistoryState,
        /// State after.
        to: HistoryState,
        /// Why.
        reason: String,
        /// The request behind it, when one was named (also in `reason`).
        cause: Option<String>,
    },
    /// Say in the health log (`daemon.log` and the service's own log)
    /// what happened to a service's health: seed 004's lines.
    Health {
        /// Service index.
        service: ServiceId,
        /// What happened.
        event: HealthEvent,
    },
    /// Tell the client of an operation how one service is doing.
    Progress {
        /// The operation.
        op: OpId,
        /// What happened.
        progress: Progress,
    },
    /// A failed start's recovery begins: the progress that follows on
    /// this operation is the stop its `on_failure` policy asked for.
    Recover {
        /// The operation.
        op: OpId,
        /// The policy.
        policy: OnFailure,
    },
    /// Tell the client of a deploy how one service is doing.
    Deploy {
        /// The operation.
        op: OpId,
        /// What happened.
        event: DeployEvent,
    },
    /// A deploy is over.
    DeployDone {
        /// The operation.
        op: OpId,
        /// Its result.
        summary: DeploySummary,
    },
    /// An operation is over.
    Done {
        /// The operation.
        op: OpId,
        /// Its result.
        summary: Summary,
    },
}
