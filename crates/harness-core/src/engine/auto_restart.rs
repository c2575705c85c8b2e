//! Automatic restarts: a service that ended on its own goes through its
//! policy ([`crate::restart_policy`]) into a backoff, a new run, or `failed`.

use super::history::HistoryState;
use super::io::{Action, HealthEvent, ProcessEnd, ServiceId};
use super::service::{Backoff, Engine, Phase, ProbeHealth, Verdict};
use super::transition::Move;
use crate::duration::compact;
use crate::restart_policy::Decision;
use std::time::Instant;

impl Engine {
    /// Service `i`'s run, up since `since`, ended without anyone asking.
    #[expect(
        clippy::too_many_arguments,
        reason = "the facts of one end; two call sites"
    )]
    pub(super) fn ended_on_its_own(
        &mut self,
        i: usize,
        end: ProcessEnd,
        why: String,
        forced_failure: bool,
        since: Instant,
        health: ProbeHealth,
        now: Instant,
        out: &mut Vec<Action>,
    ) {
        let cfg = &self.config.services[i];
        let failure = forced_failure
            || match end {
                ProcessEnd::Exited(code) => !cfg.success_exit_codes.contains(&code),
                ProcessEnd::Signaled(_) | ProcessEnd::Lost | ProcessEnd::NotSpawned => true,
            };
        let ran_for = now.saturating_duration_since(since);
        let decision = if self.svcs[i].wanted {
            let policy = cfg.restart.clone();
            self.svcs[i].tracker.on_end(&policy, failure, ran_for, now)
        } else {
            Decision::Leave
        };
        let svc = &mut self.svcs[i];
        if !svc.wanted {
            // It was being stopped (by a daemon that died meanwhile).
            svc.verdict = Verdict::None;
            self.record(i, HistoryState::Stopped, why, None, out);
            return;
        }
        match decision {
            Decision::Leave if health == ProbeHealth::Starting && failure => {
                self.fail_start(i, why, now, out);
            }
            Decision::Leave => {
                svc.verdict = Verdict::Exited(end);
                let to = if failure {
                    HistoryState::Failed
                } else {
                    HistoryState::Exited
                };
                self.record(i, to, why, None, out);
            }
            Decision::Restart {
                delay,
                attempt,
                max,
            } => {
                svc.verdict = Verdict::Exited(end);
                let until = now + delay;
                self.apply(
                    i,
                    Move::BackOff(Backoff {
                        until,
                        attempt,
                        max,
                    }),
                );
                let why = format!(
                    "{why}; restart {} in {}",
                    attempt_of(attempt, max),
                    short(delay)
                );
                self.record(i, HistoryState::Restarting, why.clone(), None, out);
                out.push(health_event(i, HealthEvent::Ended(why)));
            }
            Decision::GiveUp => {
                svc.verdict = Verdict::GaveUp(end);
                let why = format!(
                    "exceeded maximum restart limit ({} in {}) - manual intervention required; last: {}",
                    cfg.restart.max_restarts,
                    short(cfg.restart.window),
                    why
                );
                self.record(i, HistoryState::Failed, why.clone(), None, out);
                out.push(health_event(i, HealthEvent::GaveUp(why)));
            }
        }
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
            self.push_spawn(i, run, out);
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

/// "1s", "8s", "1m", "50ms": a backoff or window as people write it.
fn short(d: std::time::Duration) -> String {
    if d.subsec_millis() == 0 && d.as_secs() > 0 {
        compact(d.as_secs())
    } else if d.as_secs() == 0 {
        format!("{}ms", d.as_millis())
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}
