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
use harness_core::engine::{
    Engine, Found, HistoryState, Input, OpId, Outcome, RunId, ServiceId, StopOptions,
};
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
        // Operation ids name deploys too: past every recorded one.
        let next_op = OpId(store.last_deploy_id()?.max(0) as u64 + 1);
        let mut sup = Supervisor {
            engine,
            config: ConfigFile::new(project.clone(), config),
            store: StoreWriter::spawn(store),
            project,
            rx,
            tx,
            clients: HashMap::new(),
            stops: HashMap::new(),
            next_op,
            saved,
            latencies: metrics::Latencies::new(),
            shims: process::ShimPool::default(),
            deploys: Default::default(),
            deploy_counts: Default::default(),
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
                sup.reattach(record, &last_states);
            }
        }
        for (id, services) in unfinished {
            sup.finish_interrupted(id, services);
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

    /// A deploy the last daemon did not finish: it is `interrupted`; its
    /// services that it had not settled say so, and the removals it had
    /// decided are carried out now (those services still run: see
    /// `keep_left_over`).
    fn finish_interrupted(&mut self, id: i64, services: Vec<harness_store::DeployServiceRow>) {
        tracing::warn!(
            deploy = id,
            "a deploy was interrupted by the last daemon's end"
        );
        let mut removals = Vec::new();
        for s in services.iter().filter(|s| s.outcome.is_none()) {
            let running =
                self.engine.graph().index(&s.service).filter(|&i| {
                    !matches!(self.engine.phase(i), harness_core::engine::Phase::Stopped)
                });
            // Only a service the file still does not have: one it has
            // again is the file's now.
            let gone = self.engine.is_gone_from_file(&s.service);
            let detail = match running {
                Some(i) if s.action == "remove" && gone => {
                    removals.push(ServiceId(i));
                    "interrupted; stopped by the next daemon"
                }
                _ => "interrupted",
            };
            self.store.send(Write::DeploySettled {
                id,
                service: s.service.clone(),
                outcome: "interrupted".into(),
                detail: detail.into(),
            });
        }
        self.store.send(Write::DeployEnded {
            id,
            ended_ms: super::wall_ms(),
            status: "interrupted".into(),
        });
        if !removals.is_empty() {
            let op = self.next_op;
            self.next_op.0 += 1;
            self.feed(Input::Stop {
                op,
                targets: removals,
                options: StopOptions {
                    exact: true,
                    cause: Some(format!("finishing deploy {id}'s removal")),
                },
            });
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
            self.store.send(Write::RunEnded {
                unit: r.unit.clone(),
                run: r.run,
            });
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
