//! A run's spawn: confirmed, failed, or a run a new daemon found running.

use super::auto_restart::RunEnd;
use super::definition::Definition;
use super::history::HistoryState;
use super::io::{Action, Found, ProbeKind, ProcessEnd, RunId, ServiceId};
use super::op::{MemberState, OpKind, cause_suffix};
use super::service::{Engine, Phase, ProbeHealth};
use super::spec::RunSpec;
use super::step::progress;
use super::transition::Move;
use crate::report::Stage;
use std::time::Instant;

impl Engine {
    /// Spawn run `run` of service `i` as its definition says.
    pub(super) fn push_spawn(&mut self, i: usize, run: RunId, out: &mut Vec<Action>) {
        let spec = RunSpec::of(&self.config.services[i]);
        self.svcs[i].judged_by = None;
        self.push_spawn_spec(i, run, spec, out);
    }

    /// Spawn run `run` of service `i` as `spec` says: its definition, or
    /// (a restart, a deploy's revert) the version it ran.
    pub(super) fn push_spawn_spec(
        &mut self,
        i: usize,
        run: RunId,
        spec: RunSpec,
        out: &mut Vec<Action>,
    ) {
        self.svcs[i].running = Some(Definition::of(&spec));
        self.svcs[i].spec = Some(spec.clone());
        self.svcs[i].adopted = None;
        self.svcs[i].started_as = Some(Box::new(self.def(i).clone()));
        out.push(Action::Spawn {
            service: ServiceId(i),
            run,
            spec: Box::new(spec),
        });
    }

    /// Run `run` of service `i` is up as process `pid`, since `since`.
    pub(super) fn spawned(
        &mut self,
        i: usize,
        run: RunId,
        pid: u32,
        since: Instant,
        out: &mut Vec<Action>,
    ) {
        let Phase::Spawning { stop_requested, .. } = self.svcs[i].phase else {
            return;
        };
        let startup = self.def(i).startup.is_some();
        let up = Move::Spawned {
            run,
            pid,
            since,
            startup,
        };
        if !self.apply(i, up) {
            return; // a stale fact about another run
        }
        self.svcs[i].status_text = None;
        for op in self.ops.iter().filter(|o| o.options().is_some()) {
            if op.member(i).is_some_and(|m| m.state == MemberState::Acting) {
                out.push(progress(
                    op.id,
                    self.graph.name(i),
                    Stage::Starting,
                    op.started,
                    since,
                    Some(pid),
                    "",
                ));
            }
        }
        if startup {
            self.push_probe(i, run, ProbeKind::Startup, since, out);
        } else {
            self.schedule_probes(i, since, out);
        }
        if stop_requested {
            // The stop that arrived while it was spawning, and why.
            let cause = self
                .ops
                .iter()
                .find(|o| matches!(o.kind, OpKind::Stop(_)) && o.member(i).is_some())
                .and_then(|o| o.cause().map(str::to_string));
            let why = format!("stop requested{}", cause_suffix(cause.as_deref()));
            self.send_stop(i, why, cause, None, out);
        }
    }

    /// The spawn of run `run` of service `i` failed, because of `reason`.
    pub(super) fn spawn_failed(
        &mut self,
        i: usize,
        run: RunId,
        reason: String,
        now: Instant,
        out: &mut Vec<Action>,
    ) {
        let restart = matches!(self.svcs[i].phase, Phase::Spawning { restart: true, .. });
        if !self.apply(i, Move::SpawnFailed { run }) {
            return;
        }
        if restart {
            // Counts as a failed run: the policy decides, and the restart
            // limit still ends a loop of these.
            let (end, health) = (ProcessEnd::NotSpawned, ProbeHealth::Starting);
            let e = RunEnd {
                end,
                why: reason,
                forced_failure: false,
                since: now,
                health,
            };
            self.ended_on_its_own(i, e, now, out);
        } else if !self.deploy_run_ended(i, ProcessEnd::NotSpawned, &reason, out) {
            self.fail_start(i, reason, now, out);
        }
    }

    /// Takes over a run the last daemon recorded. One that ended while no
    /// daemon ran ends here too; one the last daemon was stopping is
    /// stopped (its stop was asked for, and a new daemon finishes it).
    pub(super) fn attached(&mut self, i: usize, found: Found, now: Instant, out: &mut Vec<Action>) {
        let Found {
            run,
            pid,
            since,
            wanted,
            ended,
            definition,
            adopted,
        } = found;
        self.svcs[i].wanted = wanted;
        self.svcs[i].adopted = adopted.then_some(run);
        self.svcs[i].running = definition;
        self.svcs[i].spec = None;
        self.svcs[i].judged_by = None;
        self.svcs[i].started_as = None;
        let known = matches!(
            self.svcs[i].recorded,
            HistoryState::Starting
                | HistoryState::Running
                | HistoryState::Unhealthy
                | HistoryState::Stopping
        );
        if !known {
            // The history does not know this run (it began under a daemon
            // that died before writing the row).
            let why = "found running by a new daemon".to_string();
            self.record(i, HistoryState::Starting, why, None, out);
        }
        if !self.apply(
            i,
            Move::Spawn {
                run,
                restart: false,
            },
        ) {
            return;
        }
        let mut spawned = Vec::new();
        self.spawned(i, run, pid, since, &mut spawned);
        let pushed = self.def(i).ready.is_some();
        if let Phase::Up {
            started, health, ..
        } = &mut self.svcs[i].phase
        {
            *started = true; // it ran before this daemon
            if pushed {
                // It said so to the daemon before this one.
                *health = ProbeHealth::Healthy;
            }
        }
        // Probes start now, on this daemon's clock, not at `since`.
        spawned.retain(|a| !matches!(a, Action::Probe { service, .. } if service.0 == i));
        out.extend(spawned);
        if let Some(end) = ended {
            self.exited(i, run, end, now, out);
        } else if wanted {
            self.schedule_probes(i, now, out);
        } else {
            let cause = "finishing a stop the previous daemon began".to_string();
            let why = format!("stop requested ({cause})");
            self.send_stop(i, why, Some(cause), None, out);
        }
    }
}
