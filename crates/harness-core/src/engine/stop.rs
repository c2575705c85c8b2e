//! Stopping: dependents before their dependencies, signal then SIGKILL.

use super::history::HistoryState;
use super::io::{Action, OpId, ServiceId, StopOptions};
use super::op::cause_suffix;
use super::op::{Member, MemberState, Op, OpKind, Recovering};
use super::service::{Engine, Phase, Verdict};
use super::step::progress;
use super::transition::{KillForRestart, Move};
use crate::report::Stage;
use std::time::Instant;

impl Engine {
    pub(super) fn begin_stop(
        &mut self,
        id: OpId,
        targets: &[usize],
        options: StopOptions,
        recovering: Option<Box<Recovering>>,
        now: Instant,
        out: &mut Vec<Action>,
    ) {
        let members = if options.exact {
            let mut t = targets.to_vec();
            t.sort_unstable();
            t.dedup();
            t
        } else {
            self.graph.with_dependents(targets)
        };
        self.block_waiting_starts(&members, now, out);
        let members = members
            .into_iter()
            .map(|i| {
                self.svcs[i].wanted = false;
                // A restart due counts: the stop is what ends it.
                let found_running = !matches!(self.svcs[i].phase, Phase::Stopped);
                if matches!(self.svcs[i].phase, Phase::Backoff { .. }) {
                    let why = format!("stop requested{}", cause_suffix(options.cause.as_deref()));
                    self.send_stop(i, why, options.cause.clone(), None, out);
                }
                Member {
                    service: i,
                    deadline: now,
                    state: MemberState::Waiting,
                    forced: false,
                    announced: false,
                    found_running,
                }
            })
            .collect();
        self.ops.push(Op {
            id,
            kind: OpKind::Stop(options),
            started: now,
            members,
            recovering,
        });
    }

    /// Members of open starts that wait to be started and are about to be
    /// stopped are blocked instead: a stop wins over a start not begun.
    fn block_waiting_starts(&mut self, stopping: &[usize], now: Instant, out: &mut Vec<Action>) {
        let members = stopping;
        for op in self
            .ops
            .iter_mut()
            .filter(|o| matches!(o.kind, OpKind::Start(_)))
        {
            for m in op
                .members
                .iter_mut()
                .filter(|m| m.state == MemberState::Waiting)
            {
                if members.contains(&m.service) {
                    m.state = MemberState::Settled(Stage::Blocked);
                    out.push(progress(
                        op.id,
                        self.graph.name(m.service),
                        Stage::Blocked,
                        op.started,
                        now,
                        None,
                        "stop requested",
                    ));
                }
            }
        }
    }

    /// Settles what is down, then stops what may stop now: in that order,
    /// so a client reads each dependent's end before its dependency's stop.
    pub(super) fn advance_stop(&mut self, k: usize, now: Instant, out: &mut Vec<Action>) -> bool {
        let settled = self.settle_stopped(k, now, out);
        let stopping = self.stop_next(k, now, out);
        settled || stopping
    }

    /// Members of stop `k` that are down now are done.
    fn settle_stopped(&mut self, k: usize, now: Instant, out: &mut Vec<Action>) -> bool {
        let mut changed = false;
        let (id, started) = (self.ops[k].id, self.ops[k].started);
        for idx in 0..self.ops[k].members.len() {
            let m = self.ops[k].members[idx].clone();
            if matches!(m.state, MemberState::Settled(_))
                || self.svcs[m.service].phase != Phase::Stopped
            {
                continue;
            }
            self.ops[k].members[idx].state = MemberState::Settled(Stage::Stopped);
            // Down because someone asked: what its last start or run did
            // is history now (`history` keeps it; the last exit code stays
            // in status), not a failure to show.
            self.svcs[m.service].verdict = Verdict::None;
            let detail = if m.found_running { "" } else { "not running" };
            let name = self.graph.name(m.service);
            out.push(progress(
                id,
                name,
                Stage::Stopped,
                started,
                now,
                None,
                detail,
            ));
            changed = true;
        }
        changed
    }

    /// Members of stop `k` whose dependents in it are down are stopped.
    fn stop_next(&mut self, k: usize, now: Instant, out: &mut Vec<Action>) -> bool {
        let mut changed = false;
        let (id, started) = (self.ops[k].id, self.ops[k].started);
        for idx in 0..self.ops[k].members.len() {
            let m = self.ops[k].members[idx].clone();
            if m.state != MemberState::Waiting {
                continue;
            }
            // Dependents in this stop go first; with `exact`, a dependent
            // outside it is left running on purpose.
            let op = &self.ops[k];
            let dependents_down = self
                .graph
                .dependents(m.service)
                .iter()
                .all(|&j| op.member(j).is_none() || self.svcs[j].phase == Phase::Stopped);
            if !dependents_down {
                continue;
            }
            self.ops[k].members[idx].state = MemberState::Acting;
            let name = self.graph.name(m.service);
            out.push(progress(id, name, Stage::Stopping, started, now, None, ""));
            let why = format!("stop requested{}", self.ops[k].cause_suffix());
            let cause = self.ops[k].cause().map(str::to_string);
            self.send_stop(m.service, why, cause, None, out);
            changed = true;
        }
        changed
    }

    /// The signal that stops service `i`'s run: the run's own (a deploy may
    /// be replacing it with a version that has another; a re-attached run
    /// says it in its print), else the config's. The grace is always the
    /// config's as it is now (an in-place key).
    pub(super) fn run_stop_signal(&self, i: usize) -> crate::config::StopSignal {
        let svc = &self.svcs[i];
        stop_signal_of(
            svc.spec.as_ref(),
            svc.running.as_ref(),
            self.config.services[i].stop_signal,
        )
    }

    /// Stops service `i`'s run (or ends its backoff) because of `why`;
    /// `cause` names the request behind it, if any; `restart` when harness
    /// stops it to restart it. A service already stopping or stopped is
    /// left as it is.
    pub(super) fn send_stop(
        &mut self,
        i: usize,
        why: String,
        cause: Option<String>,
        restart: Option<KillForRestart>,
        out: &mut Vec<Action>,
    ) {
        let signal = self.run_stop_signal(i);
        let grace = self.config.services[i].stop_timeout;
        let before = self.svcs[i].phase;
        if !self.apply(i, Move::Stop { restart }) {
            return;
        }
        match before {
            Phase::Up { run, pid, .. } => {
                // A stop the history already shows (one a previous daemon
                // began) is not shown again.
                if self.svcs[i].recorded != HistoryState::Stopping {
                    self.record(i, HistoryState::Stopping, why, cause, out);
                }
                out.push(Action::Stop {
                    service: ServiceId(i),
                    run,
                    pid,
                    signal,
                    grace,
                });
            }
            Phase::Backoff { .. } => {
                // No process: the stop ends the wait at once.
                self.svcs[i].verdict = Verdict::None;
                self.record(i, HistoryState::Stopped, why, cause, out);
            }
            // Stopped as soon as it is up (see `spawned`).
            Phase::Spawning { .. } | Phase::Stopping { .. } | Phase::Stopped => {}
        }
    }
}

/// The signal that stops a run spawned as `spec` (or, re-attached, whose
/// print is `running`), else `file`'s: the one rule for a service's run
/// and for one a start-first deploy set aside.
pub(super) fn stop_signal_of(
    spec: Option<&super::spec::RunSpec>,
    running: Option<&super::definition::Definition>,
    file: crate::config::StopSignal,
) -> crate::config::StopSignal {
    spec.map(|s| s.stop_signal)
        .or_else(|| running.and_then(|d| d.stop_signal()))
        .unwrap_or(file)
}
