//! One service's state machine: the only place where a service's [`Phase`]
//! changes from one variant to another. Starts, stops and restarts ask it
//! with a [`Move`]; a move the phase does not allow — a stale fact about an
//! old run, a stop of something already stopping — is refused and changes
//! nothing. (Fields inside a variant, such as probe counters, are updated
//! in place by the code that owns them.)
//!
//! The table of allowed moves is tested row by row in `tests/machine.rs`.

use super::io::RunId;
use super::service::{Backoff, Engine, Phase, ProbeHealth};
use std::time::{Duration, Instant};

/// Why harness stops a run in order to restart it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KillReason {
    /// The liveness probe failed this many times in a row.
    Liveness(u32),
    /// The startup probe did not pass within this long.
    Startup(Duration),
    /// No `WATCHDOG=1` came for this long.
    Watchdog(Duration),
}

impl KillReason {
    /// "liveness probe failed 3 times", as history and logs say it.
    pub fn describe(self) -> String {
        match self {
            KillReason::Liveness(n) => format!("liveness probe failed {n} times"),
            KillReason::Startup(d) => format!(
                "startup probe did not pass within {}",
                crate::duration::human(d)
            ),
            KillReason::Watchdog(d) => {
                format!("watchdog: no WATCHDOG=1 for {}", crate::duration::human(d))
            }
        }
    }
}

/// A stop harness makes so that the restart policy starts the run again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KillForRestart {
    /// Why.
    pub why: KillReason,
    /// When the run came up (its uptime counts against `min_uptime`).
    pub since: Instant,
}

/// What moves a service from one phase to another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Move {
    /// Spawn run `run`: a start, a due restart (`restart`), or a run a new
    /// daemon found running.
    Spawn {
        /// The new run.
        run: RunId,
        /// It is an automatic restart.
        restart: bool,
    },
    /// The spawn of `run` succeeded.
    Spawned {
        /// The run.
        run: RunId,
        /// Its main process.
        pid: u32,
        /// When it started.
        since: Instant,
        /// A startup probe must pass before the other probes run.
        startup: bool,
    },
    /// The spawn of `run` failed.
    SpawnFailed {
        /// The run.
        run: RunId,
    },
    /// Stop it: signal its process, or, while it has none yet, as soon as
    /// it has; a pending restart is dropped.
    Stop {
        /// harness stops it to restart it.
        restart: Option<KillForRestart>,
    },
    /// Run `run` ended.
    Ended {
        /// The run.
        run: RunId,
    },
    /// A start-first deploy sets run `run` aside (it runs on, beside the
    /// service's new run, outside the machine: see `beside.rs`).
    SetAside {
        /// The run.
        run: RunId,
    },
    /// A run that was set aside is the service's run again, as it was
    /// (its health as it was when set aside; its probes go on).
    Restore {
        /// The run.
        run: RunId,
        /// Its main process.
        pid: u32,
        /// When it started.
        since: Instant,
        /// Its health when it was set aside.
        health: ProbeHealth,
    },
    /// Wait before restarting.
    BackOff(Backoff),
    /// Drop a pending restart (a person starts it).
    CancelBackoff,
}

/// The phase that `m` leads to from `phase`, or `None` if `phase` does not
/// allow it.
pub fn next_phase(phase: Phase, m: Move) -> Option<Phase> {
    use Phase::*;
    Some(match (phase, m) {
        (Stopped | Backoff { .. }, Move::Spawn { run, restart }) => Spawning {
            run,
            restart,
            stop_requested: false,
        },
        (
            Spawning {
                run: r, restart, ..
            },
            Move::Spawned {
                run,
                pid,
                since,
                startup,
            },
        ) if r == run => Up {
            run,
            pid,
            since,
            health: ProbeHealth::Starting,
            fails: 0,
            attempts: 0,
            live_fails: 0,
            started: !startup,
            restarting: restart,
            watchdog_due: None,
        },
        (Spawning { run: r, .. }, Move::SpawnFailed { run }) if r == run => Stopped,
        (Spawning { run, restart, .. }, Move::Stop { restart: None }) => Spawning {
            run,
            restart,
            stop_requested: true,
        },
        (Up { run, pid, .. }, Move::Stop { restart }) => Stopping { run, pid, restart },
        (Backoff { .. }, Move::Stop { restart: None }) => Stopped,
        (Up { run: r, .. } | Stopping { run: r, .. }, Move::Ended { run }) if r == run => Stopped,
        (Up { run: r, .. }, Move::SetAside { run }) if r == run => Stopped,
        (
            Stopped,
            Move::Restore {
                run,
                pid,
                since,
                health,
            },
        ) => Up {
            run,
            pid,
            since,
            health,
            fails: 0,
            attempts: 0,
            live_fails: 0,
            started: true,
            restarting: false,
            watchdog_due: None,
        },
        (Stopped, Move::BackOff(b)) => Backoff {
            until: b.until,
            attempt: b.attempt,
            max: b.max,
        },
        (Backoff { .. }, Move::CancelBackoff) => Stopped,
        _ => return None,
    })
}

impl Engine {
    /// Moves service `i`'s phase by `m`; false (and nothing changes) if
    /// its phase does not allow it.
    pub(super) fn apply(&mut self, i: usize, m: Move) -> bool {
        match next_phase(self.svcs[i].phase, m) {
            Some(phase) => {
                self.svcs[i].phase = phase;
                true
            }
            None => false,
        }
    }
}
