//! When to probe next: fast while a service starts, at `interval` after.

use crate::config::HealthCheck;
use std::time::Duration;

/// First probe delay while starting; each later one grows by half.
const FAST_FIRST: Duration = Duration::from_millis(2);
/// Cap of the start-up cadence for probes that spawn nothing (tcp, http).
const FAST_CAP_CHEAP: Duration = Duration::from_millis(10);
/// Cap of the start-up cadence for command probes (each one forks).
const FAST_CAP_COMMAND: Duration = Duration::from_millis(100);

/// Delay before probe number `attempts + 1` of a service that is not yet
/// healthy: 2 ms, 3 ms, 4.5 ms … up to 10 ms (tcp/http) or 100 ms (command),
/// never more than `interval`. This is how a dependency that opens its port
/// is noticed within milliseconds, while docker compose waits for `interval`.
pub fn startup_delay(check: &HealthCheck, attempts: u32) -> Duration {
    let cap = if check.probe.is_cheap() {
        FAST_CAP_CHEAP
    } else {
        FAST_CAP_COMMAND
    }
    .min(check.interval);
    let grown = FAST_FIRST.as_secs_f64() * 1.5f64.powi(attempts.min(30) as i32);
    Duration::from_secs_f64(grown).min(cap)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Probe;

    fn check(probe: Probe, interval_ms: u64) -> HealthCheck {
        HealthCheck {
            probe,
            start_period: Duration::ZERO,
            interval: Duration::from_millis(interval_ms),
            timeout: Duration::from_secs(1),
            retries: 3,
        }
    }

    #[test]
    fn grows_from_two_ms_to_the_cap() {
        let tcp = check(Probe::Tcp("127.0.0.1:1".into()), 5000);
        let delays: Vec<u128> = (0..8).map(|n| startup_delay(&tcp, n).as_micros()).collect();
        assert_eq!(delays, [2000, 3000, 4500, 6750, 10000, 10000, 10000, 10000]);
        let cmd = check(Probe::Command("true".into()), 5000);
        assert_eq!(startup_delay(&cmd, 20), Duration::from_millis(100));
    }

    #[test]
    fn never_slower_than_interval() {
        let tcp = check(Probe::Tcp("127.0.0.1:1".into()), 1);
        assert_eq!(startup_delay(&tcp, 10), Duration::from_millis(1));
    }
}
