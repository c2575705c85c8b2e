//! Startup timeout precedence: `--timeout` flag > service `startup_timeout`
//! > `settings.startup_timeout` > 300 s.

use std::time::Duration;

/// The built-in startup timeout when nothing else is configured.
pub const DEFAULT_STARTUP_TIMEOUT: Duration = Duration::from_secs(300);

/// Picks the startup timeout that applies to one service.
pub fn startup_timeout(
    flag: Option<Duration>,
    service: Option<Duration>,
    settings: Option<Duration>,
) -> Duration {
    flag.or(service)
        .or(settings)
        .unwrap_or(DEFAULT_STARTUP_TIMEOUT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precedence_table() {
        let s = Duration::from_secs;
        let rows = [
            (Some(s(1)), Some(s(2)), Some(s(3)), s(1)),
            (None, Some(s(2)), Some(s(3)), s(2)),
            (None, None, Some(s(3)), s(3)),
            (None, None, None, s(300)),
            (Some(s(1)), None, None, s(1)),
        ];
        for (flag, svc, settings, want) in rows {
            assert_eq!(startup_timeout(flag, svc, settings), want);
        }
    }
}
