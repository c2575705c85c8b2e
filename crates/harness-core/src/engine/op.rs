//! Operations: one start or stop request and how each member is doing.

use super::io::{OpId, StartOptions, StopOptions};
use harness_api::Phase as Reported;
use std::time::Instant;

#[derive(Debug, Clone)]
pub(crate) enum OpKind {
    Start(StartOptions),
    Stop(StopOptions),
}

/// Where one member of an operation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MemberState {
    /// Not acted on yet (waiting for dependencies, or dependents to stop).
    Waiting,
    /// Acted on (spawned / signalled); waiting for the outcome.
    Acting,
    /// Done, with the phase reported for it.
    Settled(Reported),
}

#[derive(Debug, Clone)]
pub(crate) struct Member {
    pub service: usize,
    pub deadline: Instant,
    pub state: MemberState,
    /// Started although a dependency is not up (`--force`).
    pub forced: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct Op {
    pub id: OpId,
    pub kind: OpKind,
    pub started: Instant,
    pub members: Vec<Member>,
}

impl Op {
    pub fn member(&self, service: usize) -> Option<&Member> {
        self.members.iter().find(|m| m.service == service)
    }

    pub fn options(&self) -> Option<&StartOptions> {
        match &self.kind {
            OpKind::Start(o) => Some(o),
            OpKind::Stop(_) => None,
        }
    }

    /// Why the operation was asked for, as a suffix for history reasons.
    pub fn cause_suffix(&self) -> String {
        let cause = match &self.kind {
            OpKind::Start(o) => o.cause.as_deref(),
            OpKind::Stop(o) => o.cause.as_deref(),
        };
        cause.map(|c| format!(" ({c})")).unwrap_or_default()
    }

    pub fn settled(&self) -> bool {
        self.members
            .iter()
            .all(|m| matches!(m.state, MemberState::Settled(_)))
    }

    pub fn next_deadline(&self) -> Option<Instant> {
        match self.kind {
            OpKind::Stop(_) => None,
            OpKind::Start(_) => self
                .members
                .iter()
                .filter(|m| !matches!(m.state, MemberState::Settled(_)))
                .map(|m| m.deadline)
                .min(),
        }
    }
}
