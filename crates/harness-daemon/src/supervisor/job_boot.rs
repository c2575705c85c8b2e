//! What a new daemon does with the jobs' runs a killed one left under
//! way. A step's process runs under its shim, so it outlived the daemon:
//! it is watched again (pid and start time, as for services) and its end,
//! when it comes, is recorded as if nothing had happened. An attempt whose
//! process is gone is taken as the shim recorded its end, or as lost —
//! which the run's runner turns into another attempt (an idempotent step)
//! or a run that needs a decision. A run waiting for a retry waits out
//! the rest of its backoff.

use super::Supervisor;
use harness_core::config::{Config, Job};
use harness_core::engine::{ProcessEnd, RunId, UnitId};
use harness_core::job::run::{JobRun, Status};
use harness_core::job::runner::Runner;
use harness_store::{AttemptEndRow, AttemptRow, JobRunRow, RunRecord, RunStands, Store, Write};
use std::time::{Duration, Instant};

/// A run of a job the last daemon left under way, as the store says.
pub(super) struct LeftRun {
    job: Job,
    row: JobRunRow,
    attempts: Vec<AttemptRow>,
    /// The attempts each step had before the run was last resumed.
    tried: Vec<u32>,
}

/// Each job's last run, read before the store moves to its thread.
pub(super) fn left_runs(store: &Store, config: &Config) -> Vec<LeftRun> {
    let mut out = Vec::new();
    for job in &config.jobs {
        let Ok(Some(row)) = store.last_job_run(&job.name) else {
            continue;
        };
        let attempts = store.attempts(&job.name, row.run).unwrap_or_default();
        let tried = store.job_run_tried(&job.name, row.run).unwrap_or_default();
        out.push(LeftRun {
            job: job.clone(),
            row,
            attempts,
            tried,
        });
    }
    out
}

impl Supervisor {
    /// Takes over the jobs' runs `left` under way (`running`,
    /// `waiting_retry`); `steps` are the step processes the store records.
    /// Every other attempt still recorded as started is closed: one whose
    /// run no longer goes on (cancelled while its process was on its way
    /// out, interrupted here, its job gone from the file) has its process
    /// stopped, and is recorded as cancelled or interrupted, with its end.
    pub(super) fn resume_jobs(&mut self, left: Vec<LeftRun>, mut steps: Vec<RunRecord>) {
        let mut open = Vec::new();
        for l in left {
            let cancelled = l.row.status == "cancelled";
            open.extend(
                l.attempts
                    .iter()
                    .filter(|a| a.ended_ms.is_none())
                    .filter_map(|a| {
                        Some((
                            UnitId::step(&a.job, &a.step),
                            RunId(a.process_run? as u64),
                            cancelled,
                        ))
                    }),
            );
            if matches!(l.row.status.as_str(), "running" | "waiting_retry") {
                self.resume_job(l, &mut steps);
            }
        }
        for (unit, run, cancelled) in open {
            let job = unit
                .job_step()
                .map(|(j, _)| j.to_string())
                .unwrap_or_default();
            let claimed = self
                .jobs
                .slots
                .get(&job)
                .is_some_and(|s| s.attempts.contains_key(&run));
            if !claimed {
                let record = steps
                    .iter()
                    .position(|r| r.run == run)
                    .map(|i| steps.remove(i));
                self.close_attempt(unit, run, record, cancelled);
            }
        }
        // A process no attempt row names (its job's run is older than the
        // job's last one): stopped all the same.
        for r in steps {
            self.close_attempt(r.unit.clone(), r.run, Some(r), false);
        }
    }

    /// Closes attempt `run` of `job`, which no run goes on with: its
    /// process, if it still runs, is stopped (SIGTERM, SIGKILL after the
    /// grace); then its end — as the shim recorded it, or unseen — is
    /// written, as `cancelled` if its run was cancelled, else
    /// `interrupted`, and its process forgotten.
    fn close_attempt(
        &mut self,
        unit: UnitId,
        run: RunId,
        record: Option<RunRecord>,
        cancelled: bool,
    ) {
        let (project, store) = (self.project.clone(), self.store.clone());
        let record = record.unwrap_or(RunRecord {
            unit,
            run,
            shim_pid: 0,
            shim_start: 0,
            pid: 0,
            pid_start: 0,
            started_at_ms: 0,
            definition: None,
            adopted: false,
        });
        tokio::spawn(async move {
            if record.alive() {
                tracing::warn!(step = %record.unit, pid = record.pid, "a job step's process that no run of its job goes on with; stopping it");
                let group = crate::process::ProcessGroup(record.pid);
                group.signal(libc::SIGTERM);
                let grace = tokio::time::Instant::now() + harness_core::job::runner::STOP_GRACE;
                while record.alive() && tokio::time::Instant::now() < grace {
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                }
                if record.alive() {
                    group.signal(libc::SIGKILL);
                }
                crate::process::wait_exit(record.shim_pid).await;
            }
            let end = crate::process::read_exit(&project.exit_file(record.unit.key(), run.0), run)
                .unwrap_or(ProcessEnd::Lost);
            let (exit_code, signal) = (end.code().map(i64::from), end.signal().map(i64::from));
            store.send(Write::AttemptEnded {
                process_run: run.0 as i64,
                end: Box::new(AttemptEndRow {
                    status: if cancelled {
                        "cancelled"
                    } else {
                        "interrupted"
                    }
                    .into(),
                    ended_ms: super::wall_ms(),
                    class: None,
                    max_attempts: None,
                    exit_code,
                    signal,
                    error: Some(format!(
                        "{}; no run of its job went on with it",
                        end.describe()
                    )),
                    outputs: Vec::new(),
                }),
            });
            store.run_ended(&project, record.unit, run);
        });
    }

    fn resume_job(&mut self, l: LeftRun, steps: &mut Vec<RunRecord>) {
        let LeftRun {
            job,
            row,
            attempts,
            tried,
        } = l;
        let name = job.name.clone();
        let state = row.state as usize;
        // The file may have changed since: the run stands at a step only if
        // that step is still there under its name.
        if job
            .steps
            .get(state)
            .is_none_or(|s| s.name != row.state_step)
        {
            tracing::warn!(job = %name, run = row.run, step = %row.state_step, "the step a job's run stood at is gone from the file; the run is interrupted");
            return self.left_interrupted(&name, &row);
        }
        let at_state = attempts
            .iter()
            .filter(|a| a.step_index == row.state && a.process_run.is_some())
            .map(|a| a.attempt as u32)
            .max()
            .unwrap_or(0);
        let open = attempts
            .iter()
            .rev()
            .find(|a| a.ended_ms.is_none() && a.process_run.is_some());
        let n = job.steps.len();
        match (row.status.as_str(), open) {
            ("waiting_retry", _) => {
                let left_ms = row.retry_at_ms.unwrap_or(0) - super::wall_ms();
                let until = Instant::now() + Duration::from_millis(left_ms.max(0) as u64);
                tracing::info!(job = %name, run = row.run, step = %row.state_step, retry_in_ms = left_ms.max(0), "a job's run waits for its retry");
                let machine =
                    JobRun::resumed(n, state, at_state, &tried, Status::WaitingRetry { until });
                self.insert_resumed(&name, &row, Runner::resumed(job, machine, None));
            }
            ("running", Some(a)) if a.step_index == row.state => {
                let run = RunId(a.process_run.unwrap_or(0) as u64);
                let key = UnitId::step(&name, &a.step);
                let record = steps
                    .iter()
                    .position(|r| r.unit == key && r.run == run)
                    .map(|i| steps.remove(i));
                let machine = JobRun::resumed(n, state, a.attempt as u32, &tried, Status::Running);
                let pid = record.as_ref().map(|r| r.pid).unwrap_or(0);
                // What is left of its timeout, from when it began.
                let deadline = job.steps[state].timeout.map(|t| {
                    let ran =
                        Duration::from_millis((super::wall_ms() - a.started_ms).max(0) as u64);
                    Instant::now() + t.saturating_sub(ran)
                });
                let runner = Runner::resumed(job, machine, Some((run, pid, deadline)));
                self.insert_resumed(&name, &row, runner);
                if let Some(slot) = self.jobs.slots.get_mut(&name) {
                    slot.attempts.insert(run, (state, a.attempt as u32));
                }
                match record {
                    // Watched again; its end (now or later) comes as a fact.
                    Some(r) => {
                        tracing::info!(job = %name, step = %a.step, pid = r.pid, "re-attached to a running job step");
                        self.watch_step(&name, state, r);
                    }
                    // Recorded as started, never as spawned: its end is
                    // what the shim wrote, if it wrote one (read, with its
                    // output, as for any attempt), else nobody saw one.
                    None => {
                        tracing::warn!(job = %name, step = %a.step, "a job step recorded as started with no process record");
                        let unseen = RunRecord {
                            unit: key,
                            run,
                            shim_pid: 0,
                            shim_start: 0,
                            pid: 0,
                            pid_start: 0,
                            started_at_ms: a.started_ms,
                            definition: None,
                            adopted: false,
                        };
                        self.watch_step(&name, state, unseen);
                    }
                }
            }
            // Between an attempt's end and the next one's start: nothing
            // runs, so the run is interrupted where it stood (`harness
            // run` resumes it).
            _ => self.left_interrupted(&name, &row),
        }
    }

    fn insert_resumed(&mut self, name: &str, row: &JobRunRow, runner: Runner) {
        // No hashing at boot: each attempt's print is taken just before its
        // spawn (`step_runs`); until then its row holds an empty one, which
        // a later run can only take for a change (never for up to date).
        let prints = vec![Default::default(); runner.job().steps.len()];
        self.jobs.slots.insert(
            name.to_string(),
            super::jobs::JobSlot::resumed(runner, row.run, prints),
        );
    }

    fn left_interrupted(&mut self, name: &str, row: &JobRunRow) {
        self.store.send(Write::JobRunStands {
            job: name.to_string(),
            run: row.run,
            stands: RunStands {
                state: row.state,
                state_step: row.state_step.clone(),
                status: Status::Interrupted.as_str().into(),
                retry_at_ms: None,
                ended_ms: Some(super::wall_ms()),
            },
        });
    }
}
