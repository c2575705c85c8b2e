//! Automatic restarts: a service that ended on its own goes through its
//! policy ([`crate::restart_policy`]) into a backoff, a new run, or `failed`.

use super::history::HistoryState;
use super::io::{Action, HealthEvent, ProcessEnd, ServiceId};
use super::service::{Backoff, Engine, Phase, ProbeHealth, Verdict};
use super::spec::RunSpec;
use super::transition::Move;
use crate::duration::short;
use crate::restart_policy::Decision;
use std::time::{Duration, Instant};

/// How a run that nobody asked to stop ended.
pub(super) struct RunEnd {
    /// How its process ended.
    pub end: ProcessEnd,
    /// Why, for the history.
    pub why: String,
    /// harness stopped it for failing a probe: a failure whatever its
    /// exit.
    pub forced_failure: bool,
    /// When it started.
    pub since: Instant,
    /// Its health when it ended (`Starting`: it never came up).
    pub health: ProbeHealth,
}

impl Engine {
    /// Service `i`'s run ended without anyone asking: its policy decides
    /// between leaving it down, a backoff before the next run, and giving
    /// up on it.
    pub(super) fn ended_on_its_own(
        &mut self,
        i: usize,
        e: RunEnd,
        now: Instant,
        out: &mut Vec<Action>,
    ) {
        let cfg = &self.config.services[i];
        let failure = e.forced_failure
            || match e.end {
                ProcessEnd::Exited(code) => !cfg.success_exit_codes.contains(&code),
                ProcessEnd::Signaled(_)
                | ProcessEnd::Lost
                | ProcessEnd::NotSpawned
                | ProcessEnd::Unknown => true,
            };
        if !self.svcs[i].wanted {
            // It was being stopped (by a daemon that died meanwhile).
            self.svcs[i].verdict = Verdict::None;
            self.record(i, HistoryState::Stopped, e.why, None, out);
            return;
        }
        let policy = cfg.restart.clone();
        let ran_for = now.saturating_duration_since(e.since);
        let decision = self.svcs[i].tracker.on_end(&policy, failure, ran_for, now);
        match decision {
            Decision::Leave if e.health == ProbeHealth::Starting && failure => {
                self.fail_start(i, e.why, now, out);
            }
            Decision::Leave => {
                self.svcs[i].verdict = Verdict::Exited(e.end);
                let to = if failure {
                    HistoryState::Failed
                } else {
                    HistoryState::Exited
                };
                self.record(i, to, e.why, None, out);
            }
            Decision::Restart {
                delay,
                attempt,
                max,
            } => {
                let backoff = Backoff {
                    until: now + delay,
                    attempt,
                    max,
                };
                self.back_off(i, e, backoff, delay, out);
            }
            Decision::GiveUp => self.give_up(i, e, out),
        }
    }

    /// Waits out `backoff` before the next run.
    fn back_off(
        &mut self,
        i: usize,
        e: RunEnd,
        b: Backoff,
        delay: Duration,
        out: &mut Vec<Action>,
    ) {
        self.svcs[i].verdict = Verdict::Exited(e.end);
        let why = format!(
            "{}; restart {} in {}",
            e.why,
            attempt_of(b.attempt, b.max),
            short(delay)
        );
        self.apply(i, Move::BackOff(b));
        self.record(i, HistoryState::Restarting, why.clone(), None, out);
        out.push(health_event(i, HealthEvent::Ended(why)));
    }

    /// Restarted too often: failed until a person starts it.
    fn give_up(&mut self, i: usize, e: RunEnd, out: &mut Vec<Action>) {
        let policy = &self.config.services[i].restart;
        let why = format!(
            "exceeded maximum restart limit ({} in {}) - manual intervention required; last: {}",
            policy.max_restarts,
            short(policy.window),
            e.why
        );
        self.svcs[i].verdict = Verdict::GaveUp(e.end);
        self.record(i, HistoryState::Failed, why.clone(), None, out);
        out.push(health_event(i, HealthEvent::GaveUp(why)));
    }

    /// Spawns every restart whose backoff is over.
    pub(super) fn fire_restarts(&mut self, now: Instant, out: &mut Vec<Action>) {
        for i in 0..self.svcs.len() {
            let Phase::Backoff {
                until,
                attempt,
                max,
            } = self.svcs[i].phase
            else {
                continue;
            };
            if now < until {
                continue;
            }
            if !self.svcs[i].wanted {
                // A stop is under way: it ends the backoff, not a restart.
                self.apply(i, Move::CancelBackoff);
                continue;
            }
            let run = self.new_run();
            self.apply(i, Move::Spawn { run, restart: true });
            self.svcs[i].verdict = Verdict::None;
            let why = format!("restart {}", attempt_of(attempt, max));
            self.record(i, HistoryState::Starting, why, None, out);
            out.push(health_event(i, HealthEvent::Restarting { attempt, max }));
            // A restart runs again what ran: a new definition is taken by
            // a start or a deploy, never behind the user's back.
            let spec = self.svcs[i]
                .spec
                .clone()
                .unwrap_or_else(|| RunSpec::of(&self.config.services[i]));
            self.push_spawn_spec(i, run, spec, out);
        }
    }
}

pub(super) fn health_event(service: usize, event: HealthEvent) -> Action {
    Action::Health {
        service: ServiceId(service),
        event,
    }
}

/// "2/10", or "2" without a limit.
pub(super) fn attempt_of(attempt: u32, max: u32) -> String {
    if max == 0 {
        attempt.to_string()
    } else {
        format!("{attempt}/{max}")
    }
}
