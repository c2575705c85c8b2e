//! A start-first deploy's old run, kept beside the service's new one. It
//! runs on, untouched, while the new run goes through the health gate;
//! then it is stopped (the new one passed), or it is the service's run
//! again (the new one failed and was stopped first). It lives outside the
//! phase machine on purpose: the service's phase is the new run's, and the
//! only fact about the old run that matters is its end.

use super::definition::Definition;
use super::history::HistoryState;
use super::io::{Action, Found, RunId, ServiceId};
use super::service::{Engine, Phase, ProbeHealth};
use super::spec::RunSpec;
use super::stop::stop_signal_of;
use super::transition::Move;
use crate::config::UpdateOrder;
use std::time::Instant;

/// The run set aside, with what stopping it or taking it back needs.
#[derive(Debug, Clone)]
pub(crate) struct Beside {
    pub run: RunId,
    pub pid: u32,
    pub since: Instant,
    /// What it was spawned with (`None` for a run a new daemon found).
    pub spec: Option<RunSpec>,
    pub running: Option<Definition>,
    /// The definition it is judged by, if not the config's.
    pub judged_by: Option<Box<crate::config::Service>>,
    /// Its health when it was set aside, which it has again if taken back.
    pub health: ProbeHealth,
    /// Its stop was sent.
    pub stopping: bool,
}

impl Engine {
    /// Whether a deploy of service `i` starts its new version beside the
    /// running one: `update.order: start-first`, and a run that is up (a
    /// service stopped, stopping or backing off has nothing to keep).
    pub(super) fn starts_first(&self, i: usize) -> bool {
        self.config.services[i].update.order == UpdateOrder::StartFirst
            && matches!(self.svcs[i].phase, Phase::Up { .. })
            // One run aside at a time (one a new daemon is stopping).
            && self.svcs[i].beside.is_none()
    }

    /// Sets service `i`'s run aside; its phase is free for the new run.
    /// `stable` and `judged_by`: the spec it runs and the definition it
    /// ran under (the config in force is the new file's by now), to run
    /// and judge it as it was if it is taken back.
    pub(super) fn set_aside(
        &mut self,
        i: usize,
        stable: Option<RunSpec>,
        judged_by: Option<Box<crate::config::Service>>,
    ) {
        let Phase::Up {
            run,
            pid,
            since,
            health,
            ..
        } = self.svcs[i].phase
        else {
            return;
        };
        if !self.apply(i, Move::SetAside { run }) {
            return;
        }
        let svc = &mut self.svcs[i];
        svc.beside = Some(Beside {
            run,
            pid,
            since,
            // (A run a new daemon found has no spec of its own: the one
            // the deploy knows it runs.)
            spec: svc.spec.clone().or(stable),
            running: svc.running.clone(),
            judged_by: judged_by.or(svc.judged_by.take()),
            health,
            stopping: false,
        });
    }

    /// Stops service `i`'s run set aside, as any run of it is stopped: its
    /// own signal, the config's grace (`run_stop_signal`).
    pub(super) fn stop_beside(&mut self, i: usize, out: &mut Vec<Action>) {
        let defined = &self.config.services[i];
        let (file_signal, grace) = (defined.stop_signal, defined.stop_timeout);
        let Some(b) = self.svcs[i].beside.as_mut().filter(|b| !b.stopping) else {
            return;
        };
        b.stopping = true;
        let signal = stop_signal_of(b.spec.as_ref(), b.running.as_ref(), file_signal);
        out.push(Action::Stop {
            service: ServiceId(i),
            run: b.run,
            pid: b.pid,
            signal,
            grace,
        });
    }

    /// Makes the run set aside service `i`'s run again, probed as before;
    /// false if there is none to take back (it ended, or is stopping).
    pub(super) fn restore_beside(&mut self, i: usize, now: Instant, out: &mut Vec<Action>) -> bool {
        let Some(b) = self.svcs[i].beside.clone().filter(|b| !b.stopping) else {
            return false;
        };
        let back = Move::Restore {
            run: b.run,
            pid: b.pid,
            since: b.since,
            health: b.health,
        };
        if !self.apply(i, back) {
            return false;
        }
        let svc = &mut self.svcs[i];
        svc.beside = None;
        svc.spec = b.spec;
        svc.running = b.running;
        svc.judged_by = b.judged_by;
        svc.wanted = true;
        self.schedule_probes(i, now, out);
        true
    }

    /// Run `run` ended: true if it was a run set aside (now forgotten).
    pub(super) fn beside_ended(&mut self, run: RunId) -> bool {
        let svc = self
            .svcs
            .iter_mut()
            .find(|s| s.beside.as_ref().is_some_and(|b| b.run == run));
        match svc {
            Some(s) => {
                s.beside = None;
                true
            }
            None => false,
        }
    }

    /// A new daemon found a second live run of service `i`: the version a
    /// start-first deploy was replacing (or had just replaced) when the
    /// last daemon died, which the runtime decided not to keep. It is
    /// stopped; the service's own run is untouched.
    pub(super) fn attached_beside(&mut self, i: usize, found: Found, out: &mut Vec<Action>) {
        if found.ended.is_some() || self.svcs[i].beside.is_some() {
            return;
        }
        // The history's last row may be the new version's start, while
        // what runs on is the old one: say which is kept.
        let svc = &self.svcs[i];
        if matches!(svc.phase, Phase::Up { .. }) && svc.recorded != HistoryState::Running {
            let why = if svc.phase.run().is_some_and(|r| r < found.run) {
                format!(
                    "kept: its deploy was interrupted before the new version (PID {}) was committed, which is stopped",
                    found.pid
                )
            } else {
                format!(
                    "kept: the previous version (PID {}), left by an interrupted deploy, is stopped",
                    found.pid
                )
            };
            self.record(i, HistoryState::Running, why, None, out);
        }
        self.svcs[i].beside = Some(Beside {
            run: found.run,
            pid: found.pid,
            since: found.since,
            spec: None,
            running: found.definition,
            judged_by: None,
            health: ProbeHealth::Healthy,
            stopping: false,
        });
        self.stop_beside(i, out);
    }
}
