//! Taking over the runs a killed daemon recorded: each is watched again
//! if its shim lives, or its end is learnt (and recorded) if not; a
//! service gone from the file that still runs is kept; of two live runs of
//! one service (a start-first deploy's), the one the deploy had committed
//! is kept and the other stopped.

use super::Supervisor;
use crate::process;
use crate::store_writer::StoreWriter;
use harness_core::engine::{Found, HistoryState, Input, ServiceId};
use harness_store::{Project, RunRecord};
use std::collections::HashMap;
use std::time::{Duration, Instant};

impl Supervisor {
    /// Takes over a run the last daemon recorded: watch it again if its
    /// shim lives, else learn how it ended (or that nobody saw it end).
    /// What follows — supervising it, finishing the stop the last daemon
    /// began, recording its end — the engine decides.
    pub(super) fn reattach(&mut self, r: RunRecord, last_states: &HashMap<String, String>) {
        // A service gone from the file that still runs is kept, never left
        // alone unseen: a deploy the last daemon did not finish, one that
        // kept it (`--no-prune`), or a file edited meanwhile.
        if let Some(name) = r.unit.service()
            && self.engine.graph().index(name).is_none()
            && r.alive()
        {
            tracing::warn!(service = %name, pid = r.pid, "a running service is gone from the file; kept until it is stopped");
            self.engine.keep_left_over(name, r.definition.as_ref());
            if let Some(i) = self.engine.graph().index(name) {
                if let Some(o) = self.saved.get(name) {
                    self.engine.restore(i, o.clone(), Instant::now());
                }
                if let Some(state) = last_states.get(name).and_then(|s| HistoryState::parse(s)) {
                    self.engine.restore_recorded(i, state);
                }
            }
        }
        let Some(service) = r.unit.service().and_then(|n| self.engine.graph().index(n)) else {
            // Gone from the file, and not running (a live one was kept).
            tracing::info!(unit = %r.unit, pid = r.pid, "a recorded run of a service gone from the file has ended");
            self.store.run_ended(&self.project, r.unit.clone(), r.run);
            return;
        };
        let name = r.unit.key().to_string();
        let age = Duration::from_millis((super::wall_ms() - r.started_at_ms).max(0) as u64);
        let since = Instant::now().checked_sub(age).unwrap_or_else(Instant::now);
        let wanted = self.saved.get(&name).is_none_or(|o| o.wanted);
        let alive = process::same_process(r.shim_pid, r.shim_start);
        let ended = if alive {
            tracing::info!(service = %name, pid = r.pid, shim = r.shim_pid, "re-attached to running service");
            None
        } else {
            let end = super::runs::end_of_record(&self.project, &r);
            tracing::info!(service = %name, end = %end.describe(), "service ended while no daemon ran");
            self.store.run_ended(&self.project, r.unit.clone(), r.run);
            Some(end)
        };
        let found = Found {
            run: r.run,
            pid: r.pid,
            since,
            wanted,
            ended,
            definition: r.definition.clone(),
            adopted: r.adopted,
        };
        self.feed(Input::Attached {
            service: ServiceId(service),
            found,
        });
        // An adopted process is watched as it is: no notify socket, no
        // listener of harness's.
        if alive && r.adopted && self.engine.run_spec(service, r.run).is_some() {
            let process = crate::adopted_output::AdoptedProcess {
                service: self.engine.graph().name(service).to_string(),
                pid: r.pid,
                start: r.pid_start,
            };
            self.adopted.insert(r.run, process);
            self.watch_shim(ServiceId(service), r.run, None, &r);
            return;
        }
        // The engine says what the run runs (its notify socket), unless it
        // has already let the run go.
        if alive && let Some(spec) = self.engine.run_spec(service, r.run) {
            // By the run's own print: the file may have changed since.
            if r.definition.as_ref().is_some_and(|d| d.has_socket()) || spec.socket.is_some() {
                self.listeners.adopt(&name, r.shim_pid, r.shim_start);
            }
            self.watch_shim(ServiceId(service), r.run, Some(&spec), &r);
        }
    }

    /// A second live run of `unit` not to be kept (see `pick_runs`): the
    /// engine stops it; its end is watched like any run's.
    pub(super) fn stop_aside(&mut self, unit: &harness_core::engine::UnitId, r: RunRecord) {
        let Some(service) = unit.service().and_then(|n| self.engine.graph().index(n)) else {
            return;
        };
        tracing::warn!(service = %unit, pid = r.pid, run = r.run.0, "a second run of the service, left by an interrupted start-first deploy; stopping it");
        let age = Duration::from_millis((super::wall_ms() - r.started_at_ms).max(0) as u64);
        let found = Found {
            run: r.run,
            pid: r.pid,
            since: Instant::now().checked_sub(age).unwrap_or_else(Instant::now),
            wanted: false,
            ended: None,
            definition: r.definition.clone(),
            adopted: r.adopted,
        };
        self.feed(Input::AttachedBeside {
            service: ServiceId(service),
            found,
        });
        self.watch_shim(ServiceId(service), r.run, None, &r);
    }
}

/// The recorded runs, one per unit, each with the other live runs of its
/// unit that are not to be kept. A unit has two live runs only when a
/// start-first deploy was running its new version beside the old one as
/// the last daemon died: the new one is kept if it was committed (it
/// passed its gate, and the old one was being stopped), the old one if
/// not (the deploy is interrupted, and the old version never stopped).
/// A dead run beside a live one, or older than another dead one, is only
/// forgotten: its end is no longer news to anyone.
pub(super) fn pick_runs(
    runs: Vec<RunRecord>,
    uncommitted: &[&str],
    store: &StoreWriter,
    project: &Project,
) -> Vec<(RunRecord, Vec<RunRecord>)> {
    let mut by_unit: Vec<(harness_core::engine::UnitId, Vec<RunRecord>)> = Vec::new();
    for r in runs {
        match by_unit.iter_mut().find(|(u, _)| *u == r.unit) {
            Some((_, rs)) => rs.push(r),
            None => by_unit.push((r.unit.clone(), vec![r])),
        }
    }
    let mut picked = Vec::new();
    for (unit, mut rs) in by_unit {
        rs.sort_by_key(|r| r.run);
        let alive: Vec<bool> = rs.iter().map(RunRecord::alive).collect();
        let keep = harness_core::engine::interrupted::run_to_keep(
            &alive,
            uncommitted.contains(&unit.key()),
        );
        let record = rs.remove(keep);
        let (aside, dead): (Vec<_>, Vec<_>) = rs.into_iter().partition(|r| r.alive());
        for d in dead {
            store.run_ended(project, d.unit, d.run);
        }
        picked.push((record, aside));
    }
    picked
}
