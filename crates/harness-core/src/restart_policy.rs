//! Automatic restart (seed 004): whether a service that ended on its own is
//! started again, after how long, and when harness gives up on it. Pure:
//! time comes in as a value.
//!
//! - A **failure** is an exit code outside `success_exit_codes` or a death
//!   by a signal harness did not send. `on-failure` restarts after a
//!   failure, `always` after any end harness did not ask for, `never` not.
//! - The delay is `min(initial × 2^(n-1), max)` — 1, 2, 4, 8, 16, 32, 60 s
//!   with the defaults — where `n` counts consecutive restarts whose run
//!   died before `min_uptime`. A run that stays up `min_uptime` ends the
//!   streak, so its next failure waits `initial` again. A crash loop never
//!   resets `n`.
//! - At most `max_restarts` automatic restarts happen within any `window`;
//!   the next one is refused and the service is given up on (`failed`)
//!   until a person starts it.

use crate::config::{Restart, RestartPolicy};
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// What to do about a service that ended on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Leave it stopped (the policy does not restart this end).
    Leave,
    /// Start it again after `delay`; `attempt` of `max` within the window
    /// (`max` 0: no limit).
    Restart {
        /// Backoff before the spawn.
        delay: Duration,
        /// Restarts within the window, this one included.
        attempt: u32,
        /// The limit.
        max: u32,
    },
    /// The limit is reached: given up on until a person starts it.
    GiveUp,
}

/// A service's restart bookkeeping.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tracker {
    /// Consecutive restarts whose run died before `min_uptime` (`n`).
    pub streak: u32,
    /// When the automatic restarts within the window were decided.
    recent: VecDeque<Instant>,
    /// Automatic restarts since a person last started the service.
    pub total: u32,
}

/// `min(initial × 2^(n-1), max)`, for `n` ≥ 1, with the policy's
/// `initial` and `max`.
pub fn backoff(policy: &Restart, n: u32) -> Duration {
    doubling(policy.backoff_initial, policy.backoff_max, n)
}

/// `min(initial × 2^(n-1), max)`, for `n` ≥ 1: the one backoff of
/// restarts and of a job's retries.
pub fn doubling(initial: Duration, max: Duration, n: u32) -> Duration {
    let factor = 2u32.saturating_pow(n.saturating_sub(1).min(31));
    initial.saturating_mul(factor).min(max)
}

impl Tracker {
    /// A run ended on its own after `ran_for`; `failure` says whether the
    /// end counts as a failure.
    pub fn on_end(
        &mut self,
        policy: &Restart,
        failure: bool,
        ran_for: Duration,
        now: Instant,
    ) -> Decision {
        let stable = ran_for >= policy.min_uptime;
        let wanted = match policy.policy {
            RestartPolicy::Never => false,
            RestartPolicy::OnFailure => failure,
            RestartPolicy::Always => true,
        };
        if !wanted {
            if stable {
                self.streak = 0;
            }
            return Decision::Leave;
        }
        while self
            .recent
            .front()
            .is_some_and(|&t| now.saturating_duration_since(t) >= policy.window)
        {
            self.recent.pop_front();
        }
        if policy.max_restarts > 0 && self.recent.len() as u32 >= policy.max_restarts {
            return Decision::GiveUp;
        }
        self.streak = if stable { 1 } else { self.streak + 1 };
        self.recent.push_back(now);
        self.total += 1;
        Decision::Restart {
            delay: backoff(policy, self.streak),
            attempt: self.recent.len() as u32,
            max: policy.max_restarts,
        }
    }

    /// A tracker as saved earlier: streak, total, and the times of the
    /// restarts still in the window (oldest first).
    pub fn from_parts(
        streak: u32,
        total: u32,
        recent: impl IntoIterator<Item = Instant>,
    ) -> Tracker {
        Tracker {
            streak,
            recent: recent.into_iter().collect(),
            total,
        }
    }

    /// When the restarts counted in the window happened, oldest first.
    pub fn recent(&self) -> impl Iterator<Item = Instant> + '_ {
        self.recent.iter().copied()
    }

    /// A person started the service: a clean slate.
    pub fn reset(&mut self) {
        *self = Tracker::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    /// Crashes `ran` after each (re)start; returns each decision.
    fn crash_loop(policy: &Restart, runs: usize, ran: Duration) -> Vec<Decision> {
        let mut t = Tracker::default();
        let mut now = Instant::now();
        let mut out = Vec::new();
        for _ in 0..runs {
            now += ran;
            let d = t.on_end(policy, true, ran, now);
            if let Decision::Restart { delay, .. } = d {
                now += delay;
            }
            out.push(d);
        }
        out
    }

    #[test]
    fn the_seed_schedule_doubles_from_1s_and_caps_at_60s() {
        let p = Restart::default();
        let delays: Vec<u64> = (1..=9).map(|n| backoff(&p, n).as_secs()).collect();
        assert_eq!(delays, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
        assert_eq!(backoff(&p, 1000), secs(60), "no overflow");
        let zero = Restart {
            backoff_initial: Duration::ZERO,
            ..Restart::default()
        };
        assert_eq!(backoff(&zero, 5), Duration::ZERO);
    }

    #[test]
    fn a_crash_loop_backs_off_and_gives_up_after_10_in_10_minutes() {
        let p = Restart::default();
        let decisions = crash_loop(&p, 11, secs(1));
        let table: Vec<(u64, u32)> = decisions[..10]
            .iter()
            .map(|d| match d {
                Decision::Restart { delay, attempt, .. } => (delay.as_secs(), *attempt),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(
            table,
            [
                (1, 1),
                (2, 2),
                (4, 3),
                (8, 4),
                (16, 5),
                (32, 6),
                (60, 7),
                (60, 8),
                (60, 9),
                (60, 10)
            ]
        );
        // 10 restarts took 1+2+4+…+60 s plus 1 s runs: well inside 10 min.
        assert_eq!(decisions[10], Decision::GiveUp);
    }

    #[test]
    fn the_window_slides_restarts_spread_out_never_give_up() {
        let p = Restart {
            backoff_max: secs(1),
            ..Restart::default()
        };
        // One crash every 2 minutes: at most 5 in any 10 minutes.
        let mut t = Tracker::default();
        let mut now = Instant::now();
        for i in 0..30 {
            now += secs(120);
            match t.on_end(&p, true, secs(1), now) {
                Decision::Restart { attempt, .. } => assert!(attempt <= 6, "run {i}"),
                other => panic!("run {i}: {other:?}"),
            }
        }
        assert_eq!(t.total, 30);
    }

    #[test]
    fn a_stable_run_resets_the_backoff_a_crash_loop_does_not() {
        let p = Restart::default();
        let mut t = Tracker::default();
        let now = Instant::now();
        let delay = |d: Decision| match d {
            Decision::Restart { delay, .. } => delay.as_secs(),
            other => panic!("{other:?}"),
        };
        //              ran for          → delay
        let table = [
            (secs(1), 1),   // crash loop: n = 1
            (secs(5), 2),   // died before min uptime: n = 2
            (secs(9), 4),   // still a loop: n = 3
            (secs(10), 1),  // stayed up 10 s: streak over, n = 1
            (secs(0), 2),   // and the loop counts again
            (secs(600), 1), // long stable run
        ];
        for (i, (ran, want)) in table.into_iter().enumerate() {
            let at = now + secs(1000 * i as u64);
            assert_eq!(delay(t.on_end(&p, true, ran, at)), want, "row {i}");
        }
    }

    #[test]
    fn policies_decide_which_ends_restart() {
        let at = Instant::now();
        let p = |policy| Restart {
            policy,
            ..Restart::default()
        };
        let restarts = |policy, failure| {
            matches!(
                Tracker::default().on_end(&p(policy), failure, secs(60), at),
                Decision::Restart { .. }
            )
        };
        use RestartPolicy::*;
        let table = [
            (OnFailure, true, true),
            (OnFailure, false, false),
            (Always, true, true),
            (Always, false, true),
            (Never, true, false),
            (Never, false, false),
        ];
        for (policy, failure, want) in table {
            assert_eq!(
                restarts(policy, failure),
                want,
                "{policy:?} failure={failure}"
            );
        }
    }

    #[test]
    fn no_limit_with_max_restarts_0_and_reset_clears_everything() {
        let p = Restart {
            max_restarts: 0,
            backoff_initial: Duration::ZERO,
            ..Restart::default()
        };
        let decisions = crash_loop(&p, 50, Duration::ZERO);
        assert!(
            decisions
                .iter()
                .all(|d| matches!(d, Decision::Restart { .. }))
        );
        let mut t = Tracker::default();
        let limited = Restart {
            max_restarts: 1,
            ..Restart::default()
        };
        let now = Instant::now();
        assert!(matches!(
            t.on_end(&limited, true, secs(0), now),
            Decision::Restart { .. }
        ));
        assert_eq!(t.on_end(&limited, true, secs(0), now), Decision::GiveUp);
        t.reset();
        assert_eq!(t, Tracker::default());
        assert!(matches!(
            t.on_end(&limited, true, secs(0), now),
            Decision::Restart { .. }
        ));
    }
}
