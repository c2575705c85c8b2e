//! The task of each attempt at a job's step: spawn it under a shim like a
//! service (so a daemon killed meanwhile does not take it along), record
//! its run so a new daemon re-attaches to it, and once it ends report how,
//! with its last lines of output and — after an exit 0 — the hashes of
//! the outputs it declared, read off the loop.

use super::jobs::StepFact;
use super::{Msg, Supervisor};
use crate::file_hashes::FileHashes;
use crate::process;
use crate::store_writer::StoreWriter;
use harness_core::engine::{RunId, RunSpec};
use harness_store::{Project, RunRecord, Write};
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

/// How many of an attempt's last lines its record keeps as its error.
const TAIL_LINES: usize = 5;
/// At most this much of the end of its log is read for them.
const TAIL_BYTES: u64 = 4096;

/// What an attempt's task needs to report its facts.
#[derive(Clone)]
pub(super) struct StepTask {
    project: Project,
    tx: mpsc::UnboundedSender<Msg>,
    store: StoreWriter,
    hashes: Arc<Mutex<FileHashes>>,
    job: String,
    run: RunId,
    /// Its declared outputs, as written (relative to the config's folder).
    outputs: Vec<PathBuf>,
    /// The step.
    step: harness_core::config::Step,
}

impl StepTask {
    /// The step's print as it is just before its spawn, off the loop: its
    /// inputs may be what an earlier step of the run made.
    async fn print_now(&self) -> Option<harness_core::job::resume::StepPrint> {
        let (root, step, hashes, store) = (
            self.project.root.clone(),
            self.step.clone(),
            self.hashes.clone(),
            self.store.clone(),
        );
        tokio::task::spawn_blocking(move || {
            let print = {
                let mut h = hashes.lock().unwrap_or_else(|p| p.into_inner());
                crate::job_prints::step_now(&root, &step, &mut h).print
            };
            crate::file_hashes::keep_new(&hashes, &store);
            print
        })
        .await
        .ok()
    }

    fn fact(&self, fact: StepFact) {
        let _ = self.tx.send(Msg::StepFact {
            job: self.job.clone(),
            fact,
        });
    }

    /// Waits for the shim of the attempt's process to end, then reports
    /// the end (as the shim recorded it, or lost).
    async fn until_exit(self, record: RunRecord) {
        process::wait_exit(record.shim_pid).await;
        let end = super::runs::end_of(
            &self.project,
            &record.unit,
            self.run,
            record.pid,
            record.pid_start,
        );
        tracing::info!(step = %record.unit, pid = record.pid, end = %end.describe(), "job step ended");
        let log = self.project.run_log(&record.unit, self.run.0);
        let (root, outputs, hashes) = (
            self.project.root.clone(),
            self.outputs.clone(),
            self.hashes.clone(),
        );
        let success = end.success();
        let store = self.store.clone();
        let read = tokio::task::spawn_blocking(move || {
            let tail = last_lines(&log, TAIL_LINES);
            let outputs: Vec<(String, Option<String>)> = match success {
                false => Vec::new(),
                true => {
                    let mut hashes = hashes.lock().unwrap_or_else(|p| p.into_inner());
                    outputs
                        .iter()
                        .map(|o| (o.display().to_string(), hashes.hash(&root.join(o))))
                        .collect()
                }
            };
            crate::file_hashes::keep_new(&hashes, &store);
            (tail, outputs)
        })
        .await;
        let (tail, outputs) = read.unwrap_or_default();
        self.fact(StepFact::Exited {
            run: self.run,
            end,
            tail,
            outputs,
        });
    }
}

impl Supervisor {
    fn step_task(&self, job: &str, step: usize, run: RunId) -> Option<(StepTask, RunSpec)> {
        let slot = self.jobs.slots.get(job)?;
        let spec = RunSpec::of_step(slot.runner.job(), step);
        let task = StepTask {
            project: self.project.clone(),
            tx: self.tx.clone(),
            store: self.store.clone(),
            hashes: self.hashes.clone(),
            job: job.to_string(),
            run,
            outputs: slot.runner.job().steps[step].outputs.clone(),
            step: slot.runner.job().steps[step].clone(),
        };
        Some((task, spec))
    }

    /// Starts the task of attempt `run` at step `step` of `job`.
    pub(super) fn spawn_step(&mut self, job: &str, step: usize, run: RunId) {
        let Some((task, spec)) = self.step_task(job, step, run) else {
            return;
        };
        let shims = self.shims.clone();
        tokio::spawn(async move {
            let print = task.print_now().await;
            let s = match process::spawn(&shims, &task.project, &spec, run, None).await {
                Ok(s) => s,
                Err(reason) => {
                    tracing::warn!(step = %spec.unit, reason = %reason, "job step could not be started");
                    return task.fact(StepFact::SpawnFailed { run, reason });
                }
            };
            tracing::info!(step = %spec.unit, pid = s.pid, run = run.0, "job step spawned");
            let record = s.record(&spec.unit, run, super::wall_ms(), None);
            if let Some(print) = print {
                task.store.send(Write::AttemptPrint {
                    process_run: run.0 as i64,
                    print,
                });
            }
            task.store.send(Write::Run(record.clone()));
            // On disk before the run goes on: a daemon killed from here on
            // finds the process and re-attaches to it, rather than taking
            // the attempt for one that never ran and running it again.
            let store = task.store.clone();
            let _ = tokio::task::spawn_blocking(move || store.flush(super::deploys::RECORD_LIMIT))
                .await;
            task.fact(StepFact::Spawned { run, pid: s.pid });
            task.until_exit(record).await;
        });
    }

    /// Watches an attempt the last daemon spawned, until it ends.
    pub(super) fn watch_step(&self, job: &str, step: usize, record: RunRecord) {
        let Some((task, _)) = self.step_task(job, step, record.run) else {
            return;
        };
        tokio::spawn(task.until_exit(record));
    }
}

/// The last `n` lines of a log (read from its last [`TAIL_BYTES`]), as
/// one string; empty when there is none.
pub(super) fn last_lines(path: &Path, n: usize) -> String {
    let Ok(mut f) = std::fs::File::open(path) else {
        return String::new();
    };
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    let from = len.saturating_sub(TAIL_BYTES);
    let mut bytes = Vec::new();
    if f.seek(SeekFrom::Start(from)).is_err() || f.read_to_end(&mut bytes).is_err() {
        return String::new();
    }
    let text = String::from_utf8_lossy(&bytes);
    let mut lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    if from > 0 && !lines.is_empty() {
        lines.remove(0); // cut by the read
    }
    let keep = lines.len().saturating_sub(n);
    lines[keep..].join("\n")
}
