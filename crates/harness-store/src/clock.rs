//! The engine's times are `Instant`s, which mean nothing to another
//! process; the store keeps them as wall-clock nanoseconds, converted with
//! fresh readings of both clocks each time (the monotonic clock stops
//! while the machine sleeps, so an old pair would drift). The engine
//! clamps what comes back ([`harness_core::engine::Engine::restore`]).

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Both clocks, read now: a fresh pair for every conversion.
fn clocks() -> (Instant, i64) {
    let wall = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as i64)
        .unwrap_or(0);
    (Instant::now(), wall)
}

/// `t` as wall-clock nanoseconds since the Unix epoch, as stored.
pub(crate) fn wall_ns(t: Instant) -> i64 {
    let (mono, wall) = clocks();
    match t.checked_duration_since(mono) {
        Some(after) => wall.saturating_add(after.as_nanos() as i64),
        None => wall.saturating_sub(mono.duration_since(t).as_nanos() as i64),
    }
}

/// A stored time back as an `Instant`; `None` when the time cannot be an
/// `Instant` here (too far back).
pub(crate) fn instant(ns: i64) -> Option<Instant> {
    let (mono, wall) = clocks();
    if ns >= wall {
        mono.checked_add(Duration::from_nanos((ns - wall) as u64))
    } else {
        mono.checked_sub(Duration::from_nanos(wall.saturating_sub(ns) as u64))
    }
}
