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
        for (name, state) in store.last_states()?.into_iter().filter(|_| !fresh) {
            if let (Some(i), Some(state)) =
                (engine.graph().index(&name), HistoryState::parse(&state))
            {
                engine.restore_recorded(i, state);
            }
        }
        let mut sup = Supervisor {
            engine,
            config: ConfigFile::new(project.clone(), config),
            store: StoreWriter::spawn(store),
            project,
            rx,
            tx,
            clients: HashMap::new(),
            stops: HashMap::new(),
            next_op: OpId(1),
            saved,
            latencies: metrics::Latencies::new(),
            shims: process::ShimPool::default(),
            deploys: Default::default(),
        };
        if fresh {
            // Ended runs of the other file (none of them lives: see
            // `another_files_state`) and its outcomes are not this file's.
            for r in runs {
                sup.store.send(Write::RunEnded {
                    unit: r.unit,
                    run: r.run,
                });
            }
            sup.store.send(Write::ForgetOutcomes);
        } else {
            for record in runs {
                sup.reattach(record);
            }
        }
        let name = sup
            .project
            .config
            .file_name()
            .map(PathBuf::from)
            .unwrap_or_default();
        sup.store.send(Write::Served(name));
        Ok((handle, sup))
    }

    /// Takes over a run the last daemon recorded: watch it again if its
    /// shim lives, else learn how it ended (or that nobody saw it end).
    /// What follows — supervising it, finishing the stop the last daemon
    /// began, recording its end — the engine decides.
    fn reattach(&mut self, r: RunRecord) {
        let Some(service) = r.unit.service().and_then(|n| self.engine.graph().index(n)) else {
            tracing::warn!(unit = %r.unit, pid = r.pid, "a recorded run belongs to a service no longer in the config; leaving it alone");
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
            self.store.send(Write::RunEnded {
                unit: r.unit.clone(),
                run: r.run,
            });
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
            self.watch_shim(ServiceId(service), r.run, &spec, &r);
        }
    }
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
