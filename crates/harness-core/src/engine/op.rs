//! Operations: one start or stop request and how each member is doing.

use super::deploy::Deploy;
use super::io::{OpId, StartOptions, StopOptions};
use crate::report::{Recovery, Stage, Summary};
use std::time::Instant;

#[derive(Debug, Clone)]
pub(crate) enum OpKind {
    Start(StartOptions),
    Stop(StopOptions),
    /// A deploy keeps its own members (see [`Deploy`]); `members` is empty.
    Deploy(Box<Deploy>),
}

/// Where one member of an operation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MemberState {
    /// Not acted on yet (waiting for dependencies, or dependents to stop).
    Waiting,
    /// Acted on (spawned / signalled); waiting for the outcome.
    Acting,
    /// Done, with the phase reported for it.
    Settled(Stage),
}

#[derive(Debug, Clone)]
pub(crate) struct Member {
    pub service: usize,
    pub deadline: Instant,
    pub state: MemberState,
    /// Started although a dependency is not up (`--force`).
    pub forced: bool,
    /// The client was told it waits for its dependencies.
    pub announced: bool,
    /// It had a process (or one on its way; for a stop, also a restart
    /// due) when the operation began: a start did not start it, and no
    /// rollback stops it; a stop that finds it down did not stop it.
    pub found_running: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct Op {
    pub id: OpId,
    pub kind: OpKind,
    pub started: Instant,
    pub members: Vec<Member>,
    /// For the stop of a failed start's recovery: the start's summary and
    /// the recovery's report, completed when the stop is done.
    pub recovering: Option<Box<Recovering>>,
}

/// A failed start whose recovery is stopping services.
#[derive(Debug, Clone)]
pub(crate) struct Recovering {
    pub start: Summary,
    pub report: Recovery,
}

impl Op {
    pub fn member(&self, service: usize) -> Option<&Member> {
        self.members.iter().find(|m| m.service == service)
    }

    pub fn options(&self) -> Option<&StartOptions> {
        match &self.kind {
            OpKind::Start(o) => Some(o),
            OpKind::Stop(_) | OpKind::Deploy(_) => None,
        }
    }

    pub fn deploy(&self) -> Option<&Deploy> {
        match &self.kind {
            OpKind::Deploy(d) => Some(d),
            _ => None,
        }
    }

    /// Why the operation was asked for, if it says.
    pub fn cause(&self) -> Option<&str> {
        match &self.kind {
            OpKind::Start(o) => o.cause.as_deref(),
            OpKind::Stop(o) => o.cause.as_deref(),
            OpKind::Deploy(_) => None,
        }
    }

    /// Why the operation was asked for, as a suffix for history reasons.
    pub fn cause_suffix(&self) -> String {
        cause_suffix(self.cause())
    }

    pub fn settled(&self) -> bool {
        if let OpKind::Deploy(d) = &self.kind {
            return d.settled();
        }
        self.members
            .iter()
            .all(|m| matches!(m.state, MemberState::Settled(_)))
    }

    pub fn next_deadline(&self) -> Option<Instant> {
        match &self.kind {
            OpKind::Stop(_) => None,
            OpKind::Deploy(d) => d.next_deadline(),
            OpKind::Start(_) => self
                .members
                .iter()
                .filter(|m| !matches!(m.state, MemberState::Settled(_)))
                .map(|m| m.deadline)
                .min(),
        }
    }
}

/// " (retry chosen at prompt)", or nothing without a cause.
pub(crate) fn cause_suffix(cause: Option<&str>) -> String {
    cause.map(|c| format!(" ({c})")).unwrap_or_default()
}
