//! The transaction log: every change of a service's recorded state is one
//! row `from → to (reason)`. The engine keeps, per service, the state the
//! last row recorded, and every row is written by [`Engine::record`], which
//! takes `from` from there. So the chain `a → b`, `b → c` never breaks, and
//! no call site types a state it believes the service was in.

use super::io::Action;
use super::io::ServiceId;
use super::service::Engine;

/// A service's state as the history records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HistoryState {
    /// No process, nothing wrong.
    Stopped,
    /// Spawned (or spawning), not yet ready.
    Starting,
    /// Up and ready.
    Running,
    /// Up, but its readiness check fails (or it did not pass in time).
    Unhealthy,
    /// A stop was sent.
    Stopping,
    /// Ended on its own; a restart is due.
    Restarting,
    /// Not started: a dependency is not up.
    Blocked,
    /// Ended on its own, and stays down (a completed one-shot, or a run
    /// whose policy does not restart it).
    Exited,
    /// Ended badly and stays down: given up on, or not restarted.
    Failed,
}

impl HistoryState {
    /// Every state, for parsing.
    pub const ALL: [HistoryState; 9] = [
        HistoryState::Stopped,
        HistoryState::Starting,
        HistoryState::Running,
        HistoryState::Unhealthy,
        HistoryState::Stopping,
        HistoryState::Restarting,
        HistoryState::Blocked,
        HistoryState::Exited,
        HistoryState::Failed,
    ];

    /// The word stored in the history and shown in `status --history`.
    pub fn as_str(self) -> &'static str {
        match self {
            HistoryState::Stopped => "stopped",
            HistoryState::Starting => "starting",
            HistoryState::Running => "running",
            HistoryState::Unhealthy => "unhealthy",
            HistoryState::Stopping => "stopping",
            HistoryState::Restarting => "restarting",
            HistoryState::Blocked => "blocked",
            HistoryState::Exited => "exited",
            HistoryState::Failed => "failed",
        }
    }

    /// The state a stored word names.
    pub fn parse(word: &str) -> Option<HistoryState> {
        Self::ALL.into_iter().find(|s| s.as_str() == word)
    }

    /// Whether a process exists in this state (a row ending here leaves
    /// the chain open: more rows of the same run follow).
    pub fn is_transient(self) -> bool {
        matches!(self, HistoryState::Starting | HistoryState::Stopping)
    }
}

impl std::fmt::Display for HistoryState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Engine {
    /// Service `i` is now `to`, because of `reason`: one history row from
    /// the state the last row recorded. `cause` names the request behind
    /// it, when a person or a follow-up asked (it is part of `reason` too).
    pub(super) fn record(
        &mut self,
        i: usize,
        to: HistoryState,
        reason: String,
        cause: Option<String>,
        out: &mut Vec<Action>,
    ) {
        let from = std::mem::replace(&mut self.svcs[i].recorded, to);
        out.push(Action::Transition {
            service: ServiceId(i),
            from,
            to,
            reason,
            cause,
        });
    }

    /// What the history of an earlier daemon last said of service `i`, so
    /// that this daemon's first row continues that chain.
    pub fn restore_recorded(&mut self, i: usize, state: HistoryState) {
        self.svcs[i].recorded = state;
    }
}
