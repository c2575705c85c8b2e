//! Jobs at run time: one [`Runner`] per job whose run is under way (or
//! was the last to run in this daemon, for a person's decision about it),
//! fed with the facts of its attempts' processes and carried out here —
//! each attempt recorded `started` and made durable before its spawn, its
//! end recorded with its class, a failed attempt's declared outputs
//! removed, the run's state and status kept in `job_runs`, and the events
//! streamed to whoever follows the run. A client going away changes
//! nothing: the run goes on.

use super::{CLIENT_BUFFER, Msg, Supervisor};
use crate::job_prep::JobPrep;
use crate::job_record::next_action;
use harness_api::{
    ApiError, ApiErrorKind, JobDone, JobEvent, JobPlan, PlannedStep, StepEvent, StepStatus,
};
use harness_core::engine::{Input, ProcessEnd, RunId, UnitId};
use harness_core::job::classify::Class;
use harness_core::job::resume::{Action, StepNow, StepPrint};
use harness_core::job::retry::Next;
use harness_core::job::run::{Effect, Status};
use harness_core::job::runner::{AttemptOutcome, JobAction, Runner};
use harness_store::{AttemptEndRow, AttemptRow, JobRunRow, RunStands, Write};
use std::collections::{BTreeMap, HashMap};
use std::time::Instant;
use tokio::sync::mpsc;

/// What a step's process task reports.
#[derive(Debug)]
pub enum StepFact {
    /// Its process is up as `pid`.
    Spawned {
        /// The attempt's process run.
        run: RunId,
        /// Its pid.
        pid: u32,
    },
    /// It could not be started.
    SpawnFailed {
        /// The attempt's process run.
        run: RunId,
        /// Why.
        reason: String,
    },
    /// It ended so.
    Exited {
        /// The attempt's process run.
        run: RunId,
        /// How.
        end: ProcessEnd,
        /// Its last lines of output.
        tail: String,
        /// Each declared output with its hash (`None`: missing), read
        /// after an exit 0.
        outputs: Vec<(String, Option<String>)>,
    },
}

/// A person's control of a run under way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobControl {
    /// Ctrl-C on `harness run`: the step under way finishes, no further
    /// one begins.
    Interrupt,
    /// `harness jobs cancel`: the step under way is stopped.
    Cancel,
}

/// A job's run in this daemon.
pub(super) struct JobSlot {
    pub(super) runner: Runner,
    /// Its number.
    pub(super) run: i64,
    /// When it was asked for (its `elapsed`).
    began: Instant,
    /// Each step's print when the run began.
    prints: Vec<StepPrint>,
    /// Whoever follows it.
    clients: Vec<mpsc::Sender<JobEvent>>,
    /// The hashes of the outputs an attempt that exited 0 left, until its
    /// end is recorded.
    outputs: HashMap<RunId, Vec<(String, String)>>,
    /// A failed attempt's end, recorded once its class is known.
    failed: Option<(RunId, ProcessEnd, String)>,
    /// The step and attempt of each attempt's process, until its end is
    /// recorded (the run may have moved on by then).
    pub(super) attempts: HashMap<RunId, (usize, u32)>,
    /// The step a person decided to skip, as it was then: its mark
    /// records this print and these outputs.
    pub(super) mark: Option<StepNow>,
    /// The job's `cleanup` runs; the run's end is told once it is done.
    pub(super) cleanup_running: bool,
    /// The run's end, held while its cleanup runs.
    pub(super) held_done: Option<Status>,
}

impl JobSlot {
    /// Whether anything of the run is under way.
    pub(super) fn is_busy(&self) -> bool {
        !self.runner.finished() || self.cleanup_running
    }

    /// `tx` follows the run from now on (a decision's request), instead of
    /// whoever followed it before.
    pub(super) fn follow(&mut self, tx: mpsc::Sender<JobEvent>) {
        self.clients = vec![tx];
        self.began = Instant::now();
    }

    /// A run the last daemon left under way, taken over (nobody follows
    /// it yet).
    pub(super) fn resumed(runner: Runner, run: i64, prints: Vec<StepPrint>) -> JobSlot {
        JobSlot {
            runner,
            run,
            began: Instant::now(),
            prints,
            clients: Vec::new(),
            outputs: HashMap::new(),
            failed: None,
            attempts: HashMap::new(),
            mark: None,
            cleanup_running: false,
            held_done: None,
        }
    }
}

/// Every job's run in this daemon, by job.
#[derive(Default)]
pub(super) struct Jobs {
    pub(super) slots: BTreeMap<String, JobSlot>,
    /// Runs that wait for the services their job needs, by the start of
    /// those services.
    pub(super) waiting: HashMap<harness_core::engine::OpId, (JobPrep, mpsc::Sender<JobEvent>)>,
}

impl Jobs {
    /// When a run wants a tick: a step's timeout, a retry due.
    pub(super) fn next_deadline(&self) -> Option<Instant> {
        self.slots
            .values()
            .filter_map(|s| s.runner.next_deadline())
            .min()
    }

    /// Whether a run is under way (its process runs, a retry is due, its
    /// cleanup runs, it waits for services).
    pub(super) fn busy(&self) -> bool {
        self.slots.values().any(JobSlot::is_busy) || !self.waiting.is_empty()
    }

    /// Whether a run of `job` waits for the services it needs.
    pub(super) fn waiting_for_services(&self, job: &str) -> bool {
        self.waiting.values().any(|(p, _)| p.job.name == job)
    }
}

impl Supervisor {
    /// `POST /v1/jobs/NAME/run`, prepared off the loop: the run begins (one
    /// run of a job at a time) and its events are streamed.
    pub(super) fn run_job(
        &mut self,
        prep: Result<JobPrep, ApiError>,
    ) -> Result<mpsc::Receiver<JobEvent>, ApiError> {
        let prep = prep?;
        let name = prep.job.name.clone();
        if self.jobs.waiting_for_services(&name) {
            return Err(ApiError::new(
                ApiErrorKind::Busy,
                format!("job `{name}` is about to run: it waits for the services it needs"),
            ));
        }
        if let Some(slot) = self.jobs.slots.get(&name) {
            if slot.is_busy() {
                return Err(ApiError::new(
                    ApiErrorKind::Busy,
                    format!(
                        "job `{name}` is running (run {}, step `{}`); follow it with `harness jobs status {name}`",
                        slot.run,
                        slot.runner.job().steps[slot.runner.machine().state].name
                    ),
                ));
            }
            let stale = match prep.continues {
                true => slot.run > prep.run,
                false => slot.run >= prep.run,
            };
            if stale {
                // Prepared before the last run's rows were read.
                return Err(ApiError::new(
                    ApiErrorKind::Busy,
                    format!("a run of job `{name}` ended meanwhile; run it again"),
                ));
            }
        }
        let (tx, rx) = mpsc::channel(CLIENT_BUFFER);
        let plan = JobPlan {
            job: name.clone(),
            run: prep.run,
            continues: prep.continues,
            steps: prep
                .plan
                .iter()
                .enumerate()
                .map(|(index, p)| PlannedStep {
                    step: p.step.clone(),
                    index,
                    action: match p.action {
                        Action::Run => "run",
                        Action::Skip => "skip",
                    }
                    .into(),
                    why: p.why.clone(),
                })
                .collect(),
        };
        let _ = tx.try_send(JobEvent::Plan(plan));
        if self.wait_for_services(&prep, &tx) {
            return Ok(rx);
        }
        self.begin_run(prep, tx);
        Ok(rx)
    }

    /// The run of `prep` begins: recorded, and its first attempt started.
    pub(super) fn begin_run(&mut self, prep: JobPrep, tx: mpsc::Sender<JobEvent>) {
        let name = prep.job.name.clone();
        tracing::info!(job = %name, run = prep.run, start = %prep.start, "job run begins");
        let first = prep.plan.iter().position(|p| p.action == Action::Run);
        if !prep.continues {
            self.store.send(Write::JobRunBegan(JobRunRow {
                job: name.clone(),
                run: prep.run,
                started_ms: super::wall_ms(),
                ended_ms: None,
                state: first.unwrap_or(0) as i64,
                state_step: prep.job.steps[first.unwrap_or(0)].name.clone(),
                status: "running".into(),
                retry_at_ms: None,
                start: prep.start.clone(),
            }));
        }
        let mut out = Vec::new();
        let engine = &mut self.engine;
        let runner = Runner::start(
            prep.job,
            &prep.plan,
            &prep.tried,
            &mut || engine.take_run_id(),
            &mut out,
        );
        self.jobs.slots.insert(
            name.clone(),
            JobSlot {
                runner,
                run: prep.run,
                began: Instant::now(),
                prints: prep.prints,
                clients: vec![tx],
                outputs: HashMap::new(),
                failed: None,
                attempts: HashMap::new(),
                mark: None,
                cleanup_running: false,
                held_done: None,
            },
        );
        self.carry_job(&name, out);
    }

    /// A start's services wait for job `job`: it is prepared off the loop
    /// (hashing its inputs) and then run, unless it runs already (its end
    /// settles them) or is up to date.
    pub(super) fn run_job_for_start(&mut self, job: String) {
        if self.jobs.slots.get(&job).is_some_and(JobSlot::is_busy)
            || self.jobs.waiting_for_services(&job)
        {
            return;
        }
        let (project, hashes, store, tx) = (
            self.project.clone(),
            self.hashes.clone(),
            self.store.clone(),
            self.tx.clone(),
        );
        tokio::task::spawn_blocking(move || {
            store.flush(super::deploys::RECORD_LIMIT);
            let prep = crate::job_prep::prepare(&project, &hashes, &job, &Default::default())
                .map_err(|e| (job, e));
            crate::file_hashes::keep_new(&hashes, &store);
            let _ = tx.send(Msg::JobPrepared(Box::new(prep)));
        });
    }

    /// [`Supervisor::run_job_for_start`], prepared.
    pub(super) fn job_prepared(&mut self, prep: Result<JobPrep, (String, ApiError)>) {
        let settled = |job: String, completed: bool, detail: String| Input::JobSettled {
            job,
            completed,
            detail,
        };
        match prep {
            Err((job, e)) => self.feed(settled(job, false, format!("cannot run: {}", e.error))),
            Ok(p)
                if self
                    .jobs
                    .slots
                    .get(&p.job.name)
                    .is_some_and(JobSlot::is_busy)
                    || self.jobs.waiting_for_services(&p.job.name) => {}
            Ok(p) if p.up_to_date => {
                tracing::info!(job = %p.job.name, "a job services wait for is up to date");
                self.feed(settled(p.job.name, true, "up to date".into()));
            }
            Ok(p) => {
                let job = p.job.name.clone();
                if let Err(e) = self.run_job(Ok(p)) {
                    self.feed(settled(job, false, format!("cannot run: {}", e.error)));
                }
            }
        }
    }

    /// A fact about one of a job's attempts.
    pub(super) fn step_fact(&mut self, job: &str, fact: StepFact) {
        let Some(slot) = self.jobs.slots.get_mut(job) else {
            return;
        };
        let engine = &mut self.engine;
        let mut ids = || engine.take_run_id();
        let (now, mut out) = (Instant::now(), Vec::new());
        match fact {
            StepFact::Spawned { run, pid } => slot.runner.spawned(run, pid, now, &mut out),
            StepFact::SpawnFailed { run, reason } => slot
                .runner
                .spawn_failed(run, reason, now, &mut ids, &mut out),
            StepFact::Exited {
                run,
                end,
                tail,
                outputs,
            } => {
                if let Some(h) = self.stops.remove(&run) {
                    h.abort();
                }
                match outputs.iter().find(|(_, h)| h.is_none()) {
                    Some((path, _)) if end.success() => {
                        let path = path.clone();
                        slot.runner
                            .exited_without_output(run, &path, now, &mut ids, &mut out)
                    }
                    _ => {
                        let made = outputs
                            .into_iter()
                            .filter_map(|(p, h)| Some((p, h?)))
                            .collect();
                        slot.outputs.insert(run, made);
                        slot.runner.exited(run, end, tail, now, &mut ids, &mut out)
                    }
                }
            }
        }
        self.carry_job(job, out);
    }

    /// Time passed: steps past their timeout are stopped, retries due begin.
    pub(super) fn tick_jobs(&mut self) {
        let now = Instant::now();
        let names: Vec<String> = self
            .jobs
            .slots
            .iter()
            .filter(|(_, s)| s.runner.next_deadline().is_some_and(|d| d <= now))
            .map(|(n, _)| n.clone())
            .collect();
        for name in names {
            let mut out = Vec::new();
            if let Some(slot) = self.jobs.slots.get_mut(&name) {
                let engine = &mut self.engine;
                slot.runner
                    .tick(now, &mut || engine.take_run_id(), &mut out);
            }
            self.carry_job(&name, out);
        }
    }

    /// Interrupt or cancel job `name`'s run.
    pub(super) fn control_job(&mut self, name: &str, control: JobControl) -> Result<(), ApiError> {
        let Some(slot) = self
            .jobs
            .slots
            .get_mut(name)
            .filter(|s| !s.runner.finished())
        else {
            return Err(ApiError::new(
                ApiErrorKind::Usage,
                format!("job `{name}` is not running"),
            ));
        };
        tracing::info!(job = %name, ?control, "job run controlled");
        let mut out = Vec::new();
        match control {
            JobControl::Interrupt => slot.runner.interrupt(&mut out),
            JobControl::Cancel => slot.runner.cancel(&mut out),
        }
        self.carry_job(name, out);
        Ok(())
    }

    /// Cancels every job's run under way (`stop --all`).
    pub(super) fn cancel_jobs(&mut self) {
        let running: Vec<String> = self
            .jobs
            .slots
            .iter()
            .filter(|(_, s)| !s.runner.finished())
            .map(|(n, _)| n.clone())
            .collect();
        for name in running {
            let _ = self.control_job(&name, JobControl::Cancel);
        }
    }

    /// Carries out a run's actions, in order, then records where it stands.
    pub(super) fn carry_job(&mut self, name: &str, actions: Vec<JobAction>) {
        for action in actions {
            match action {
                JobAction::Record(effect) => self.job_effect(name, effect),
                JobAction::Started { step, attempt, run } => {
                    self.attempt_started(name, step, attempt, run)
                }
                JobAction::Persist => {
                    if !self.store.flush(super::deploys::RECORD_LIMIT) {
                        tracing::error!(
                            "the state database did not confirm a write in time; going on"
                        );
                    }
                }
                JobAction::Spawn { step, run } => self.spawn_step(name, step, run),
                JobAction::Ended {
                    run,
                    outcome,
                    end,
                    tail,
                } => self.attempt_ended(name, run, outcome, end, tail),
                JobAction::Stop {
                    run,
                    pid,
                    signal,
                    grace,
                } => {
                    let group = crate::process::ProcessGroup(pid);
                    let task = tokio::spawn(crate::process::stop_group(group, signal, grace));
                    self.stops.insert(run, task.abort_handle());
                }
            }
        }
        // A failed attempt whose class never came (a stale fact).
        if let Some((run, end, tail)) = self.jobs.slots.get_mut(name).and_then(|s| s.failed.take())
        {
            self.record_end(name, run, AttemptOutcome::Failed, end, tail, None);
        }
        self.record_stands(name);
    }

    fn attempt_started(&mut self, name: &str, step: usize, attempt: u32, run: RunId) {
        let Some(slot) = self.jobs.slots.get_mut(name) else {
            return;
        };
        slot.attempts.insert(run, (step, attempt));
        let slot = &*slot;
        let s = &slot.runner.job().steps[step];
        let unit = UnitId::step(name, &s.name);
        self.store.send(Write::ReserveRuns { up_to: run.0 + 1 });
        self.store.send(Write::AttemptStarted(Box::new(AttemptRow {
            id: 0,
            process_run: Some(run.0 as i64),
            job: name.to_string(),
            run: slot.run,
            step: s.name.clone(),
            step_index: step as i64,
            attempt: attempt as i64,
            max_attempts: (slot.runner.machine().tried(step)
                + s.retry.of(Class::Transient).max_attempts) as i64,
            status: "started".into(),
            started_ms: super::wall_ms(),
            ended_ms: None,
            class: None,
            exit_code: None,
            signal: None,
            error: None,
            print: slot.prints[step].clone(),
            outputs: Vec::new(),
            log: Some(self.log_of(&unit, run)),
        })));
        let event = StepEvent {
            log: Some(self.log_of(&unit, run)),
            ..self.step_event(name, step, StepStatus::Started, attempt)
        };
        self.tell_job(name, JobEvent::Step(event));
    }

    fn attempt_ended(
        &mut self,
        name: &str,
        run: RunId,
        outcome: AttemptOutcome,
        end: ProcessEnd,
        tail: String,
    ) {
        let Some(slot) = self.jobs.slots.get_mut(name) else {
            return;
        };
        if outcome == AttemptOutcome::Failed {
            // Recorded with its class, which the next effect says.
            slot.failed = Some((run, end, tail));
            return;
        }
        let Some(&(step, attempt)) = slot.attempts.get(&run) else {
            return;
        };
        self.record_end(name, run, outcome, end, tail, None);
        let status = match outcome {
            AttemptOutcome::Cancelled => StepStatus::Cancelled,
            AttemptOutcome::Interrupted => StepStatus::Interrupted,
            // Told with the run's `Completed` effect.
            AttemptOutcome::Completed | AttemptOutcome::Failed => return,
        };
        let event = self.step_event(name, step, status, attempt);
        self.tell_job(name, JobEvent::Step(event));
    }

    /// Writes how attempt `run` ended (with its class, once failed), then
    /// forgets its process — in that order, so that a daemon killed
    /// between the two still finds its end in the exit file. An attempt
    /// that did not complete leaves nothing it declared it makes (make's
    /// `.DELETE_ON_ERROR`): a half-written output is never taken for one.
    fn record_end(
        &mut self,
        name: &str,
        run: RunId,
        outcome: AttemptOutcome,
        end: ProcessEnd,
        tail: String,
        class: Option<(Class, u32)>,
    ) {
        let Some(slot) = self.jobs.slots.get_mut(name) else {
            return;
        };
        let outputs = slot.outputs.remove(&run).unwrap_or_default();
        let Some((step, _)) = slot.attempts.remove(&run) else {
            return;
        };
        let step = &slot.runner.job().steps[step];
        let unit = UnitId::step(name, &step.name);
        if outcome != AttemptOutcome::Completed {
            for o in &step.outputs {
                let path = self.project.root.join(o);
                match std::fs::remove_file(&path) {
                    Ok(()) => {
                        tracing::info!(job = %name, step = %step.name, output = %o.display(), "removed the output of an attempt that did not complete")
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => {
                        tracing::warn!(job = %name, output = %o.display(), error = %e, "cannot remove the output of an attempt that did not complete")
                    }
                }
            }
        }
        let key = (
            name.to_string(),
            step.name.clone(),
            class.map_or("none", |(c, _)| c.as_str()).to_string(),
            outcome.as_str().to_string(),
        );
        *self.job_counts.attempts.entry(key).or_default() += 1;
        let (exit_code, signal) = match end {
            ProcessEnd::Exited(c) => (Some(c as i64), None),
            ProcessEnd::Signaled(s) => (None, Some(s as i64)),
            ProcessEnd::Lost | ProcessEnd::NotSpawned => (None, None),
        };
        self.store.send(Write::AttemptEnded {
            process_run: run.0 as i64,
            end: Box::new(AttemptEndRow {
                status: outcome.as_str().into(),
                ended_ms: super::wall_ms(),
                class: class.map(|(c, _)| c.as_str().to_string()),
                max_attempts: class.map(|(_, m)| m as i64),
                exit_code,
                signal,
                // A completed attempt's output is no error.
                error: (!tail.is_empty() && outcome != AttemptOutcome::Completed).then_some(tail),
                outputs,
            }),
        });
        self.store.run_ended(&self.project, unit, run);
    }

    fn job_effect(&mut self, name: &str, effect: Effect) {
        match effect {
            Effect::Skipped { step, why } => {
                let event = StepEvent {
                    why: Some(why),
                    ..self.step_event(name, step, StepStatus::Cached, 0)
                };
                self.tell_job(name, JobEvent::Step(event));
            }
            // The runner turns each into `Started`, `Persist`, `Spawn`.
            Effect::Begin { .. } => {}
            Effect::Completed { step, attempt } => {
                let event = self.step_event(name, step, StepStatus::Completed, attempt);
                self.tell_job(name, JobEvent::Step(event));
            }
            Effect::Failed {
                step,
                attempt,
                class,
                why,
                next,
            } => {
                let max = match next {
                    Next::Retry { max, .. } | Next::GiveUp { max, .. } => max,
                };
                let failed = self.jobs.slots.get_mut(name).and_then(|s| s.failed.take());
                let (mut exit_code, mut error) = (None, None);
                if let Some((run, end, tail)) = failed {
                    if let ProcessEnd::Exited(c) = end {
                        exit_code = Some(c);
                    }
                    error = (!tail.is_empty()).then(|| tail.clone());
                    self.record_end(
                        name,
                        run,
                        AttemptOutcome::Failed,
                        end,
                        tail,
                        Some((class, max)),
                    );
                }
                let (status, retry_in_ms) = match next {
                    Next::Retry { delay, .. } => {
                        (StepStatus::Retrying, Some(delay.as_millis() as u64))
                    }
                    Next::GiveUp { .. } => (StepStatus::Failed, None),
                };
                tracing::warn!(job = %name, step, attempt, class = class.as_str(), why = %why, "job step failed");
                let event = StepEvent {
                    max_attempts: max,
                    class: Some(class.as_str().into()),
                    exit_code,
                    error,
                    why: Some(why),
                    retry_in_ms,
                    ..self.step_event(name, step, status, attempt)
                };
                self.tell_job(name, JobEvent::Step(event));
            }
            Effect::Done(status) => self.job_done(name, status),
            Effect::Marked { step, reason } => {
                let now = self.jobs.slots.get_mut(name).and_then(|s| s.mark.take());
                if let (Some(now), Some(slot)) = (now, self.jobs.slots.get(name)) {
                    let run = slot.run;
                    self.write_mark(name, run, step, now, &reason);
                }
                let event = StepEvent {
                    why: Some(reason),
                    ..self.step_event(name, step, StepStatus::Marked, 0)
                };
                self.tell_job(name, JobEvent::Step(event));
            }
            Effect::Cleanup => self.run_cleanup(name),
        }
    }

    pub(super) fn job_done(&mut self, name: &str, status: Status) {
        let Some(slot) = self.jobs.slots.get_mut(name) else {
            return;
        };
        if slot.cleanup_running {
            // Told once the cleanup is over.
            slot.held_done = Some(status);
            return;
        }
        let slot = &*slot;
        let job = slot.runner.job();
        let step = &job.steps[slot.runner.machine().state].name;
        tracing::info!(job = %name, run = slot.run, status = status.as_str(), step = %step, "job run ended");
        let done = JobDone {
            success: status == Status::Completed,
            current_state: step.clone(),
            status: status.as_str().into(),
            next_action: next_action(name, step, status.as_str(), None, job),
            elapsed_ms: slot.began.elapsed().as_millis() as u64,
            error: None,
        };
        let detail = match status {
            Status::Completed => "completed".to_string(),
            other => format!(
                "{} at step {}",
                other.as_str().replace('_', " "),
                done.current_state
            ),
        };
        self.tell_job(name, JobEvent::Done(done));
        if let Some(slot) = self.jobs.slots.get_mut(name) {
            slot.clients.clear();
        }
        // Services a start holds for it go on, or are blocked.
        self.feed(Input::JobSettled {
            job: name.to_string(),
            completed: status == Status::Completed,
            detail,
        });
    }

    /// Keeps `job_runs` where the run stands now.
    fn record_stands(&mut self, name: &str) {
        let Some(slot) = self.jobs.slots.get(name) else {
            return;
        };
        let m = slot.runner.machine();
        let retry_at_ms = match m.status {
            Status::WaitingRetry { until } => {
                let left = until.saturating_duration_since(Instant::now());
                Some(super::wall_ms() + left.as_millis() as i64)
            }
            _ => None,
        };
        self.store.send(Write::JobRunStands {
            job: name.to_string(),
            run: slot.run,
            stands: RunStands {
                state: m.state as i64,
                state_step: slot.runner.job().steps[m.state].name.clone(),
                status: m.status.as_str().into(),
                retry_at_ms,
                ended_ms: slot.runner.finished().then(super::wall_ms),
            },
        });
    }

    /// A `step` event with what every one says.
    fn step_event(&self, name: &str, step: usize, status: StepStatus, attempt: u32) -> StepEvent {
        let slot = self.jobs.slots.get(name);
        let before = slot.map(|s| s.runner.machine().tried(step)).unwrap_or(0);
        let s = slot.map(|s| &s.runner.job().steps[step]);
        StepEvent {
            step: s.map(|s| s.name.clone()).unwrap_or_default(),
            index: step,
            status,
            attempt,
            max_attempts: before
                + s.map(|s| s.retry.of(Class::Transient).max_attempts)
                    .unwrap_or(1),
            class: None,
            exit_code: None,
            error: None,
            why: None,
            retry_in_ms: None,
            log: None,
        }
    }

    /// An attempt's log, relative to the state folder.
    fn log_of(&self, unit: &UnitId, run: RunId) -> String {
        let path = self.project.run_log(unit, run.0);
        path.strip_prefix(self.project.state_dir())
            .unwrap_or(&path)
            .display()
            .to_string()
    }

    /// Sends an event to whoever follows the job's run; one too slow to
    /// keep up is dropped, never waited for (the run goes on).
    pub(super) fn tell_job(&mut self, name: &str, event: JobEvent) {
        if let Some(slot) = self.jobs.slots.get_mut(name) {
            slot.clients.retain(|c| c.try_send(event.clone()).is_ok());
        }
    }
}
