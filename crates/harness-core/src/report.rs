//! What the engine tells the world: the status of every service, the
//! progress and summary of a start or stop, and the plan of a start.
//!
//! These are the core's own types. The daemon maps them to the wire
//! (`harness-api`) in one file, so the core never depends on how they are
//! serialized, and a field the wire does not carry yet (a deploy's candidate
//! version, a job's step) can be added here first.

use crate::engine::OnFailure;
use std::time::Duration;

/// What a service's process is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
    /// Running, but not started by harness (systemd's, a person's):
    /// left as it is.
    External,
}

/// What harness knows of a service's health.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SystemState {
    /// Everything asked for is up and healthy.
    Running,
    /// Some of what was asked for is up, some is not.
    Partial,
    /// Everything asked for is up, some of it unhealthy.
    Degraded,
    /// Nothing is up, and something failed (a start, or a run that ended
    /// badly, also one waiting to be restarted): the stack is down because
    /// of a failure, not by request.
    Failed,
    /// Nothing is up, and nothing failed.
    Stopped,
}

/// One service as `status` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceView {
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
    /// Whole seconds since the process started, while running.
    pub uptime_secs: Option<u64>,
    /// Exit code of the last run, if it ended with one and nothing runs.
    pub exit_code: Option<i32>,
    /// Network label from the config (`local` when none is given).
    pub network: String,
    /// Why the service is as it is ("exit code 1", "dependency failed").
    pub notes: String,
    /// How its run differs from its definition in the config ("command
    /// changed"); empty when they match or nothing runs.
    pub changes: Vec<String>,
    /// It runs, and the config file no longer has it.
    pub removed: bool,
}

/// Every service, in config order, and the stack as a whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusView {
    /// The stack as a whole.
    pub system_state: SystemState,
    /// One entry per service, in config order.
    pub services: Vec<ServiceView>,
}

/// A stage a service reaches in a start or stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Waiting for its dependencies (named in the detail).
    Waiting,
    /// Already running and healthy: used as it is.
    Existing,
    /// Spawned; health not yet known.
    Starting,
    /// Healthy (final).
    Healthy,
    /// Started, health not waited for (final: `--no-wait`, or a one-shot
    /// that completed).
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

impl Stage {
    /// Whether this stage ends the service's part in the request.
    pub fn is_final(self) -> bool {
        !matches!(self, Stage::Waiting | Stage::Starting | Stage::Stopping)
    }
}

/// One service moved during a start or stop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    /// Service name.
    pub service: String,
    /// Where it is now.
    pub stage: Stage,
    /// Time since the request.
    pub elapsed: Duration,
    /// Process id, once spawned.
    pub pid: Option<u32>,
    /// Exit code, when it failed by exiting.
    pub exit_code: Option<i32>,
    /// Human detail: "exit code 1", "timeout after 5m", "waiting for db".
    pub detail: String,
}

/// Why a service started with a warning (`--force`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WarningReason {
    /// It started although a dependency is not up or not healthy.
    DependenciesNotHealthy,
    /// It runs, but did not become healthy in time.
    NotHealthy,
}

/// The result of a start or stop.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Summary {
    /// Whether everything asked for ended as asked.
    pub success: bool,
    /// Time from request to done.
    pub elapsed: Duration,
    /// Up and healthy or accepted, including those already running.
    pub started: Vec<String>,
    /// Those of `started` that were already running before the request:
    /// it started nothing for them.
    pub existing: Vec<String>,
    /// Failed to start or timed out.
    pub failed: Vec<String>,
    /// Not started because of a dependency.
    pub blocked: Vec<String>,
    /// Stopped by the request (for stops): not those already down.
    pub stopped: Vec<String>,
    /// Asked to stop but running outside harness (for stops): left as
    /// they are.
    pub left_running: Vec<String>,
    /// Started with warnings (`--force`), and why.
    pub warned: Vec<(String, WarningReason)>,
    /// What a failed start's `on_failure` policy did about the failure.
    pub recovery: Option<Box<Recovery>>,
}

/// What a failed start's `on_failure` policy did. Names are in config
/// order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Recovery {
    /// The policy carried out.
    pub policy: OnFailure,
    /// Stopped by it.
    pub stopped: Vec<String>,
    /// How long its stop took.
    pub elapsed: Duration,
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

/// What a start would do with one service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanAction {
    /// Running and healthy: used as it is.
    Use,
    /// Running, not healthy yet: its check is waited for.
    Wait,
    /// Started, in a wave.
    Start,
    /// Not started: a dependency is not up and will not be started.
    Blocked,
}

/// One service of a [`Plan`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanEntry {
    /// The service as it is now.
    pub current: ServiceView,
    /// What the start would do with it.
    pub action: PlanAction,
    /// For `Start`: 1 for services with nothing to wait for, then one more
    /// than the highest wave among the dependencies it waits for.
    pub wave: Option<u32>,
    /// Why ("dependency failed: api", "forced: api not up").
    pub detail: String,
}

/// What a start would do: the services in its scope, in config order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Plan {
    /// One entry per service in scope.
    pub services: Vec<PlanEntry>,
}

/// What a deploy does with one service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeployAction {
    /// In the file, no run: started.
    Add,
    /// Its run is of another definition: replaced by a run of the file's.
    Change,
    /// Like a change, and a deploy of it failed before (it runs the
    /// version it went back to, or nothing): the reasons say which.
    Drifted,
    /// Only how harness watches it changed (probes, restart, timeouts,
    /// network): taken without touching the run.
    InPlace,
    /// Running, gone from the file: stopped.
    Remove,
    /// Runs what the file says (or, a one-shot, completed it).
    Unchanged,
    /// Not run by harness: an instance outside it stands for the service
    /// (seed 000's coexist), and a deploy leaves it as it is.
    External,
}

impl DeployAction {
    /// Every action.
    pub const ALL: [DeployAction; 7] = [
        DeployAction::Add,
        DeployAction::Change,
        DeployAction::Drifted,
        DeployAction::InPlace,
        DeployAction::Remove,
        DeployAction::Unchanged,
        DeployAction::External,
    ];

    /// Its one spelling, on the wire and in `state.db`.
    pub fn as_str(self) -> &'static str {
        match self {
            DeployAction::Add => "add",
            DeployAction::Change => "change",
            DeployAction::Drifted => "drifted",
            DeployAction::InPlace => "in-place",
            DeployAction::Remove => "remove",
            DeployAction::Unchanged => "unchanged",
            DeployAction::External => "external",
        }
    }

    /// The action `word` spells.
    pub fn parse(word: &str) -> Option<DeployAction> {
        Self::ALL.into_iter().find(|a| a.as_str() == word)
    }

    /// Whether its run is replaced by a run of another version.
    pub fn replaces_run(self) -> bool {
        matches!(self, DeployAction::Change | DeployAction::Drifted)
    }

    /// Whether the deploy acts on the service's process.
    pub fn touches_process(self) -> bool {
        matches!(
            self,
            DeployAction::Add | DeployAction::Change | DeployAction::Drifted | DeployAction::Remove
        )
    }
}

/// One service of a [`DeployPlan`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeployEntry {
    /// The service.
    pub service: String,
    /// What the deploy does with it.
    pub action: DeployAction,
    /// Why, never with a value: "command changed", "env PGPORT changed",
    /// "health_check changed", "removed from the file".
    pub reasons: Vec<String>,
    /// The version its run runs ([`crate::engine::Definition::version`]),
    /// when it has a run whose print is known.
    pub from: Option<String>,
    /// The version the file asks for (none for a removal).
    pub to: Option<String>,
}

/// What a deploy would do: removals first (dependents before their
/// dependencies, the order they are stopped in), then the file's services
/// in file order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DeployPlan {
    /// One entry per service considered.
    pub services: Vec<DeployEntry>,
}

impl DeployPlan {
    /// A short print of the plan: each service's action, reasons and
    /// versions, in order. A deploy asked for with it begins only if its
    /// own plan has the same print, so what runs is what the user read.
    pub fn digest(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        for e in &self.services {
            for part in [
                e.service.as_str(),
                e.action.as_str(),
                &e.reasons.join("\u{1f}"),
                e.from.as_deref().unwrap_or(""),
                e.to.as_deref().unwrap_or(""),
            ] {
                h.update(part.as_bytes());
                h.update([0]);
            }
            h.update(b"\n");
        }
        h.finalize()[..6]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// Whether anything would change (`--detailed-exitcode`).
    pub fn pending(&self) -> bool {
        self.pending_with(false)
    }

    /// Whether anything would change; with `no_prune`, a removal would not.
    pub fn pending_with(&self, no_prune: bool) -> bool {
        self.services.iter().any(|e| match e.action {
            DeployAction::Unchanged | DeployAction::External => false,
            DeployAction::Remove => !no_prune,
            _ => true,
        })
    }

    /// The entry of `service`.
    pub fn entry(&self, service: &str) -> Option<&DeployEntry> {
        self.services.iter().find(|e| e.service == service)
    }
}

/// Where one service of a deploy stands, as its `progress` events say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeployPhase {
    /// Its dependencies are where they must be: it is acted on now.
    Scheduled,
    /// Its running version is being stopped (a removal, or a stop-first
    /// change).
    Stopping,
    /// Its new version was spawned; the health gate is under way.
    Starting,
    /// Its new version passed the health gate and is committed (final).
    Healthy,
    /// Only how harness watches it changed; taken without a restart
    /// (final).
    InPlace,
    /// Gone from the file and stopped (final).
    Removed,
    /// Gone from the file and left running (`--no-prune`; final).
    Kept,
    /// Its new version failed; the last stable version is being started.
    Reverting,
    /// Not acted on: a dependency of it in this deploy failed, or is not
    /// up. It keeps running what it ran (final).
    Blocked,
    /// Not acted on: the deploy was cancelled first (final).
    Cancelled,
}

/// What a service whose new version failed runs afterwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kept {
    /// Nothing: it was not running before, or its previous version could
    /// not be started again.
    None,
    /// Its previous run, never touched (start-first).
    Previous,
    /// Its previous version, started again (stop-first, `auto_revert`).
    Reverted,
}

/// One event of a deploy, for its client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeployEvent {
    /// A service moved.
    Progress {
        /// The service.
        service: String,
        /// Where it stands.
        phase: DeployPhase,
        /// Why, or how ("healthy for 2s", "dependency failed: api").
        detail: String,
    },
    /// A service did not reach its new version (final for it).
    Failed {
        /// The service.
        service: String,
        /// Why its new version failed.
        reason: String,
        /// What it runs now.
        kept: Kept,
    },
}

/// How a deploy ended: every service it considered is in exactly one list
/// (`reverted` is the part of `failed` back on its previous version).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DeploySummary {
    /// From the request to the last service settled.
    pub elapsed: Duration,
    /// Every service reached what the file says.
    pub success: bool,
    /// Added or changed, and committed.
    pub deployed: Vec<String>,
    /// Changed in place, without a restart.
    pub in_place: Vec<String>,
    /// Already what the file says.
    pub unchanged: Vec<String>,
    /// Gone from the file, and stopped.
    pub removed: Vec<String>,
    /// Gone from the file, left running (`--no-prune`).
    pub kept: Vec<String>,
    /// Their new version failed.
    pub failed: Vec<String>,
    /// Of `failed`: running their previous version again.
    pub reverted: Vec<String>,
    /// Not acted on because of a dependency; running what they ran.
    pub blocked: Vec<String>,
    /// Not acted on: the deploy was cancelled first.
    pub cancelled: Vec<String>,
}
