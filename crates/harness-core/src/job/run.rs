//! One run of a job, as a state machine: facts in (an attempt ended, time
//! passed, a cancel), effects out (begin an attempt, a step completed or
//! failed, a retry is due, the run is done). Its *state* is the step it has
//! reached; its *status* says how that step stands. A failed step keeps
//! the state where it is — the next run resumes there (`resume::plan`).
//! Time is a value; the runtime records every effect (an attempt as
//! `started` before it spawns it) and carries it out.

use super::classify::{Class, Failure};
use super::resume::{Action, Planned};
use super::retry::Next;
use crate::config::Job;
use std::time::{Duration, Instant};

/// How the step the run has reached stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// An attempt runs.
    Running,
    /// The last attempt failed; the next one begins at `until`.
    WaitingRetry {
        /// When.
        until: Instant,
    },
    /// Every step completed (or was up to date).
    Completed,
    /// The step failed and no attempt follows on its own.
    Failed,
    /// An attempt of a step that is not idempotent was cut short with no
    /// end seen: a person decides (`--from STEP`, or mark it completed).
    NeedsDecision,
    /// A person cancelled the run; the state stays where it was.
    Cancelled,
    /// The person who ran it interrupted it (Ctrl-C): the attempt under
    /// way finished, no further one began. The next run resumes.
    Interrupted,
}

impl Status {
    /// `running`, `waiting_retry`, … as JSON and tables say it.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Running => "running",
            Status::WaitingRetry { .. } => "waiting_retry",
            Status::Completed => "completed",
            Status::Failed => "failed",
            Status::NeedsDecision => "needs_decision",
            Status::Cancelled => "cancelled",
            Status::Interrupted => "interrupted",
        }
    }

    /// Whether the run is over (nothing more happens on its own).
    pub fn is_final(self) -> bool {
        !matches!(self, Status::Running | Status::WaitingRetry { .. })
    }
}

/// How an attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptEnd {
    /// Exit code 0.
    Succeeded,
    /// It failed so; `tail` is the last lines of its output.
    Failed {
        /// How.
        failure: Failure,
        /// Its last lines.
        tail: String,
    },
}

/// What the runtime must do or record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Step `step` is skipped, because of `why`.
    Skipped {
        /// The step's index.
        step: usize,
        /// Why ("up to date").
        why: String,
    },
    /// Record attempt `attempt` of step `step` as started, then spawn it.
    Begin {
        /// The step's index.
        step: usize,
        /// 1 for the first attempt in this run.
        attempt: u32,
    },
    /// The attempt completed; the step is done.
    Completed {
        /// The step's index.
        step: usize,
        /// The attempt.
        attempt: u32,
    },
    /// The attempt failed: `class`, why so, and what follows.
    Failed {
        /// The step's index.
        step: usize,
        /// The attempt.
        attempt: u32,
        /// Its class.
        class: Class,
        /// Why that class.
        why: String,
        /// A retry (and when), or none.
        next: Next,
    },
    /// The run is over, with this status.
    Done(Status),
    /// Step `step` is marked completed by a person, because of `reason`
    /// (no process ran; a later run skips it only while its print is
    /// unchanged, as if it had completed).
    Marked {
        /// The step's index.
        step: usize,
        /// What the person said.
        reason: String,
    },
    /// Run the job's `cleanup` (a person chose it); the state stays.
    Cleanup,
}

/// What a person decided about a step that failed for good or needs a
/// decision (the prompt's choices, or `--on-error`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Another attempt now, whatever the limit said.
    Retry,
    /// Mark it completed (with a reason) and go on with the next step.
    Skip(String),
    /// Leave it: the state stays at the step, status failed.
    Stop,
    /// Run the job's `cleanup`; the state stays at the step.
    Cleanup,
}

/// One run of a job.
#[derive(Debug, Clone)]
pub struct JobRun {
    /// What each step of the plan does.
    actions: Vec<Action>,
    /// The step reached (the state).
    pub state: usize,
    /// How it stands.
    pub status: Status,
    /// Attempts made at the step reached, in this run.
    pub attempts: u32,
    /// Attempts each step had in this run before it was resumed
    /// ([`JobRun::continued`]): numbered on from, and not counted against
    /// the step's limit — a person who resumes a failed step gives it its
    /// class's `max_attempts` again.
    tried: Vec<u32>,
    /// Asked to begin no further attempt ([`JobRun::interrupt`]).
    interrupting: bool,
}

impl JobRun {
    /// Begins a run of `plan` (from `resume::plan`): the skipped steps
    /// are reported, and the first one to run begins. A plan that runs
    /// nothing is completed at once.
    pub fn begin(plan: &[Planned], out: &mut Vec<Effect>) -> JobRun {
        JobRun::continued(plan, &[], out)
    }

    /// [`JobRun::begin`] for a run that goes on after it stopped (failed,
    /// cancelled, interrupted): `tried[k]` attempts were made at step `k`
    /// in it already, so the next is numbered `tried[k] + 1`.
    pub fn continued(plan: &[Planned], tried: &[u32], out: &mut Vec<Effect>) -> JobRun {
        let mut r = JobRun {
            actions: plan.iter().map(|p| p.action.clone()).collect(),
            state: 0,
            status: Status::Running,
            attempts: 0,
            tried: (0..plan.len())
                .map(|k| tried.get(k).copied().unwrap_or(0))
                .collect(),
            interrupting: false,
        };
        for (k, p) in plan.iter().enumerate() {
            if p.action == Action::Skip {
                out.push(Effect::Skipped {
                    step: k,
                    why: p.why.clone(),
                });
            }
        }
        r.advance_from(0, out);
        r
    }

    /// The first step from `k` on that runs begins; with none, the run
    /// is completed.
    fn advance_from(&mut self, k: usize, out: &mut Vec<Effect>) {
        match (k..self.actions.len()).find(|&s| self.actions[s] == Action::Run) {
            Some(_) if self.interrupting => self.interrupted(out),
            Some(s) => {
                self.state = s;
                self.attempts = self.before() + 1;
                self.status = Status::Running;
                out.push(Effect::Begin {
                    step: s,
                    attempt: self.attempts,
                });
            }
            None => {
                self.state = self.actions.len().saturating_sub(1);
                self.status = Status::Completed;
                out.push(Effect::Done(Status::Completed));
            }
        }
    }

    /// The running attempt of the step reached ended so.
    pub fn attempt_ended(
        &mut self,
        job: &Job,
        end: AttemptEnd,
        now: Instant,
        out: &mut Vec<Effect>,
    ) {
        if self.status != Status::Running {
            return; // a cancelled run's attempt, or a stale fact
        }
        let (step, attempt) = (self.state, self.attempts);
        match end {
            AttemptEnd::Succeeded => {
                out.push(Effect::Completed { step, attempt });
                self.advance_from(step + 1, out);
            }
            AttemptEnd::Failed { failure, tail } => {
                let s = &job.steps[step];
                let (class, why) = s.classify.classify(failure, &tail);
                let next = match self
                    .shifted(s.retry.after(attempt.saturating_sub(self.before()), class))
                {
                    // Interrupted: what follows is no further attempt.
                    Next::Retry { max, .. } if self.interrupting => Next::GiveUp {
                        attempts: attempt,
                        max,
                    },
                    next => next,
                };
                out.push(Effect::Failed {
                    step,
                    attempt,
                    class,
                    why,
                    next,
                });
                match next {
                    Next::Retry { delay, .. } if delay == Duration::ZERO => {
                        self.attempts += 1;
                        out.push(Effect::Begin {
                            step,
                            attempt: self.attempts,
                        });
                    }
                    Next::Retry { delay, .. } => {
                        self.status = Status::WaitingRetry { until: now + delay };
                    }
                    Next::GiveUp { .. } if self.interrupting => self.interrupted(out),
                    Next::GiveUp { .. } => {
                        self.status = Status::Failed;
                        out.push(Effect::Done(Status::Failed));
                    }
                }
            }
        }
    }

    /// Time passed: a retry that is due begins.
    pub fn tick(&mut self, now: Instant, out: &mut Vec<Effect>) {
        if let Status::WaitingRetry { until } = self.status
            && now >= until
        {
            self.status = Status::Running;
            self.attempts += 1;
            out.push(Effect::Begin {
                step: self.state,
                attempt: self.attempts,
            });
        }
    }

    /// A person decided about the step the run stopped at (status failed
    /// or needs_decision); ignored in any other status. Every choice is
    /// an effect the runtime records (the history says who chose what).
    pub fn decide(&mut self, decision: Decision, out: &mut Vec<Effect>) {
        if !matches!(self.status, Status::Failed | Status::NeedsDecision) {
            return;
        }
        let step = self.state;
        match decision {
            // As a resume: numbered on, with the step's limit again.
            Decision::Retry => {
                self.tried[step] = self.attempts;
                self.status = Status::Running;
                self.attempts += 1;
                out.push(Effect::Begin {
                    step,
                    attempt: self.attempts,
                });
            }
            Decision::Skip(reason) => {
                out.push(Effect::Marked { step, reason });
                self.advance_from(step + 1, out);
            }
            Decision::Stop => {
                self.status = Status::Failed;
                out.push(Effect::Done(Status::Failed));
            }
            Decision::Cleanup => {
                self.status = Status::Failed;
                out.push(Effect::Cleanup);
                out.push(Effect::Done(Status::Failed));
            }
        }
    }

    /// Attempts the step reached had before this run was resumed.
    fn before(&self) -> u32 {
        self.tried(self.state)
    }

    /// The attempts each step had before the run was last resumed, for
    /// the store: a new daemon rebuilds the run with them.
    pub fn tried_before(&self) -> &[u32] {
        &self.tried
    }

    /// Attempts step `k` had in this run before it was resumed: its
    /// limit this time is its class's `max_attempts` on top of them.
    pub fn tried(&self, k: usize) -> u32 {
        self.tried.get(k).copied().unwrap_or(0)
    }

    /// A retry decision about this go at the step, numbered as the run
    /// numbers its attempts.
    fn shifted(&self, next: Next) -> Next {
        let b = self.before();
        match next {
            Next::Retry {
                attempt,
                max,
                delay,
            } => Next::Retry {
                attempt: attempt + b,
                max: max + b,
                delay,
            },
            Next::GiveUp { attempts, max } => Next::GiveUp {
                attempts: attempts + b,
                max: max + b,
            },
        }
    }

    /// The person who ran it interrupted it (Ctrl-C on `harness run`):
    /// the attempt under way finishes and is recorded as it ends, but no
    /// further attempt begins — not the next step, not a retry. A run
    /// waiting for a retry is interrupted at once.
    pub fn interrupt(&mut self, out: &mut Vec<Effect>) {
        match self.status {
            Status::Running => self.interrupting = true,
            Status::WaitingRetry { .. } => self.interrupted(out),
            _ => {}
        }
    }

    fn interrupted(&mut self, out: &mut Vec<Effect>) {
        self.status = Status::Interrupted;
        out.push(Effect::Done(Status::Interrupted));
    }

    /// A run of `steps` steps as the store says it stood when the last
    /// daemon stopped: at step `state`, after `attempts` attempts at it,
    /// with `status`. The steps before the state are behind it; every one
    /// from it on runs (once a step runs, every later one does).
    /// `tried` is what [`JobRun::tried_before`] said then (empty: none).
    pub fn resumed(
        steps: usize,
        state: usize,
        attempts: u32,
        tried: &[u32],
        status: Status,
    ) -> JobRun {
        JobRun {
            actions: (0..steps)
                .map(|k| match k < state {
                    true => Action::Skip,
                    false => Action::Run,
                })
                .collect(),
            state,
            status,
            attempts,
            tried: (0..steps)
                .map(|k| tried.get(k).copied().unwrap_or(0))
                .collect(),
            interrupting: false,
        }
    }

    /// When the run wants a tick (a retry due).
    pub fn next_deadline(&self) -> Option<Instant> {
        match self.status {
            Status::WaitingRetry { until } => Some(until),
            _ => None,
        }
    }

    /// A person cancelled it: the state stays, the status is cancelled. A
    /// running attempt is stopped by the runtime and not counted as one.
    pub fn cancel(&mut self, out: &mut Vec<Effect>) {
        if self.status.is_final() {
            return;
        }
        if self.status == Status::Running {
            self.attempts = self.attempts.saturating_sub(1);
        }
        self.status = Status::Cancelled;
        out.push(Effect::Done(Status::Cancelled));
    }

    /// A new daemon found the attempt of the step reached recorded as
    /// started, with no end and no live process (it died with the host):
    /// an idempotent step simply runs again — the attempt cut short does
    /// not count — and any other waits for a person.
    pub fn attempt_lost(&mut self, job: &Job, out: &mut Vec<Effect>) {
        if self.status != Status::Running {
            return;
        }
        if job.steps[self.state].idempotent {
            out.push(Effect::Begin {
                step: self.state,
                attempt: self.attempts,
            });
        } else {
            self.status = Status::NeedsDecision;
            out.push(Effect::Done(Status::NeedsDecision));
        }
    }
}

/// The attempts each of `steps` (by name) had in a run, from how its
/// attempts ended — `(step, attempt number, outcome)`, in any order: the
/// highest number of one that completed or failed. A cancelled or
/// interrupted attempt did not count, and the next one took its number.
/// By name, not place: a file edited since may have moved a step.
pub fn attempts_made<'a>(
    steps: &[&str],
    ended: impl IntoIterator<Item = (&'a str, u32, super::runner::AttemptOutcome)>,
) -> Vec<u32> {
    use super::runner::AttemptOutcome;
    let mut made = vec![0; steps.len()];
    for (step, attempt, outcome) in ended {
        if !matches!(outcome, AttemptOutcome::Completed | AttemptOutcome::Failed) {
            continue;
        }
        if let Some(k) = steps.iter().position(|s| *s == step) {
            made[k] = made[k].max(attempt);
        }
    }
    made
}
