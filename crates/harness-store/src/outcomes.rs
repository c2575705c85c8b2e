//! Outcomes: what the engine knows of each service apart from its process,
//! one row per service, and its mapping to and from the row's columns.

use crate::clock::{instant, wall_ns};
use crate::error::StoreError;
use crate::store::Store;
use harness_core::engine::{Backoff, Outcome, ProcessEnd, Verdict};
use harness_core::restart_policy::Tracker;
use rusqlite::{Connection, Row, params};

impl Store {
    /// What the engine knew of each service when the last daemon ran.
    pub fn outcomes(&self) -> Result<Vec<(String, Outcome)>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT service, mark, detail, timeout_ms, mark_code, mark_signal,
                    last_code, last_signal, wanted, restart_streak, restarts_total,
                    restart_times_ns, backoff_until_ns, backoff_attempt, backoff_max,
                    mark_end_kind, last_end_kind, drift
             FROM outcomes",
        )?;
        let rows = stmt.query_map([], outcome_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

/// One row of the SELECT in [`Store::outcomes`]; the column numbers are
/// its order.
fn outcome_row(r: &Row) -> rusqlite::Result<(String, Outcome)> {
    let verdict = verdict(r)?;
    Ok((
        r.get::<_, String>(0)?,
        Outcome {
            verdict,
            last_end: end(r.get(6)?, r.get(7)?, r.get(16)?),
            wanted: r.get(8)?,
            restarts: restarts(r)?,
            backoff: backoff(r)?,
            drift: r.get(17)?,
        },
    ))
}

/// The verdict (stored in the `mark*` columns); an unknown one, or an
/// exited or gave-up verdict without its end, reads as none.
fn verdict(r: &Row) -> rusqlite::Result<Verdict> {
    let detail: String = r.get(2)?;
    let mark_end = end(r.get(4)?, r.get(5)?, r.get(15)?);
    Ok(match r.get::<_, String>(1)?.as_str() {
        "failed" => Verdict::Failed(detail),
        "blocked" => Verdict::Blocked(detail),
        "timed_out" => Verdict::TimedOut(std::time::Duration::from_millis(
            r.get::<_, Option<i64>>(3)?.unwrap_or(0) as u64,
        )),
        "exited" => mark_end.map(Verdict::Exited).unwrap_or_default(),
        "gave_up" => mark_end.map(Verdict::GaveUp).unwrap_or_default(),
        _ => Verdict::None,
    })
}

/// The restart policy's memory. The recent restarts are a comma-separated
/// list of wall-clock ns (`''` for none, which parses to nothing); a time
/// that cannot be an `Instant` here is dropped.
fn restarts(r: &Row) -> rusqlite::Result<Tracker> {
    Ok(Tracker::from_parts(
        r.get(9)?,
        r.get(10)?,
        r.get::<_, String>(11)?
            .split(',')
            .filter_map(|t| instant(t.parse().ok()?)),
    ))
}

/// A restart that is due: all three columns or none, and none if its time
/// cannot be an `Instant` here.
fn backoff(r: &Row) -> rusqlite::Result<Option<Backoff>> {
    Ok(
        match (r.get::<_, Option<i64>>(12)?, r.get(13)?, r.get(14)?) {
            (Some(until), Some(attempt), Some(max)) => instant(until).map(|until| Backoff {
                until,
                attempt,
                max,
            }),
            _ => None,
        },
    )
}

/// Stores `service`'s outcome in place of its last one.
pub(crate) fn save(conn: &Connection, service: &str, outcome: &Outcome) -> Result<(), StoreError> {
    let (kind, detail, timeout_ms, mark_end) = verdict_columns(&outcome.verdict);
    let (mc, ms, mk) = columns(mark_end);
    let (lc, ls, lk) = columns(outcome.last_end);
    let r = &outcome.restarts;
    let times: Vec<String> = r.recent().map(|t| wall_ns(t).to_string()).collect();
    let b = outcome.backoff;
    conn.execute(
        "INSERT OR REPLACE INTO outcomes
           (service, mark, detail, timeout_ms, mark_code, mark_signal,
            last_code, last_signal, wanted, restart_streak, restarts_total,
            restart_times_ns, backoff_until_ns, backoff_attempt, backoff_max,
            mark_end_kind, last_end_kind, drift)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15,
                 ?16, ?17, ?18)",
        params![
            service,
            kind,
            detail,
            timeout_ms,
            mc,
            ms,
            lc,
            ls,
            outcome.wanted,
            r.streak,
            r.total,
            times.join(","),
            b.map(|b| wall_ns(b.until)),
            b.map(|b| b.attempt),
            b.map(|b| b.max),
            mk,
            lk,
            outcome.drift
        ],
    )?;
    Ok(())
}

/// A verdict as (mark, detail, timeout_ms) columns and the process end it
/// carries, which goes in the `mark_*` end columns.
fn verdict_columns(verdict: &Verdict) -> (&'static str, &str, Option<i64>, Option<ProcessEnd>) {
    match verdict {
        Verdict::None => ("none", "", None, None),
        Verdict::Failed(d) => ("failed", d.as_str(), None, None),
        Verdict::Blocked(d) => ("blocked", d.as_str(), None, None),
        Verdict::TimedOut(t) => ("timed_out", "", Some(t.as_millis() as i64), None),
        Verdict::Exited(e) => ("exited", "", None, Some(*e)),
        Verdict::GaveUp(e) => ("gave_up", "", None, Some(*e)),
    }
}

/// A process end as (exit code, signal, kind) columns; the kind names the
/// ends that have neither (schema 4).
fn columns(end: Option<ProcessEnd>) -> (Option<i32>, Option<i32>, Option<&'static str>) {
    match end {
        Some(ProcessEnd::Exited(c)) => (Some(c), None, None),
        Some(ProcessEnd::Signaled(s)) => (None, Some(s), None),
        Some(ProcessEnd::Lost) => (None, None, Some("lost")),
        Some(ProcessEnd::NotSpawned) => (None, None, Some("not_spawned")),
        Some(ProcessEnd::Unknown) => (None, None, Some("unknown")),
        None => (None, None, None),
    }
}

/// The process end that [`columns`] stored (which sets at most one of the
/// three).
fn end(code: Option<i32>, signal: Option<i32>, kind: Option<String>) -> Option<ProcessEnd> {
    match (code, signal, kind.as_deref()) {
        (Some(c), _, _) => Some(ProcessEnd::Exited(c)),
        (None, Some(s), _) => Some(ProcessEnd::Signaled(s)),
        (None, None, Some("lost")) => Some(ProcessEnd::Lost),
        (None, None, Some("not_spawned")) => Some(ProcessEnd::NotSpawned),
        (None, None, Some("unknown")) => Some(ProcessEnd::Unknown),
        (None, None, _) => None,
    }
}

#[cfg(test)]
mod tests {
    use crate::{Store, Write};
    use harness_core::engine::{Backoff, Outcome, ProcessEnd, Verdict};
    use harness_core::restart_policy::Tracker;
    use std::time::{Duration, Instant};

    /// Every verdict, every kind of process end, and (last, since its times
    /// come back only near what went in) restart memory with a due restart.
    fn every_shape(now: Instant) -> [Outcome; 9] {
        let secs = Duration::from_secs;
        [
            Outcome::default(),
            Outcome {
                verdict: Verdict::Failed("exit code 1".into()),
                last_end: Some(ProcessEnd::Exited(1)),
                wanted: true,
                ..Outcome::default()
            },
            Outcome {
                verdict: Verdict::Blocked("dependency failed: api".into()),
                last_end: None,
                wanted: true,
                ..Outcome::default()
            },
            Outcome {
                verdict: Verdict::TimedOut(std::time::Duration::from_secs(300)),
                last_end: Some(ProcessEnd::Signaled(9)),
                wanted: true,
                ..Outcome::default()
            },
            Outcome {
                verdict: Verdict::GaveUp(ProcessEnd::Exited(3)),
                last_end: Some(ProcessEnd::Exited(3)),
                wanted: true,
                ..Outcome::default()
            },
            Outcome {
                verdict: Verdict::Exited(ProcessEnd::Signaled(11)),
                last_end: Some(ProcessEnd::Signaled(11)),
                wanted: false,
                ..Outcome::default()
            },
            Outcome {
                verdict: Verdict::Exited(ProcessEnd::Lost),
                last_end: Some(ProcessEnd::Lost),
                wanted: true,
                ..Outcome::default()
            },
            Outcome {
                verdict: Verdict::GaveUp(ProcessEnd::NotSpawned),
                last_end: Some(ProcessEnd::NotSpawned),
                wanted: true,
                ..Outcome::default()
            },
            Outcome {
                verdict: Verdict::Exited(ProcessEnd::Exited(1)),
                last_end: Some(ProcessEnd::Exited(1)),
                wanted: true,
                restarts: Tracker::from_parts(3, 7, [now - secs(50), now - secs(20), now]),
                backoff: Some(Backoff {
                    until: now + secs(4),
                    attempt: 3,
                    max: 10,
                }),
                drift: Some("deploy 4 failed: exit code 7; reverted".into()),
            },
        ]
    }

    #[test]
    fn outcomes_survive_reopen_in_every_shape() {
        let now = Instant::now();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        let shapes = every_shape(now);
        let writes: Vec<Write> = shapes
            .iter()
            .enumerate()
            .map(|(i, o)| Write::Outcome {
                service: format!("s{i}"),
                outcome: o.clone(),
            })
            .collect();
        Store::open(&path).unwrap().apply(&writes).unwrap();
        let mut back = Store::open(&path).unwrap().outcomes().unwrap();
        back.sort_by(|a, b| a.0.cmp(&b.0));
        let mut back: Vec<Outcome> = back.into_iter().map(|(_, o)| o).collect();
        // Times go through the wall clock: equal to within a millisecond.
        let near = |a: Instant, b: Instant| a.max(b) - a.min(b) < Duration::from_millis(1);
        let (got, want) = (back.last_mut().unwrap(), shapes.last().unwrap());
        let (g, w) = (got.backoff.unwrap(), want.backoff.unwrap());
        assert!(near(g.until, w.until), "{g:?} {w:?}");
        assert!(
            got.restarts
                .recent()
                .zip(want.restarts.recent())
                .all(|(g, w)| near(g, w))
        );
        assert_eq!(got.restarts.recent().count(), 3);
        got.backoff = want.backoff;
        got.restarts = want.restarts.clone();
        assert_eq!(back, shapes);
    }
}
