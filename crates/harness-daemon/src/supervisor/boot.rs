//! Starting the supervisor: open the store, give the engine back what the
//! last daemon knew (outcomes, the history's last states), re-attach to
//! the runs it recorded (`reattach.rs`: trusting a pid only when its
//! process start time matches the recorded one), and finish the deploys
//! it left running (`interrupted.rs`).

use super::config_file::ConfigFile;
use super::interrupted::Recovery;
use super::{Handle, Supervisor};
use crate::metrics;
use crate::process;
use crate::store_writer::StoreWriter;
use harness_core::config::Config;
use harness_core::engine::{Engine, HistoryState, OpId, Outcome, RunId};
use harness_store::{Project, RunRecord, Store, Write, runs_here};
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Instant;
use tokio::sync::{mpsc, watch};

impl Supervisor {
    /// Opens the store, re-attaches to the runs it records, and returns the
    /// handle and the supervisor ready to [`Supervisor::run`].
    pub fn boot(project: Project, config: Config) -> anyhow::Result<(Handle, Supervisor)> {
        let store = Store::open(&project.database())?;
        // A job step's process is its job's run's to take over, not a
        // service's.
        let (steps, runs): (Vec<RunRecord>, Vec<RunRecord>) = store
            .runs()?
            .into_iter()
            .partition(|r| r.unit.job_step().is_some());
        // The state may be another file's of this folder: then none of it
        // is this file's (see `another_files_state`).
        let all: Vec<RunRecord> = runs.iter().chain(&steps).cloned().collect();
        let fresh = another_files_state(&store, &project, &all)?;
        let (runs, steps) = match fresh.is_some() {
            // None of it is this file's (and none of it lives).
            true => (Vec::new(), Vec::new()),
            false => (runs, steps),
        };
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
        let hashes =
            crate::file_hashes::FileHashes::known_from(store.file_hashes().unwrap_or_default());
        let left_jobs = match fresh {
            true => Vec::new(),
            false => super::job_boot::left_runs(&store, &config),
        };
        let writer = StoreWriter::spawn(store);
        let hashes = std::sync::Arc::new(std::sync::Mutex::new(hashes));
        let handle = Handle {
            tx: tx.clone(),
            shutdown,
            project: project.clone(),
            listen: config.settings.listen.clone(),
            store: writer.clone(),
            hashes: hashes.clone(),
        };
        let mut sup = Supervisor {
            engine,
            config: ConfigFile::new(project.clone(), config),
            store: writer,
            project,
            rx,
            tx,
            clients: HashMap::new(),
            stops: HashMap::new(),
            adopted: Default::default(),
            outside: HashMap::new(),
            next_op: OpId(FIRST_OP),
            next_deploy,
            saved,
            latencies: metrics::Latencies::new(),
            shims: process::ShimPool::default(),
            deploys: Default::default(),
            after_deploy: Vec::new(),
            deploy_counts: Default::default(),
            job_counts: Default::default(),
            listeners: Default::default(),
            jobs: Default::default(),
            hashes,
        };
        if fresh {
            // Ended runs of the other file (none of them lives: see
            // `another_files_state`) and its outcomes are not this file's.
            for r in all {
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
            for (record, aside) in
                super::reattach::pick_runs(runs, &uncommitted, &sup.store, &sup.project)
            {
                let unit = record.unit.clone();
                sup.reattach(record, &last_states);
                for other in aside {
                    sup.stop_aside(&unit, other);
                }
            }
        }
        if !fresh {
            sup.resume_jobs(left_jobs, steps);
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
    let _ = harness_store::private::dir(&logs);
}

/// The first id of a start's or stop's operation: above any deploy number.
const FIRST_OP: u64 = 1 << 40;
