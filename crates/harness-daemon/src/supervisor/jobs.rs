//! Jobs at run time: one [`Runner`] per job whose run is under way (or
//! was the last to run in this daemon, for a person's decision about it),
//! begun by `harness run` or by a start whose services wait for the job,
//! fed with the facts of its attempts' processes, the time, and a
//! person's interrupt or cancel. What its actions do is in
//! `job_actions.rs`. A client going away changes nothing: the run goes on.

use super::{CLIENT_BUFFER, Msg, Supervisor};
use crate::job_prep::JobPrep;
use harness_api::{ApiError, ApiErrorKind, JobEvent, JobPlan, PlannedStep};
use harness_core::engine::{Input, ProcessEnd, RunId};
use harness_core::job::resume::{Action, StepNow, StepPrint};
use harness_core::job::run::Status;
use harness_core::job::runner::Runner;
use harness_store::{JobRunRow, Write};
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
    pub(super) began: Instant,
    /// Each step's print when the run began.
    pub(super) prints: Vec<StepPrint>,
    /// Whoever follows it.
    pub(super) clients: Vec<mpsc::Sender<JobEvent>>,
    /// The hashes of the outputs an attempt that exited 0 left, until its
    /// end is recorded.
    pub(super) outputs: HashMap<RunId, Vec<(String, String)>>,
    /// The last failed attempt's end and last lines, for the `step` event
    /// its run's `Failed` effect sends next.
    pub(super) failed: Option<(ProcessEnd, String)>,
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
    /// A start asked for a new run while this one was on its way out.
    pub(super) start_held: bool,
    /// The process group of the job's cleanup while it runs.
    pub(super) cleanup_pid: Option<u32>,
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
            start_held: false,
            cleanup_pid: None,
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
                start_held: false,
                cleanup_pid: None,
            },
        );
        self.carry_job(&name, out);
    }

    /// A start's services wait for job `job`: it is prepared off the loop
    /// (hashing its inputs) and then run, unless it runs already (its end
    /// settles them) or is up to date.
    pub(super) fn run_job_for_start(&mut self, job: String) {
        if self.jobs.waiting_for_services(&job) || self.held_for_start(&job) {
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

    /// Whether job `job`'s run in this daemon keeps a start's new run from
    /// beginning now. One under way settles the start when it ends. One
    /// already over whose last process is still on its way out (a cancel's
    /// grace) or whose cleanup runs is held: the new run begins once it is
    /// gone ([`Supervisor::start_held`]).
    fn held_for_start(&mut self, job: &str) -> bool {
        let Some(slot) = self.jobs.slots.get_mut(job).filter(|s| s.is_busy()) else {
            return false;
        };
        if slot.runner.status().is_final() {
            slot.start_held = true;
        }
        true
    }

    /// A start's run of `job` that [`Supervisor::held_for_start`] held
    /// begins, once nothing of the last run is left.
    pub(super) fn start_held(&mut self, job: &str) {
        let Some(slot) = self.jobs.slots.get_mut(job) else {
            return;
        };
        if slot.start_held && !slot.is_busy() {
            slot.start_held = false;
            self.run_job_for_start(job.to_string());
        }
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
                if self.jobs.waiting_for_services(&p.job.name)
                    || self.held_for_start(&p.job.name) => {}
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

    /// Cancels every job's run under way (`stop --all`): the step under
    /// way is stopped, a cleanup that runs too, and a run still waiting
    /// for its services does not begin.
    pub(super) fn cancel_jobs(&mut self) {
        for slot in self.jobs.slots.values() {
            if let Some(pid) = slot.cleanup_pid {
                crate::process::ProcessGroup(pid).signal(libc::SIGTERM);
            }
        }
        for (_, (prep, tx)) in std::mem::take(&mut self.jobs.waiting) {
            let step = prep
                .plan
                .iter()
                .position(|p| p.action == Action::Run)
                .unwrap_or(0);
            let why = "cancelled by `stop --all` before its first step".to_string();
            let _ = tx.try_send(JobEvent::Done(harness_api::JobDone {
                success: false,
                current_state: prep.job.steps[step].name.clone(),
                status: Status::Cancelled.as_str().into(),
                next_action: crate::job_record::next_action(
                    &prep.job.name,
                    &prep.job.steps[step].name,
                    "cancelled",
                    None,
                    &prep.job,
                ),
                elapsed_ms: 0,
                error: Some(why.clone()),
            }));
            self.feed(Input::JobSettled {
                job: prep.job.name.clone(),
                completed: false,
                detail: why,
            });
        }
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
}
