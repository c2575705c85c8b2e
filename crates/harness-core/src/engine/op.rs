//! Operations: one start or stop request and how each member is doing.

use super::io::{OpId, StartOptions};
use harness_api::Phase as Reported;
use std::time::Instant;

#[derive(Debug, Clone)]
pub(crate) enum OpKind {
    Start(StartOptions),
    Stop,
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
            OpKind::Stop => None,
        }
    }

    pub fn settled(&self) -> bool {
        self.members
            .iter()
            .all(|m| matches!(m.state, MemberState::Settled(_)))
    }

    pub fn next_deadline(&self) -> Option<Instant> {
        match self.kind {
            OpKind::Stop => None,
            OpKind::Start(_) => self
                .members
                .iter()
                .filter(|m| !matches!(m.state, MemberState::Settled(_)))
                .map(|m| m.deadline)
                .min(),
        }
    }
}
