//! Carrying out a job's run's actions ([`JobAction`]): each attempt's
//! row written `started` (and made durable) before its spawn, its end
//! written with its class once known, then its process forgotten; a
//! failed attempt's declared outputs removed; where the run stands kept in
//! `job_runs`; every event streamed to whoever follows the run.

use super::Supervisor;
use crate::job_record::next_action;
use harness_api::{JobDone, JobEvent, StepEvent, StepStatus};
use harness_core::engine::{Input, ProcessEnd, RunId, UnitId};
use harness_core::job::classify::Class;
use harness_core::job::retry::Next;
use harness_core::job::run::{Effect, Status};
use harness_core::job::runner::{AttemptOutcome, JobAction};
use harness_store::{AttemptEndRow, AttemptRow, RunStands, Write};
use std::time::Instant;

impl Supervisor {
    /// Carries out a run's actions, in order, then records where it stands.
    pub(super) fn carry_job(&mut self, name: &str, actions: Vec<JobAction>) {
        // An attempt whose row is not on disk is never spawned: a daemon
        // killed next would not know it ran.
        let mut unconfirmed = false;
        for action in actions {
            match action {
                JobAction::Record(effect) => self.job_effect(name, effect),
                JobAction::Started { step, attempt, run } => {
                    self.attempt_started(name, step, attempt, run)
                }
                JobAction::Persist => {
                    // Where the run stands goes with the attempt's row: a
                    // new daemon must find the run at the attempt's step.
                    self.record_stands(name);
                    unconfirmed = !self.store.flush(super::deploys::RECORD_LIMIT);
                    if unconfirmed {
                        tracing::error!(job = %name, "the state database did not confirm an attempt's record in time; it is not started");
                    }
                }
                JobAction::Spawn { run, .. } if unconfirmed => {
                    let _ = self.tx.send(super::Msg::StepFact {
                        job: name.to_string(),
                        fact: super::jobs::StepFact::SpawnFailed {
                            run,
                            reason: "not started: the state database did not confirm its record"
                                .into(),
                        },
                    });
                }
                JobAction::Spawn { step, run } => self.spawn_step(name, step, run),
                JobAction::Ended {
                    run,
                    outcome,
                    end,
                    tail,
                    class,
                } => self.attempt_ended(name, run, outcome, end, tail, class),
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
        self.record_stands(name);
        self.start_held(name);
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
        class: Option<(Class, u32)>,
    ) {
        let Some(slot) = self.jobs.slots.get_mut(name) else {
            return;
        };
        let Some(&(step, attempt)) = slot.attempts.get(&run) else {
            return;
        };
        if outcome == AttemptOutcome::Failed {
            // Told with the run's `Failed` effect, which says what follows.
            slot.failed = Some((end, tail.clone()));
        }
        self.record_end(name, run, outcome, end, tail, class);
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
        let (exit_code, signal) = (end.code().map(i64::from), end.signal().map(i64::from));
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
                if let Some((end, tail)) = failed {
                    if let ProcessEnd::Exited(c) = end {
                        exit_code = Some(c);
                    }
                    error = (!tail.is_empty()).then_some(tail);
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
        self.store.send(Write::JobRunTried {
            job: name.to_string(),
            run: slot.run,
            tried: m.tried_before().to_vec(),
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
