//! One run of a job with its processes: [`super::run::JobRun`] decides
//! which attempt comes next; this adds the attempt's process — its run
//! id, its spawn, its `timeout`, a cancel's stop — and says, in order,
//! what the runtime must record and do. An attempt is recorded as
//! started, and that record made durable, before its process is spawned:
//! an attempt that died with the host is then seen, never lost.
//!
//! Pure, like the engine: facts in with the time as a value, actions out.
//! The runtime hands out run ids (never reused, as for services).

use super::classify::{Class, Failure};
use super::resume::Planned;
use super::run::{AttemptEnd, Effect, JobRun, Status};
use crate::config::{Job, StopSignal};
use crate::engine::{ProcessEnd, RunId};
use std::time::{Duration, Instant};

/// How long a timed-out or cancelled step has between SIGTERM and SIGKILL.
pub const STOP_GRACE: Duration = Duration::from_secs(10);

/// What the runtime must do, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobAction {
    /// Record this (history, `job_attempts`, the client's stream).
    Record(Effect),
    /// Record attempt `attempt` of step `step` as started, as run `run`
    /// (its id in `job_attempts`).
    Started {
        /// The step's index.
        step: usize,
        /// 1 for the first attempt at the step in this run.
        attempt: u32,
        /// The run id of its process.
        run: RunId,
    },
    /// What was recorded so far must be on disk before what follows.
    Persist,
    /// Spawn step `step`'s attempt as run `run`.
    Spawn {
        /// The step's index.
        step: usize,
        /// The run id of the attempt's process.
        run: RunId,
    },
    /// Record how the attempt of run `run` ended (its row): every attempt
    /// that was started ends so, exactly once.
    Ended {
        /// The attempt's process run.
        run: RunId,
        /// Completed, failed, cancelled or interrupted.
        outcome: AttemptOutcome,
        /// How its process ended.
        end: ProcessEnd,
        /// Its last lines of output.
        tail: String,
        /// A failure's class, and the attempts its class allows (as the
        /// run numbers them).
        class: Option<(Class, u32)>,
    },
    /// Stop run `run` (process group `pid`): `signal`, SIGKILL after `grace`.
    Stop {
        /// The attempt's process run.
        run: RunId,
        /// Its main pid.
        pid: u32,
        /// First signal.
        signal: StopSignal,
        /// Time before SIGKILL.
        grace: Duration,
    },
}

/// How an attempt ended, as its row says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// It exited 0.
    Completed,
    /// It failed (a class and what follows are recorded with the run's
    /// effects).
    Failed,
    /// A person cancelled it; not counted as an attempt.
    Cancelled,
    /// Its end was not seen (it died with its shim or the host); not
    /// counted as an attempt.
    Interrupted,
}

impl AttemptOutcome {
    /// The outcome a stored word names (`started` is none: no end yet).
    pub fn parse(word: &str) -> Option<AttemptOutcome> {
        [
            AttemptOutcome::Completed,
            AttemptOutcome::Failed,
            AttemptOutcome::Cancelled,
            AttemptOutcome::Interrupted,
        ]
        .into_iter()
        .find(|o| o.as_str() == word)
    }

    /// The stored word.
    pub fn as_str(self) -> &'static str {
        match self {
            AttemptOutcome::Completed => "completed",
            AttemptOutcome::Failed => "failed",
            AttemptOutcome::Cancelled => "cancelled",
            AttemptOutcome::Interrupted => "interrupted",
        }
    }
}

/// Why harness stops an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stopping {
    TimedOut,
    Cancelled,
}

/// The attempt whose process runs (or is being spawned).
#[derive(Debug, Clone)]
struct Attempt {
    run: RunId,
    phase: AttemptPhase,
}

/// Where the attempt's process stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AttemptPhase {
    /// Its spawn was asked for; `cancelled` if a cancel came meanwhile
    /// (it is stopped as soon as it is up).
    Spawning { cancelled: bool },
    /// Up as `pid`; past `deadline` (its step's `timeout`) it is stopped.
    Up { pid: u32, deadline: Option<Instant> },
    /// harness stops it, because of `why`.
    Stopping { why: Stopping },
}

impl Attempt {
    /// Why harness stops (or will stop) it, if it does.
    fn stopping(&self) -> Option<Stopping> {
        match self.phase {
            AttemptPhase::Spawning { cancelled: true } => Some(Stopping::Cancelled),
            AttemptPhase::Stopping { why } => Some(why),
            _ => None,
        }
    }
}

/// A run of a job in progress.
#[derive(Debug, Clone)]
pub struct Runner {
    job: Job,
    machine: JobRun,
    attempt: Option<Attempt>,
}

impl Runner {
    /// Begins a run of `job` as `plan` says — one that goes on after it
    /// stopped when `tried` (attempts per step so far) is not empty, see
    /// [`JobRun::continued`]; `ids` hands out run ids.
    pub fn start(
        job: Job,
        plan: &[Planned],
        tried: &[u32],
        ids: &mut dyn FnMut() -> RunId,
        out: &mut Vec<JobAction>,
    ) -> Runner {
        let mut effects = Vec::new();
        let machine = JobRun::continued(plan, tried, &mut effects);
        let mut r = Runner {
            job,
            machine,
            attempt: None,
        };
        r.carry(effects, ids, out);
        r
    }

    /// A run the last daemon left, as the store says it stood
    /// (`machine`, from [`JobRun::resumed`]), with the attempt whose
    /// process it had spawned: `(run, pid, deadline)`. The facts about
    /// that attempt come in as for any attempt — its end as the shim
    /// recorded it, or [`ProcessEnd::Lost`] when nobody saw it.
    pub fn resumed(
        job: Job,
        machine: JobRun,
        attempt: Option<(RunId, u32, Option<Instant>)>,
    ) -> Runner {
        Runner {
            job,
            machine,
            attempt: attempt.map(|(run, pid, deadline)| Attempt {
                run,
                phase: AttemptPhase::Up { pid, deadline },
            }),
        }
    }

    /// The job it runs.
    pub fn job(&self) -> &Job {
        &self.job
    }

    /// The run's state machine (the step reached, its status).
    pub fn machine(&self) -> &JobRun {
        &self.machine
    }

    /// The process run of the attempt under way, if any.
    pub fn attempt_run(&self) -> Option<RunId> {
        self.attempt.as_ref().map(|a| a.run)
    }

    /// The earliest moment it wants a tick: a step's timeout, a retry due.
    pub fn next_deadline(&self) -> Option<Instant> {
        let timeout = self.attempt.as_ref().and_then(|a| match a.phase {
            AttemptPhase::Up { deadline, .. } => deadline,
            _ => None,
        });
        timeout
            .into_iter()
            .chain(self.machine.next_deadline())
            .min()
    }

    /// Run `run` is up as `pid`, since `now` (stopped at once if the run
    /// was cancelled while it was being spawned).
    pub fn spawned(&mut self, run: RunId, pid: u32, now: Instant, out: &mut Vec<JobAction>) {
        let timeout = self.job.steps[self.machine.state].timeout;
        let Some(a) = self.attempt.as_mut().filter(|a| a.run == run) else {
            return;
        };
        match a.phase {
            AttemptPhase::Spawning { cancelled: true } => {
                a.phase = AttemptPhase::Stopping {
                    why: Stopping::Cancelled,
                };
                out.push(stop(run, pid));
            }
            AttemptPhase::Spawning { cancelled: false } => {
                a.phase = AttemptPhase::Up {
                    pid,
                    deadline: timeout.map(|t| now + t),
                };
            }
            AttemptPhase::Up { .. } | AttemptPhase::Stopping { .. } => {}
        }
    }

    /// Run `run` could not be spawned, because of `reason`: a failed
    /// attempt, whose error is the reason.
    pub fn spawn_failed(
        &mut self,
        run: RunId,
        reason: String,
        now: Instant,
        ids: &mut dyn FnMut() -> RunId,
        out: &mut Vec<JobAction>,
    ) {
        self.exited(run, ProcessEnd::NotSpawned, reason, now, ids, out);
    }

    /// Run `run` exited 0 but declared output `path` is not there: a
    /// failed attempt, not a completed step (a later run would otherwise
    /// run it again and again, never knowing why).
    pub fn exited_without_output(
        &mut self,
        run: RunId,
        path: &str,
        now: Instant,
        ids: &mut dyn FnMut() -> RunId,
        out: &mut Vec<JobAction>,
    ) {
        let tail = format!("output {path} was not made");
        match &self.attempt {
            Some(a) if a.run == run && a.stopping().is_none() => {}
            // Stopped by harness (a timeout, a cancel): that is its end,
            // whatever it left.
            _ => return self.exited(run, ProcessEnd::Exited(0), tail, now, ids, out),
        }
        self.attempt = None;
        let mut effects = Vec::new();
        let ended = AttemptEnd::Failed {
            failure: Failure::NoOutput,
            tail: tail.clone(),
        };
        self.machine
            .attempt_ended(&self.job, ended, now, &mut effects);
        out.push(JobAction::Ended {
            run,
            outcome: AttemptOutcome::Failed,
            end: ProcessEnd::Exited(0),
            tail,
            class: class_of(&effects),
        });
        self.carry(effects, ids, out);
    }

    /// Run `run` ended so; `tail` is the last lines of its output.
    pub fn exited(
        &mut self,
        run: RunId,
        end: ProcessEnd,
        tail: String,
        now: Instant,
        ids: &mut dyn FnMut() -> RunId,
        out: &mut Vec<JobAction>,
    ) {
        let Some(a) = self.attempt.take_if(|a| a.run == run) else {
            return; // a stale fact about another run
        };
        let recorded = |outcome, tail: &str| JobAction::Ended {
            run,
            outcome,
            end,
            tail: tail.to_string(),
            class: None,
        };
        let stopping = a.stopping();
        if stopping == Some(Stopping::Cancelled) {
            // The run's cancel was recorded when it was asked for.
            out.push(recorded(AttemptOutcome::Cancelled, &tail));
            return;
        }
        let mut effects = Vec::new();
        if end == ProcessEnd::Lost && stopping.is_none() {
            // Not the step's failure: it runs again if it may.
            out.push(recorded(AttemptOutcome::Interrupted, &tail));
            self.machine.attempt_lost(&self.job, &mut effects);
            self.carry(effects, ids, out);
            return;
        }
        let completed = end.success() && stopping.is_none();
        let recorded_tail = tail.clone();
        let ended = match (stopping, end) {
            (None, e) if e.success() => AttemptEnd::Succeeded,
            (Some(Stopping::TimedOut), _) => AttemptEnd::Failed {
                failure: Failure::TimedOut,
                tail,
            },
            (_, ProcessEnd::Exited(code)) => AttemptEnd::Failed {
                failure: Failure::Exited(code),
                tail,
            },
            (_, ProcessEnd::Signaled(sig)) => AttemptEnd::Failed {
                failure: Failure::Signaled(sig),
                tail,
            },
            // A step is never adopted; an end it cannot tell is lost.
            (_, ProcessEnd::Lost | ProcessEnd::Unknown) => AttemptEnd::Failed {
                failure: Failure::Lost,
                tail,
            },
            (_, ProcessEnd::NotSpawned) => AttemptEnd::Failed {
                failure: Failure::NotStarted,
                tail,
            },
        };
        self.machine
            .attempt_ended(&self.job, ended, now, &mut effects);
        out.push(JobAction::Ended {
            run,
            outcome: match completed {
                true => AttemptOutcome::Completed,
                false => AttemptOutcome::Failed,
            },
            end,
            tail: recorded_tail,
            class: class_of(&effects),
        });
        self.carry(effects, ids, out);
    }

    /// Time passed: a step past its `timeout` is stopped (and fails as
    /// timed out when it is down); a retry that is due begins.
    pub fn tick(&mut self, now: Instant, ids: &mut dyn FnMut() -> RunId, out: &mut Vec<JobAction>) {
        if let Some(a) = self.attempt.as_mut()
            && let AttemptPhase::Up {
                pid,
                deadline: Some(d),
            } = a.phase
            && now >= d
        {
            a.phase = AttemptPhase::Stopping {
                why: Stopping::TimedOut,
            };
            out.push(stop(a.run, pid));
        }
        let mut effects = Vec::new();
        self.machine.tick(now, &mut effects);
        self.carry(effects, ids, out);
    }

    /// A person cancelled the run: the step under way is stopped (its end
    /// is not counted as an attempt), no further one begins.
    pub fn cancel(&mut self, out: &mut Vec<JobAction>) {
        let mut effects = Vec::new();
        self.machine.cancel(&mut effects);
        if let Some(a) = self.attempt.as_mut() {
            match a.phase {
                AttemptPhase::Spawning { .. } => {
                    a.phase = AttemptPhase::Spawning { cancelled: true };
                }
                AttemptPhase::Up { pid, .. } => {
                    a.phase = AttemptPhase::Stopping {
                        why: Stopping::Cancelled,
                    };
                    out.push(stop(a.run, pid));
                }
                // Already being stopped (its timeout): its end is the
                // cancel's now, not counted.
                AttemptPhase::Stopping { .. } => {
                    a.phase = AttemptPhase::Stopping {
                        why: Stopping::Cancelled,
                    };
                }
            }
        }
        out.extend(effects.into_iter().map(JobAction::Record));
    }

    /// The person who ran it interrupted it (Ctrl-C): the attempt under
    /// way runs to its end, no further attempt begins.
    pub fn interrupt(&mut self, out: &mut Vec<JobAction>) {
        let mut effects = Vec::new();
        self.machine.interrupt(&mut effects);
        out.extend(effects.into_iter().map(JobAction::Record));
    }

    /// A person decided about the step the run stopped at (see
    /// [`JobRun::decide`]); a retry is recorded and spawned like any
    /// attempt.
    pub fn decide(
        &mut self,
        decision: super::run::Decision,
        ids: &mut dyn FnMut() -> RunId,
        out: &mut Vec<JobAction>,
    ) {
        let mut effects = Vec::new();
        self.machine.decide(decision, &mut effects);
        self.carry(effects, ids, out);
    }

    /// Whether the run is over and its last process is gone.
    pub fn finished(&self) -> bool {
        self.machine.status.is_final() && self.attempt.is_none()
    }

    /// The status of the run now.
    pub fn status(&self) -> Status {
        self.machine.status
    }

    /// Effects of the state machine, as actions: each `Begin` is recorded,
    /// made durable, and only then spawned under a new run id.
    fn carry(
        &mut self,
        effects: Vec<Effect>,
        ids: &mut dyn FnMut() -> RunId,
        out: &mut Vec<JobAction>,
    ) {
        for e in effects {
            match e {
                Effect::Begin { step, attempt } => {
                    let run = ids();
                    self.attempt = Some(Attempt {
                        run,
                        phase: AttemptPhase::Spawning { cancelled: false },
                    });
                    out.push(JobAction::Started { step, attempt, run });
                    out.push(JobAction::Persist);
                    out.push(JobAction::Spawn { step, run });
                }
                other => out.push(JobAction::Record(other)),
            }
        }
    }
}

/// The class of the failure `effects` record, with the attempts it allows.
fn class_of(effects: &[Effect]) -> Option<(Class, u32)> {
    effects.iter().find_map(|e| match e {
        Effect::Failed { class, next, .. } => Some((
            *class,
            match next {
                super::retry::Next::Retry { max, .. } | super::retry::Next::GiveUp { max, .. } => {
                    *max
                }
            },
        )),
        _ => None,
    })
}

/// The stop of a step harness ends (its timeout, a cancel): SIGTERM to its
/// group, SIGKILL after [`STOP_GRACE`].
fn stop(run: RunId, pid: u32) -> JobAction {
    JobAction::Stop {
        run,
        pid,
        signal: StopSignal::Term,
        grace: STOP_GRACE,
    }
}
