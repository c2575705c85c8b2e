//! Durations as written in `services.yaml`: integer seconds or humantime
//! strings ("250ms", "10s", "5m").

use std::time::Duration;

/// The longest duration harness accepts anywhere in the config. Anything
/// longer is almost certainly a unit mistake (milliseconds written as seconds).
pub const MAX_DURATION: Duration = Duration::from_secs(7 * 24 * 3600);

/// Parses a config duration. Returns a message fit for a config error.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if text.starts_with('-') {
        return Err(format!("duration `{text}` is negative"));
    }
    let parsed = if text.chars().all(|c| c.is_ascii_digit()) && !text.is_empty() {
        text.parse::<u64>()
            .map(Duration::from_secs)
            .map_err(|_| format!("duration `{text}` is too large"))?
    } else if let Ok(secs) = text.parse::<f64>() {
        if !secs.is_finite() || secs < 0.0 {
            return Err(format!(
                "duration `{text}` is not a valid number of seconds"
            ));
        }
        Duration::try_from_secs_f64(secs).map_err(|_| format!("duration `{text}` is too large"))?
    } else {
        humantime::parse_duration(text).map_err(|e| {
            format!(
                "invalid duration `{text}` ({e}); write seconds (10) or a unit (250ms, 10s, 5m)"
            )
        })?
    };
    if parsed > MAX_DURATION {
        return Err(format!(
            "duration `{text}` is longer than the maximum of 7 days"
        ));
    }
    Ok(parsed)
}

/// A number of seconds a client sent (`timeout_secs`), checked as the
/// config's durations are: never negative, NaN or past 7 days.
pub fn from_secs(secs: f64) -> Result<Duration, String> {
    match Duration::try_from_secs_f64(secs) {
        Ok(d) if d <= MAX_DURATION => Ok(d),
        _ => Err(format!(
            "{secs} is not a number of seconds from 0 to 604800 (7 days)"
        )),
    }
}

/// Formats a duration the way harness prints it: `3.2s`, `450ms`, `5m 23s`.
pub fn human(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        return format!("{ms}ms");
    }
    let secs = d.as_secs();
    if secs < 60 {
        return format!("{:.1}s", d.as_secs_f64());
    }
    compact(secs)
}

/// Formats whole seconds as `5m 23s`, `2h 15m`, `3d 4h`.
pub fn compact(secs: u64) -> String {
    let (d, h, m, s) = (secs / 86400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    if d > 0 {
        format!("{d}d {h}h")
    } else if h > 0 {
        format!("{h}h {m}m")
    } else if m > 0 {
        format!("{m}m {s}s")
    } else {
        format!("{s}s")
    }
}

/// "1s", "8s", "1m", "50ms": a backoff or window as people write it.
pub fn short(d: Duration) -> String {
    if d.subsec_millis() == 0 && d.as_secs() > 0 {
        compact(d.as_secs())
    } else if d.as_secs() == 0 {
        format!("{}ms", d.as_millis())
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_from_a_client_are_checked_like_the_configs() {
        assert_eq!(from_secs(2.5), Ok(Duration::from_millis(2500)));
        assert_eq!(from_secs(0.0), Ok(Duration::ZERO));
        for bad in [-5.0, f64::NAN, f64::INFINITY, 1e300, 604_801.0] {
            let e = from_secs(bad).unwrap_err();
            assert!(
                e.ends_with("is not a number of seconds from 0 to 604800 (7 days)"),
                "{e}"
            );
        }
    }

    #[test]
    fn parses_the_forms_users_write() {
        let cases = [
            ("10", Duration::from_secs(10)),
            ("0", Duration::ZERO),
            ("0.5", Duration::from_millis(500)),
            ("250ms", Duration::from_millis(250)),
            ("5m", Duration::from_secs(300)),
            ("1h 30m", Duration::from_secs(5400)),
        ];
        for (text, want) in cases {
            assert_eq!(parse_duration(text), Ok(want), "{text}");
        }
    }

    #[test]
    fn rejects_negative_absurd_and_garbage() {
        assert!(parse_duration("-1").unwrap_err().contains("negative"));
        assert!(parse_duration("-5s").unwrap_err().contains("negative"));
        assert!(parse_duration("999999999").unwrap_err().contains("maximum"));
        assert!(
            parse_duration("30 parsecs")
                .unwrap_err()
                .contains("invalid duration")
        );
    }

    #[test]
    fn formats_for_humans() {
        assert_eq!(human(Duration::from_millis(450)), "450ms");
        assert_eq!(human(Duration::from_millis(3200)), "3.2s");
        assert_eq!(human(Duration::from_secs(323)), "5m 23s");
        assert_eq!(compact(8100), "2h 15m");
    }
}
