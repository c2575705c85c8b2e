//! The supervisor's brain: one state machine over all services of a project.
//!
//! [`Engine::step`] takes one [`Input`] and the current time and returns the
//! [`Action`]s that follow. Starts and stops are *operations*: a start pulls
//! in dependencies, spawns each service as soon as its dependencies meet
//! their condition, and settles every member as healthy, failed, timed out,
//! blocked or used as it was; the operation is done when all have settled.

mod adopt;
mod auto_restart;
mod beside;
mod check_now;
mod definition;
mod deploy;
mod deploy_gate;
mod deploy_plan;
mod deploy_unit;
mod deps;
mod history;
mod ids;
pub mod interrupted;
mod io;
mod liveness;
mod notify;
mod op;
mod plan;
mod probe_cadence;
pub(crate) mod recovery;
mod removed;
mod service;
mod spawn;
mod spec;
mod start;
mod step;
mod stop;
mod targets;
mod transition;
mod view;

#[cfg(test)]
mod tests;

pub use check_now::CheckNow;
pub use definition::{Definition, OBSERVED, command_print, fingerprint};
pub use history::HistoryState;
pub use io::{
    Action, DeployOptions, ExternalInstance, Found, HealthEvent, Input, Notified, OpId, ProbeKind,
    ProcessEnd, RunId, ServiceId, Severity, StartOptions, StopOptions, UnitId,
};
pub use recovery::OnFailure;
pub use service::{Backoff, Engine, Outcome, Phase, ProbeHealth, ReloadError, Verdict};
pub use spec::{ProbeSpec, RunSpec};
pub use step::SETTLE;
pub use targets::{Selection, SelectionError};
pub use transition::{KillForRestart, KillReason, Move, next_phase};
