//! After a failed attempt: another attempt at once, one after a backoff,
//! or none (the step stays failed until a person acts). `max_attempts` is
//! the number of attempts in all, the first one included — 3 means one
//! try and two retries, never four (Argo's `limit: 3` means four).

use super::classify::Class;
use std::time::Duration;

/// The policy of one class of failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClassRetry {
    /// Attempts in all, the first included (at least 1).
    pub max_attempts: u32,
    /// The wait before the second attempt; doubled for each one after.
    pub backoff_initial: Duration,
    /// The longest wait.
    pub backoff_max: Duration,
}

/// A step's `retry:`: one policy per class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    /// Transient failures: 3 attempts, 1 s doubling to 1 min, by default.
    pub transient: ClassRetry,
    /// Persistent failures: 1 attempt (no retry) by default.
    pub persistent: ClassRetry,
}

impl Default for Retry {
    fn default() -> Retry {
        Retry {
            transient: ClassRetry {
                max_attempts: 3,
                backoff_initial: Duration::from_secs(1),
                backoff_max: Duration::from_secs(60),
            },
            persistent: ClassRetry {
                max_attempts: 1,
                backoff_initial: Duration::ZERO,
                backoff_max: Duration::ZERO,
            },
        }
    }
}

/// What follows a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Attempt `attempt` (of `max`) after `delay`.
    Retry {
        /// The attempt's number, 1 for the first.
        attempt: u32,
        /// Attempts in all.
        max: u32,
        /// The wait before it.
        delay: Duration,
    },
    /// No further attempt on its own: `attempts` of `max` were made.
    GiveUp {
        /// Attempts made at this step in this run.
        attempts: u32,
        /// The limit of the class of the last failure.
        max: u32,
    },
}

impl Retry {
    /// The policy of `class`.
    pub fn of(&self, class: Class) -> ClassRetry {
        match class {
            Class::Transient => self.transient,
            Class::Persistent => self.persistent,
        }
    }

    /// After the `attempts`-th attempt at a step (1 for the first) failed
    /// with `class`. Attempts count against the limit of the class of the
    /// failure that ends them, whatever the classes of the earlier ones.
    pub fn after(&self, attempts: u32, class: Class) -> Next {
        let p = self.of(class);
        let max = p.max_attempts.max(1);
        if attempts >= max {
            return Next::GiveUp { attempts, max };
        }
        // The wait before attempt n+1 is initial × 2^(n-1), as restarts'.
        Next::Retry {
            attempt: attempts + 1,
            max,
            delay: crate::restart_policy::doubling(p.backoff_initial, p.backoff_max, attempts),
        }
    }
}
