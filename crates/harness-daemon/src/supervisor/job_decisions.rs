//! What a person decides about a job: about the step its last run
//! stopped at (retry now, skip it as completed with a reason, stop, clean
//! up — the prompt's answers, `--on-error`, the job's `on_failure`), and
//! marks of a step as completed (`harness jobs mark`). Each decision is a
//! history row; a mark is an attempt row of its own (no process), which a
//! later run takes as the step's completion only while the step's print
//! and outputs stay as they were when it was marked.

use super::jobs::JobSlot;
use super::{CLIENT_BUFFER, Msg, Supervisor};
use crate::job_prep::Standing;
use harness_api::{
    ApiError, ApiErrorKind, CHOICE_SUBJECT, CleanupEvent, JobDecideRequest, JobDecision, JobEvent,
};
use harness_core::config::Command;
use harness_core::job::resume::StepNow;
use harness_core::job::run::{Decision, JobRun, Status};
use harness_core::job::runner::Runner;
use harness_store::{AttemptRow, HistoryRow, Write};
use std::process::Stdio;
use tokio::sync::mpsc;

impl Supervisor {
    /// `POST /v1/jobs/NAME/decide`: the run goes on as decided, and its
    /// events are streamed.
    pub(super) fn decide_job(
        &mut self,
        prep: Result<Standing, ApiError>,
        req: JobDecideRequest,
    ) -> Result<mpsc::Receiver<JobEvent>, ApiError> {
        let prep = prep?;
        let name = prep.job.name.clone();
        let Some(last) = prep.last.clone() else {
            return Err(ApiError::new(
                ApiErrorKind::Usage,
                format!("job `{name}` has not run"),
            ));
        };
        if self.jobs.slots.get(&name).is_some_and(JobSlot::is_busy) {
            return Err(ApiError::new(
                ApiErrorKind::Busy,
                format!("job `{name}` is running; decide once it stopped"),
            ));
        }
        if matches!(req.decision, JobDecision::Skip { .. }) {
            missing_output(&prep.now)?;
        }
        if req.decision == JobDecision::Cleanup && prep.job.cleanup.is_none() {
            return Err(ApiError::new(
                ApiErrorKind::Usage,
                format!("job `{name}` has no `cleanup:` to run"),
            ));
        }
        // The run as this daemon holds it, or as the store says it stopped
        // (a daemon started since).
        let held = self
            .jobs
            .slots
            .get(&name)
            .is_some_and(|s| s.run == last.run && s.runner.finished());
        if !held {
            let status = match last.status.as_str() {
                "needs_decision" => Status::NeedsDecision,
                _ => Status::Failed,
            };
            let machine = JobRun::resumed(
                prep.job.steps.len(),
                prep.step,
                prep.tried,
                &prep.tried_before,
                status,
            );
            let runner = Runner::resumed(prep.job.clone(), machine, None);
            self.jobs.slots.insert(
                name.clone(),
                JobSlot::resumed(runner, last.run, prep.prints.clone()),
            );
        }
        let (tx, rx) = mpsc::channel(CLIENT_BUFFER);
        let step_name = prep.job.steps[prep.step].name.clone();
        let (answer, decision) = match req.decision {
            JobDecision::Retry => ("retry", Decision::Retry),
            JobDecision::Skip { reason } => ("skip", Decision::Skip(reason)),
            JobDecision::Stop => ("stop", Decision::Stop),
            JobDecision::Cleanup => ("cleanup", Decision::Cleanup),
        };
        tracing::info!(job = %name, step = %step_name, decision = answer, via = %req.via, "a decision about a job's step");
        self.store.send(Write::History(HistoryRow {
            ts_ms: super::wall_ms(),
            service: CHOICE_SUBJECT.into(),
            from: format!(
                "job {name}: step {step_name} {}",
                last.status.replace('_', " ")
            ),
            to: answer.into(),
            reason: format!("run {} (by {})", last.run, req.via),
            cause: None,
        }));
        if let Some(slot) = self.jobs.slots.get_mut(&name) {
            slot.follow(tx);
            slot.mark = Some(prep.now);
        }
        let mut out = Vec::new();
        if let Some(slot) = self.jobs.slots.get_mut(&name) {
            let engine = &mut self.engine;
            slot.runner
                .decide(decision, &mut || engine.take_run_id(), &mut out);
        }
        self.carry_job(&name, out);
        Ok(rx)
    }

    /// `POST /v1/jobs/NAME/mark`: step `prep.step` counts as completed,
    /// as it is now.
    pub(super) fn mark_step(
        &mut self,
        prep: Result<Standing, ApiError>,
        reason: String,
    ) -> Result<(), ApiError> {
        let prep = prep?;
        let name = prep.job.name.clone();
        if self.jobs.slots.get(&name).is_some_and(JobSlot::is_busy) {
            return Err(ApiError::new(
                ApiErrorKind::Busy,
                format!("job `{name}` is running; mark a step once it stopped"),
            ));
        }
        missing_output(&prep.now)?;
        let run = prep.last.as_ref().map(|l| l.run).unwrap_or(0);
        let step = prep.job.steps[prep.step].name.clone();
        self.store.send(Write::History(HistoryRow {
            ts_ms: super::wall_ms(),
            service: CHOICE_SUBJECT.into(),
            from: format!("job {name}: step {step}"),
            to: "marked completed".into(),
            reason: reason.clone(),
            cause: None,
        }));
        self.write_mark(&name, run, prep.step, prep.now, &reason);
        Ok(())
    }

    /// A mark of step `step` as completed: an attempt row with no process,
    /// with the step's print and outputs as `now` says.
    pub(super) fn write_mark(
        &mut self,
        name: &str,
        run: i64,
        step: usize,
        now: StepNow,
        reason: &str,
    ) {
        tracing::info!(job = %name, step = %now.name, reason, "job step marked completed");
        let ts = super::wall_ms();
        self.store.send(Write::AttemptStarted(Box::new(AttemptRow {
            id: 0,
            process_run: None,
            job: name.to_string(),
            run,
            step: now.name.clone(),
            step_index: step as i64,
            attempt: 0,
            max_attempts: 0,
            status: "completed".into(),
            started_ms: ts,
            ended_ms: Some(ts),
            class: None,
            exit_code: None,
            signal: None,
            error: Some(reason.to_string()),
            print: now.print,
            outputs: now
                .outputs
                .into_iter()
                .filter_map(|(p, h)| Some((p, h?)))
                .collect(),
            log: None,
        })));
    }

    /// Runs job `name`'s `cleanup` (a person chose it) in the config's
    /// folder, its output in `logs/JOB@cleanup.log`; the run's end is told
    /// once it is over. Not under a shim: a cleanup is short, and one cut
    /// short by the daemon's end is run again by choosing it again.
    pub(super) fn run_cleanup(&mut self, name: &str) {
        let Some(slot) = self.jobs.slots.get_mut(name) else {
            return;
        };
        let Some(cmd) = slot.runner.job().cleanup.clone() else {
            return;
        };
        slot.cleanup_running = true;
        let log = self.project.logs_dir().join(format!("{name}@cleanup.log"));
        let (root, tx, job) = (self.project.root.clone(), self.tx.clone(), name.to_string());
        tracing::info!(job = %name, "running the job's cleanup");
        let child = cleanup(&root, &cmd, &log);
        slot.cleanup_pid = child.as_ref().ok().and_then(tokio::process::Child::id);
        tokio::spawn(async move {
            let status = match child {
                Ok(mut c) => c.wait().await,
                Err(e) => Err(e),
            };
            let detail = match status {
                Ok(status) if status.success() => Ok("exit code 0".to_string()),
                Ok(status) => Err(match status.code() {
                    Some(c) => format!("exit code {c}"),
                    None => format!("ended by {status}"),
                }),
                Err(e) => Err(format!("could not be started: {e}")),
            };
            let _ = tx.send(Msg::CleanupDone { job, detail });
        });
    }

    /// The job's cleanup ended so.
    pub(super) fn cleanup_done(&mut self, name: &str, detail: Result<String, String>) {
        let Some(slot) = self.jobs.slots.get_mut(name) else {
            return;
        };
        slot.cleanup_running = false;
        slot.cleanup_pid = None;
        let held = slot.held_done.take();
        let (success, detail) = match detail {
            Ok(d) => (true, d),
            Err(d) => (false, d),
        };
        tracing::info!(job = %name, success, detail = %detail, "the job's cleanup ended");
        self.store.send(Write::History(HistoryRow {
            ts_ms: super::wall_ms(),
            service: CHOICE_SUBJECT.into(),
            from: format!("job {name}: cleanup"),
            to: if success { "completed" } else { "failed" }.into(),
            reason: detail.clone(),
            cause: None,
        }));
        let event = CleanupEvent {
            success,
            detail,
            log: format!("logs/{name}@cleanup.log"),
        };
        self.tell_job(name, JobEvent::Cleanup(event));
        if let Some(status) = held {
            self.job_done(name, status);
        }
        self.start_held(name);
    }
}

/// A step counts as completed only with every output it declares: a mark
/// without one would never hold (the next run would find it not
/// recorded), so it is refused, naming it.
fn missing_output(now: &StepNow) -> Result<(), ApiError> {
    match now.outputs.iter().find(|(_, h)| h.is_none()) {
        Some((path, _)) => Err(ApiError::new(
            ApiErrorKind::Usage,
            format!(
                "step `{}` cannot count as completed: its output {path} is missing",
                now.name
            ),
        )),
        None => Ok(()),
    }
}

/// Starts `cmd` in `root`, in a process group of its own (so that `stop
/// --all` reaches everything it starts), its output appended to `log`.
fn cleanup(
    root: &std::path::Path,
    cmd: &Command,
    log: &std::path::Path,
) -> std::io::Result<tokio::process::Child> {
    let out = harness_store::private::append(log)?;
    let mut c = match cmd {
        Command::Shell(s) => {
            let mut c = tokio::process::Command::new("sh");
            c.arg("-c").arg(s);
            c
        }
        Command::Argv(argv) => {
            let mut c = tokio::process::Command::new(&argv[0]);
            c.args(&argv[1..]);
            c
        }
    };
    // SAFETY: `restore` is async-signal-safe.
    unsafe { c.pre_exec(crate::fd_limit::restore) };
    c.current_dir(root)
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(out.try_clone()?)
        .stderr(out)
        .spawn()
}
