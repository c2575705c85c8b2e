//! Starting the supervisor: open the store, give the engine back what the
//! last daemon knew (outcomes, the history's last states), and re-attach
//! to the runs it recorded — trusting a pid only when its process start
//! time matches the recorded one.

use super::config_file::ConfigFile;
use super::{Handle, Supervisor};
use crate::metrics;
use crate::process;
use crate::store_writer::StoreWriter;
use harness_core::config::Config;
use harness_core::engine::{Engine, Found, HistoryState, Input, OpId, Outcome, RunId, ServiceId};
use harness_store::{Project, RunRecord, Store, Write, runs_here};
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch};

impl Supervisor {
    /// Opens the store, re-attaches to the runs it records, and returns the
    /// handle and the supervisor ready to [`Supervisor::run`].
    pub fn boot(project: Project, config: Config) -> anyhow::Result<(Handle, Supervisor)> {
        let store = Store::open(&project.database())?;
        let runs = store.runs()?;
        // The state may be another file's of this folder: then none of it
        // is this file's (see `another_files_state`).
        let fresh = another_files_state(&store, &project, &runs)?;
        if let Some(previous) = &fresh {
            keep_logs_apart(&project, previous);
        }
        let fresh = fresh.is_some();
        let saved: HashMap<String, Outcome> = if fresh {
            HashMap::new()
        } else {
            store.outcomes()?.into_iter().collect()
        };
        let first_run = store.reserve_runs(1)?;
        let (tx, rx) = mpsc::unbounded_channel();
        let (shutdown, _) = watch::channel(false);
        let handle = Handle {
            tx: tx.clone(),
            shutdown,
            project: project.clone(),
            listen: config.settings.listen.clone(),
        };
        let mut engine = Engine::new(config.clone(), RunId(first_run));
        for (name, outcome) in &saved {
            if let Some(i) = engine.graph().index(name) {
                engine.restore(i, outcome.clone(), Instant::now());
            }
        }
        let last_states: HashMap<String, String> = if fresh {
            HashMap::new()
        } else {
            store.last_states()?.into_iter().collect()
        };
        for (name, state) in last_states.clone() {
            if let (Some(i), Some(state)) =
                (engine.graph().index(&name), HistoryState::parse(&state))
            {
                engine.restore_recorded(i, state);
            }
        }
        let unfinished: Vec<(i64, Vec<harness_store::DeployServiceRow>)> = if fresh {
            Vec::new()
        } else {
            store
                .deploys(u32::MAX)?
                .into_iter()
                .filter(|d| d.status == "running")
                .filter_map(|d| store.deploy(d.id).ok().flatten())
                .map(|(d, services)| (d.id, services))
                .collect()
        };
        // Deploys are numbered on from the last recorded one (their number
        // is their operation's id); starts and stops take ids from far
        // above, so the numbers users see have no gaps.
        let next_deploy = store.last_deploy_id()?.max(0) as u64 + 1;
        let mut sup = Supervisor {
            engine,
            config: ConfigFile::new(project.clone(), config),
            store: StoreWriter::spawn(store),
            project,
            rx,
            tx,
            clients: HashMap::new(),
            stops: HashMap::new(),
            next_op: OpId(FIRST_OP),
            next_deploy,
            saved,
            latencies: metrics::Latencies::new(),
            shims: process::ShimPool::default(),
            deploys: Default::default(),
            deploy_counts: Default::default(),
            listeners: Default::default(),
        };
        if fresh {
            // Ended runs of the other file (none of them lives: see
            // `another_files_state`) and its outcomes are not this file's.
            for r in runs {
                sup.store.run_ended(&sup.project, r.unit, r.run);
            }
            sup.store.send(Write::ForgetOutcomes);
        } else {
            // A service whose deploy had not committed its new version.
            let uncommitted: Vec<&str> = unfinished
                .iter()
                .flat_map(|(_, services)| services)
                .filter(|s| s.outcome.is_none())
                .map(|s| s.service.as_str())
                .collect();
            for (record, aside) in pick_runs(runs, &uncommitted, &sup.store, &sup.project) {
                let unit = record.unit.clone();
                sup.reattach(record, &last_states);
                for other in aside {
                    sup.stop_aside(&unit, other);
                }
            }
        }
        let mut recovery = Recovery {
            id: sup.next_deploy,
            ..Recovery::default()
        };
        for (id, services) in unfinished {
            sup.finish_interrupted(id, services, &mut recovery);
        }
        sup.recover(recovery);
        let name = sup
            .project
            .config
            .file_name()
            .map(PathBuf::from)
            .unwrap_or_default();
        sup.store.send(Write::Served(name));
        Ok((handle, sup))
    }

    /// A deploy the last daemon did not finish: it is `interrupted`, and
    /// so are its services it had not settled. What it had decided and not
    /// done is returned for [`Supervisor::recover`]: its removals (of
    /// services the file still does not have) and, for a change whose new
    /// version had not passed its gate, the version to go back to.
    fn finish_interrupted(
        &mut self,
        id: i64,
        services: Vec<harness_store::DeployServiceRow>,
        recovery: &mut Recovery,
    ) {
        tracing::warn!(
            deploy = id,
            "a deploy was interrupted by the last daemon's end"
        );
        let versions = self.project.versions_dir();
        use harness_core::engine::interrupted::{Finish, Unsettled, finish};
        for s in services.iter().filter(|s| s.outcome.is_none()) {
            let i = self.engine.graph().index(&s.service);
            let running_version = i.and_then(|i| self.engine.running_version(i));
            let stable = s
                .from_version
                .as_ref()
                .and_then(|f| harness_store::versions::load(&versions, &s.service, f));
            let Some(action) = harness_core::report::DeployAction::parse(&s.action) else {
                continue;
            };
            let what = finish(Unsettled {
                action,
                running: i.is_some_and(|i| {
                    !matches!(self.engine.phase(i), harness_core::engine::Phase::Stopped)
                }),
                gone_from_file: self.engine.is_gone_from_file(&s.service),
                from: s.from_version.as_deref(),
                running_version: running_version.as_deref(),
                from_kept: stable.is_some(),
            });
            match (what, stable, &s.from_version) {
                (Finish::Remove, _, _) => recovery.removals.push(s.service.clone()),
                (Finish::Discard, _, _) => recovery.discards.push(s.service.clone()),
                (Finish::Revert, Some(spec), Some(f)) => {
                    recovery.reverts.push((s.service.clone(), f.clone(), spec))
                }
                _ => {}
            }
            let detail = what.detail(recovery.id, s.from_version.as_deref());
            self.store.send(Write::DeploySettled {
                id,
                service: s.service.clone(),
                outcome: harness_store::DeployOutcome::Interrupted.as_str().into(),
                detail,
            });
        }
        self.store.send(Write::DeployEnded {
            id,
            ended_ms: super::wall_ms(),
            status: "interrupted".into(),
        });
    }

    /// Carries out what interrupted deploys left undone, as one deploy of
    /// its own: their removals first (and each added service they never
    /// committed), then each unfinished change back to the version it ran
    /// (with the gate, and the new version again if that fails).
    fn recover(&mut self, recovery: Recovery) {
        if recovery.removals.is_empty()
            && recovery.reverts.is_empty()
            && recovery.discards.is_empty()
        {
            return;
        }
        let file = match self.config.for_deploy() {
            Ok(f) => f.clone(),
            Err(e) => {
                tracing::error!(error = %e.error, "cannot finish the interrupted deploy: the file does not load");
                return;
            }
        };
        use harness_core::report::{DeployAction, DeployEntry};
        let engine = &self.engine;
        let entry = |name: &str, action, reason: String, to: Option<String>| DeployEntry {
            service: name.to_string(),
            action,
            reasons: vec![reason],
            from: engine
                .graph()
                .index(name)
                .and_then(|i| engine.running_version(i)),
            to,
        };
        let removal = "removed from the file (an interrupted deploy's removal)";
        let discard = "added by an interrupted deploy that never committed it";
        let mut services: Vec<DeployEntry> = recovery
            .removals
            .iter()
            .map(|name| entry(name, DeployAction::Remove, removal.into(), None))
            .chain(
                recovery
                    .discards
                    .iter()
                    .map(|name| entry(name, DeployAction::Remove, discard.into(), None)),
            )
            .collect();
        let mut versions = Vec::new();
        for (name, to, spec) in recovery.reverts {
            let why = format!("going back to {to}: its deploy was interrupted");
            services.push(entry(&name, DeployAction::Change, why, Some(to)));
            versions.push((name, spec));
        }
        let plan = harness_core::report::DeployPlan { services };
        let options = harness_core::engine::DeployOptions {
            no_prune: false,
            versions,
        };
        if let Err(e) = self.begin_recovery(file, plan, options) {
            tracing::error!(error = %e.error, "cannot finish the interrupted deploy");
        }
    }

    /// Takes over a run the last daemon recorded: watch it again if its
    /// shim lives, else learn how it ended (or that nobody saw it end).
    /// What follows — supervising it, finishing the stop the last daemon
    /// began, recording its end — the engine decides.
    fn reattach(&mut self, r: RunRecord, last_states: &HashMap<String, String>) {
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
            let end = super::runs::end_of(&self.project, &r.unit, r.run, r.pid, r.pid_start);
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
        };
        self.feed(Input::Attached {
            service: ServiceId(service),
            found,
        });
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
    fn stop_aside(&mut self, unit: &harness_core::engine::UnitId, r: RunRecord) {
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
fn pick_runs(
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

/// Whether the state folder's state is another config file's (a folder may
/// hold several), or an earlier harness's that did not say whose. If a run
/// of it still lives, this daemon refuses to start: it would take that
/// file's processes for its own. Otherwise the state is left behind (its
/// history stays).
fn another_files_state(
    store: &Store,
    project: &Project,
    runs: &[RunRecord],
) -> anyhow::Result<Option<String>> {
    let owner = store.owner(project)?;
    let Some((from, stop)) = owner.from_and_stop() else {
        return Ok(None);
    };
    let live: Vec<&str> = runs
        .iter()
        .filter(|r| r.alive())
        .map(|r| r.unit.key())
        .collect();
    if !live.is_empty() {
        anyhow::bail!(
            "{}; a daemon for {} would take them for its own: stop them first (`{stop}`)",
            runs_here(&from, &live),
            project.config.display(),
        );
    }
    tracing::info!(state = %from, "the state folder's state is not this file's; starting afresh");
    Ok(Some(owner.label()))
}

/// Moves the logs of the file the state was for to `logs-NAME/`, so that
/// this file's services (which may share names with that file's) start
/// logs of their own rather than showing that file's output as theirs.
fn keep_logs_apart(project: &Project, previous: &str) {
    let logs = project.logs_dir();
    let aside = project.state_dir().join(format!("logs-{previous}"));
    let _ = std::fs::remove_dir_all(&aside);
    match std::fs::rename(&logs, &aside) {
        Ok(()) => tracing::info!(to = %aside.display(), "the other file's logs kept apart"),
        Err(e) => tracing::warn!(error = %e, "cannot move the other file's logs apart"),
    }
    let _ = std::fs::create_dir_all(&logs);
}

/// What interrupted deploys left undone, for the deploy (numbered `id`)
/// that finishes it.
#[derive(Default)]
struct Recovery {
    id: u64,
    removals: Vec<String>,
    /// Added services never committed: stopped, though the file has them.
    discards: Vec<String>,
    reverts: Vec<(String, String, harness_core::engine::RunSpec)>,
}

/// The first id of a start's or stop's operation: above any deploy number.
const FIRST_OP: u64 = 1 << 40;
