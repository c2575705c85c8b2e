//! # harness-store: `.harness/state.db`
//!
//! Theory of operation: SQLite in WAL mode holds what must outlive the
//! daemon. `runs` has one row per service that has a process: the shim's
//! and the service's pid *and process start time*, so a new daemon
//! re-attaches to exactly those processes and never to a reused pid.
//! `outcomes` has what the engine knows of each service apart from its
//! process (failed, blocked, last exit, wanted up, the restart policy's
//! streak, window and total, a restart that is due). `history` is the
//! append-only log of every state transition with its reason. The schema is
//! versioned in `meta`; opening an older database migrates it forward.

mod project;
pub use project::{CONFIG_NAMES, Project};

use harness_core::engine::{Backoff, Mark, Outcome, ProcessEnd};
use harness_core::restart::Tracker;
use rusqlite::{Connection, OptionalExtension, params};
use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The engine's times are `Instant`s, which mean nothing to another
/// process; the store keeps them as wall-clock nanoseconds, converted with
/// fresh readings of both clocks each time (the monotonic clock stops
/// while the machine sleeps, so an old pair would drift). The engine
/// clamps what comes back ([`harness_core::engine::Engine::restore`]).
fn clocks() -> (Instant, i64) {
    let wall = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as i64)
        .unwrap_or(0);
    (Instant::now(), wall)
}

fn wall_ns(t: Instant) -> i64 {
    let (mono, wall) = clocks();
    match t.checked_duration_since(mono) {
        Some(after) => wall.saturating_add(after.as_nanos() as i64),
        None => wall.saturating_sub(mono.duration_since(t).as_nanos() as i64),
    }
}

/// `None` when the time cannot be an `Instant` here (too far back).
fn instant(ns: i64) -> Option<Instant> {
    let (mono, wall) = clocks();
    if ns >= wall {
        mono.checked_add(Duration::from_nanos((ns - wall) as u64))
    } else {
        mono.checked_sub(Duration::from_nanos(wall.saturating_sub(ns) as u64))
    }
}

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = 4;

/// Errors of the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite failed.
    #[error("state database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The database is newer than this build.
    #[error(
        "state database has schema version {found}, newer than this harness ({SCHEMA_VERSION}); upgrade harness"
    )]
    TooNew {
        /// Version found.
        found: i64,
    },
}

/// A live (or last known) run of a service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunRecord {
    /// Service name.
    pub service: String,
    /// Run id.
    pub run: u64,
    /// The shim's pid.
    pub shim_pid: u32,
    /// The shim's start time (clock ticks since boot, /proc/PID/stat field 22).
    pub shim_start: u64,
    /// The service's main pid.
    pub pid: u32,
    /// The service's start time in clock ticks since boot.
    pub pid_start: u64,
    /// Wall-clock start, ms since the Unix epoch.
    pub started_at_ms: i64,
}

/// One stored transition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryRow {
    /// Wall-clock time, ms since the Unix epoch.
    pub ts_ms: i64,
    /// Service name.
    pub service: String,
    /// State before.
    pub from: String,
    /// State after.
    pub to: String,
    /// Why.
    pub reason: String,
    /// The request that led to it, if one was named (also in `reason`).
    pub cause: Option<String>,
}

/// A connection to the state database.
pub struct Store {
    conn: Connection,
}

impl Store {
    /// Opens (creating or migrating) the database at `path`.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        let store = Store { conn };
        store.migrate()?;
        Ok(store)
    }

    fn migrate(&self) -> Result<(), StoreError> {
        self.conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)",
        )?;
        let version: i64 = self
            .conn
            .query_row(
                "SELECT value FROM meta WHERE key = 'schema_version'",
                [],
                |r| r.get(0),
            )
            .optional()?
            .unwrap_or(0);
        if version > SCHEMA_VERSION {
            return Err(StoreError::TooNew { found: version });
        }
        if version < 1 {
            self.conn.execute_batch(
                "BEGIN;
                 CREATE TABLE runs (
                   service TEXT PRIMARY KEY, run INTEGER NOT NULL,
                   shim_pid INTEGER NOT NULL, shim_start INTEGER NOT NULL,
                   pid INTEGER NOT NULL, pid_start INTEGER NOT NULL,
                   started_at_ms INTEGER NOT NULL);
                 CREATE TABLE history (
                   id INTEGER PRIMARY KEY AUTOINCREMENT, ts_ms INTEGER NOT NULL,
                   service TEXT NOT NULL, from_state TEXT NOT NULL,
                   to_state TEXT NOT NULL, reason TEXT NOT NULL);
                 CREATE INDEX history_service ON history (service, id);
                 INSERT OR REPLACE INTO meta VALUES ('schema_version', 1);
                 INSERT OR IGNORE INTO meta VALUES ('next_run', 1);
                 COMMIT;",
            )?;
        }
        if version < 2 {
            self.conn.execute_batch(
                "BEGIN;
                 CREATE TABLE outcomes (
                   service TEXT PRIMARY KEY, mark TEXT NOT NULL, detail TEXT NOT NULL,
                   timeout_ms INTEGER, mark_code INTEGER, mark_signal INTEGER,
                   last_code INTEGER, last_signal INTEGER, wanted INTEGER NOT NULL);
                 UPDATE meta SET value = 2 WHERE key = 'schema_version';
                 COMMIT;",
            )?;
        }
        if version < 3 {
            self.conn.execute_batch(
                "BEGIN;
                 ALTER TABLE outcomes ADD COLUMN restart_streak INTEGER NOT NULL DEFAULT 0;
                 ALTER TABLE outcomes ADD COLUMN restarts_total INTEGER NOT NULL DEFAULT 0;
                 ALTER TABLE outcomes ADD COLUMN restart_times_ns TEXT NOT NULL DEFAULT '';
                 ALTER TABLE outcomes ADD COLUMN backoff_until_ns INTEGER;
                 ALTER TABLE outcomes ADD COLUMN backoff_attempt INTEGER;
                 ALTER TABLE outcomes ADD COLUMN backoff_max INTEGER;
                 UPDATE meta SET value = 3 WHERE key = 'schema_version';
                 COMMIT;",
            )?;
        }
        if version < 4 {
            self.conn.execute_batch(
                "BEGIN;
                 ALTER TABLE history ADD COLUMN cause TEXT;
                 ALTER TABLE outcomes ADD COLUMN mark_end_kind TEXT;
                 ALTER TABLE outcomes ADD COLUMN last_end_kind TEXT;
                 UPDATE meta SET value = 4 WHERE key = 'schema_version';
                 COMMIT;",
            )?;
        }
        Ok(())
    }

    /// What the engine knew of each service when the last daemon ran.
    pub fn outcomes(&self) -> Result<Vec<(String, Outcome)>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT service, mark, detail, timeout_ms, mark_code, mark_signal,
                    last_code, last_signal, wanted, restart_streak, restarts_total,
                    restart_times_ns, backoff_until_ns, backoff_attempt, backoff_max,
                    mark_end_kind, last_end_kind
             FROM outcomes",
        )?;
        let rows = stmt.query_map([], |r| {
            let detail: String = r.get(2)?;
            let mark_end = end(r.get(4)?, r.get(5)?, r.get(15)?);
            let mark = match r.get::<_, String>(1)?.as_str() {
                "failed" => Mark::Failed(detail),
                "blocked" => Mark::Blocked(detail),
                "timed_out" => Mark::TimedOut(std::time::Duration::from_millis(
                    r.get::<_, Option<i64>>(3)?.unwrap_or(0) as u64,
                )),
                "exited" => mark_end.map(Mark::Exited).unwrap_or_default(),
                "gave_up" => mark_end.map(Mark::GaveUp).unwrap_or_default(),
                _ => Mark::None,
            };
            Ok((
                r.get::<_, String>(0)?,
                Outcome {
                    mark,
                    last_end: end(r.get(6)?, r.get(7)?, r.get(16)?),
                    wanted: r.get(8)?,
                    restarts: Tracker::from_parts(
                        r.get(9)?,
                        r.get(10)?,
                        r.get::<_, String>(11)?
                            .split(',')
                            .filter_map(|t| instant(t.parse().ok()?)),
                    ),
                    backoff: match (r.get::<_, Option<i64>>(12)?, r.get(13)?, r.get(14)?) {
                        (Some(until), Some(attempt), Some(max)) => {
                            instant(until).map(|until| Backoff {
                                until,
                                attempt,
                                max,
                            })
                        }
                        _ => None,
                    },
                },
            ))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Reserves `count` run ids and returns the first.
    pub fn reserve_runs(&self, count: u64) -> Result<u64, StoreError> {
        let next: i64 =
            self.conn
                .query_row("SELECT value FROM meta WHERE key = 'next_run'", [], |r| {
                    r.get(0)
                })?;
        self.conn.execute(
            "UPDATE meta SET value = ?1 WHERE key = 'next_run'",
            params![next + count as i64],
        )?;
        Ok(next as u64)
    }

    /// Applies a batch of writes in one transaction.
    pub fn apply(&mut self, writes: &[Write]) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        for w in writes {
            match w {
                Write::Run(r) => {
                    tx.execute(
                        "INSERT OR REPLACE INTO runs VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                        params![
                            r.service,
                            r.run as i64,
                            r.shim_pid,
                            r.shim_start as i64,
                            r.pid,
                            r.pid_start as i64,
                            r.started_at_ms
                        ],
                    )?;
                }
                Write::RunEnded { service, run } => {
                    tx.execute(
                        "DELETE FROM runs WHERE service = ?1 AND run = ?2",
                        params![service, *run as i64],
                    )?;
                }
                Write::History(h) => {
                    tx.execute(
                        "INSERT INTO history (ts_ms, service, from_state, to_state, reason, cause)
                           VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                        params![h.ts_ms, h.service, h.from, h.to, h.reason, h.cause],
                    )?;
                }
                Write::Outcome { service, outcome } => {
                    let (kind, detail, timeout_ms, mark_end) = match &outcome.mark {
                        Mark::None => ("none", "", None, None),
                        Mark::Failed(d) => ("failed", d.as_str(), None, None),
                        Mark::Blocked(d) => ("blocked", d.as_str(), None, None),
                        Mark::TimedOut(t) => ("timed_out", "", Some(t.as_millis() as i64), None),
                        Mark::Exited(e) => ("exited", "", None, Some(*e)),
                        Mark::GaveUp(e) => ("gave_up", "", None, Some(*e)),
                    };
                    let (mc, ms, mk) = columns(mark_end);
                    let (lc, ls, lk) = columns(outcome.last_end);
                    let r = &outcome.restarts;
                    let times: Vec<String> = r.recent().map(|t| wall_ns(t).to_string()).collect();
                    let b = outcome.backoff;
                    tx.execute(
                        "INSERT OR REPLACE INTO outcomes
                           (service, mark, detail, timeout_ms, mark_code, mark_signal,
                            last_code, last_signal, wanted, restart_streak, restarts_total,
                            restart_times_ns, backoff_until_ns, backoff_attempt, backoff_max,
                            mark_end_kind, last_end_kind)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15,
                                 ?16, ?17)",
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
                            lk
                        ],
                    )?;
                }
                Write::ReserveRuns { up_to } => {
                    tx.execute(
                        "UPDATE meta SET value = max(value, ?1) WHERE key = 'next_run'",
                        params![*up_to as i64],
                    )?;
                }
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Every recorded live run.
    pub fn runs(&self) -> Result<Vec<RunRecord>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT service, run, shim_pid, shim_start, pid, pid_start, started_at_ms FROM runs",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(RunRecord {
                service: r.get(0)?,
                run: r.get::<_, i64>(1)? as u64,
                shim_pid: r.get(2)?,
                shim_start: r.get::<_, i64>(3)? as u64,
                pid: r.get(4)?,
                pid_start: r.get::<_, i64>(5)? as u64,
                started_at_ms: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The state each service's last history row recorded.
    pub fn last_states(&self) -> Result<Vec<(String, String)>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT service, to_state FROM history
             WHERE id IN (SELECT max(id) FROM history GROUP BY service)",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// History, oldest first: the last `limit` rows, of `service` if given.
    pub fn history(
        &self,
        service: Option<&str>,
        limit: u32,
    ) -> Result<Vec<HistoryRow>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT ts_ms, service, from_state, to_state, reason, cause FROM
               (SELECT * FROM history WHERE ?1 IS NULL OR service = ?1 ORDER BY id DESC LIMIT ?2)
             ORDER BY id",
        )?;
        let rows = stmt.query_map(params![service, limit], |r| {
            Ok(HistoryRow {
                ts_ms: r.get(0)?,
                service: r.get(1)?,
                from: r.get(2)?,
                to: r.get(3)?,
                reason: r.get(4)?,
                cause: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

/// One write, batched by the daemon's store thread.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Write {
    /// A run started (or was re-attached).
    Run(RunRecord),
    /// A run ended.
    RunEnded {
        /// Service name.
        service: String,
        /// Run id.
        run: u64,
    },
    /// A transition happened.
    History(HistoryRow),
    /// What the engine knows of a service changed.
    Outcome {
        /// Service name.
        service: String,
        /// The new outcome.
        outcome: Outcome,
    },
    /// Run ids below this are taken.
    ReserveRuns {
        /// First free run id.
        up_to: u64,
    },
}

/// A process end as (exit code, signal, kind) columns; the kind names the
/// ends that have neither (schema 4).
fn columns(end: Option<ProcessEnd>) -> (Option<i32>, Option<i32>, Option<&'static str>) {
    match end {
        Some(ProcessEnd::Exited(c)) => (Some(c), None, None),
        Some(ProcessEnd::Signaled(s)) => (None, Some(s), None),
        Some(ProcessEnd::Lost) => (None, None, Some("lost")),
        Some(ProcessEnd::NotSpawned) => (None, None, Some("not_spawned")),
        None => (None, None, None),
    }
}

fn end(code: Option<i32>, signal: Option<i32>, kind: Option<String>) -> Option<ProcessEnd> {
    match (code, signal, kind.as_deref()) {
        (Some(c), _, _) => Some(ProcessEnd::Exited(c)),
        (None, Some(s), _) => Some(ProcessEnd::Signaled(s)),
        (None, None, Some("lost")) => Some(ProcessEnd::Lost),
        (None, None, Some("not_spawned")) => Some(ProcessEnd::NotSpawned),
        (None, None, _) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_and_history_survive_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        let run = RunRecord {
            service: "api".into(),
            run: 7,
            shim_pid: 10,
            shim_start: 11,
            pid: 12,
            pid_start: 13,
            started_at_ms: 14,
        };
        let h = |to: &str| HistoryRow {
            ts_ms: 1,
            service: "api".into(),
            from: "stopped".into(),
            to: to.into(),
            reason: "start requested (retry chosen at prompt)".into(),
            cause: Some("retry chosen at prompt".into()),
        };
        {
            let mut s = Store::open(&path).unwrap();
            assert_eq!(s.reserve_runs(5).unwrap(), 1);
            s.apply(&[
                Write::Run(run.clone()),
                Write::History(h("starting")),
                Write::History(h("running")),
            ])
            .unwrap();
        }
        let mut s = Store::open(&path).unwrap();
        assert_eq!(s.reserve_runs(1).unwrap(), 6);
        assert_eq!(s.runs().unwrap(), [run]);
        let hist = s.history(Some("api"), 1).unwrap();
        assert_eq!(hist.len(), 1);
        assert_eq!(hist[0].to, "running");
        s.apply(&[Write::RunEnded {
            service: "api".into(),
            run: 7,
        }])
        .unwrap();
        assert!(s.runs().unwrap().is_empty());
    }

    #[test]
    fn refuses_a_newer_schema() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        Store::open(&path)
            .unwrap()
            .conn
            .execute(
                "UPDATE meta SET value = 99 WHERE key = 'schema_version'",
                [],
            )
            .unwrap();
        assert!(matches!(
            Store::open(&path),
            Err(StoreError::TooNew { found: 99 })
        ));
    }

    #[test]
    fn outcomes_survive_reopen_in_every_shape() {
        let secs = Duration::from_secs;
        let now = Instant::now();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        let shapes = [
            Outcome::default(),
            Outcome {
                mark: Mark::Failed("exit code 1".into()),
                last_end: Some(ProcessEnd::Exited(1)),
                wanted: true,

                ..Outcome::default()
            },
            Outcome {
                mark: Mark::Blocked("dependency failed: api".into()),
                last_end: None,
                wanted: true,

                ..Outcome::default()
            },
            Outcome {
                mark: Mark::TimedOut(std::time::Duration::from_secs(300)),
                last_end: Some(ProcessEnd::Signaled(9)),
                wanted: true,

                ..Outcome::default()
            },
            Outcome {
                mark: Mark::GaveUp(ProcessEnd::Exited(3)),
                last_end: Some(ProcessEnd::Exited(3)),
                wanted: true,

                ..Outcome::default()
            },
            Outcome {
                mark: Mark::Exited(ProcessEnd::Signaled(11)),
                last_end: Some(ProcessEnd::Signaled(11)),
                wanted: false,
                ..Outcome::default()
            },
            Outcome {
                mark: Mark::Exited(ProcessEnd::Lost),
                last_end: Some(ProcessEnd::Lost),
                wanted: true,
                ..Outcome::default()
            },
            Outcome {
                mark: Mark::GaveUp(ProcessEnd::NotSpawned),
                last_end: Some(ProcessEnd::NotSpawned),
                wanted: true,
                ..Outcome::default()
            },
            Outcome {
                mark: Mark::Exited(ProcessEnd::Exited(1)),
                last_end: Some(ProcessEnd::Exited(1)),
                wanted: true,
                restarts: Tracker::from_parts(3, 7, [now - secs(50), now - secs(20), now]),
                backoff: Some(Backoff {
                    until: now + secs(4),
                    attempt: 3,
                    max: 10,
                }),
            },
        ];
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

    /// The tables of the first release (schema 1).
    const SCHEMA_1: &str = "CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
         CREATE TABLE runs (
           service TEXT PRIMARY KEY, run INTEGER NOT NULL,
           shim_pid INTEGER NOT NULL, shim_start INTEGER NOT NULL,
           pid INTEGER NOT NULL, pid_start INTEGER NOT NULL,
           started_at_ms INTEGER NOT NULL);
         CREATE TABLE history (
           id INTEGER PRIMARY KEY AUTOINCREMENT, ts_ms INTEGER NOT NULL,
           service TEXT NOT NULL, from_state TEXT NOT NULL,
           to_state TEXT NOT NULL, reason TEXT NOT NULL);
         CREATE INDEX history_service ON history (service, id);";

    /// A database file made by an older release: `sql` run on a new file.
    fn old_database(sql: &str) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        Connection::open(&path).unwrap().execute_batch(sql).unwrap();
        (dir, path)
    }

    /// A database written by the first release (schema 1, no `outcomes`)
    /// opens, keeps its runs and history, and gains the new table.
    #[test]
    fn migrates_a_version_1_database() {
        let (_dir, path) = old_database(&format!(
            "{SCHEMA_1}
             INSERT INTO meta VALUES ('schema_version', 1);
             INSERT INTO meta VALUES ('next_run', 42);
             INSERT INTO runs VALUES ('db', 41, 100, 101, 102, 103, 104);
             INSERT INTO history (ts_ms, service, from_state, to_state, reason)
               VALUES (5, 'db', 'stopped', 'starting', 'start requested');"
        ));
        let mut s = Store::open(&path).unwrap();
        assert_eq!(s.runs().unwrap()[0].run, 41);
        assert_eq!(s.history(None, 10).unwrap()[0].to, "starting");
        assert_eq!(s.reserve_runs(1).unwrap(), 42);
        assert!(s.outcomes().unwrap().is_empty());
        s.apply(&[Write::Outcome {
            service: "db".into(),
            outcome: Outcome::default(),
        }])
        .unwrap();
        let version: i64 = s
            .conn
            .query_row(
                "SELECT value FROM meta WHERE key = 'schema_version'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(version, SCHEMA_VERSION);
    }

    /// A database written before restarts were remembered (schema 2)
    /// keeps its outcomes, which start with an empty restart memory.
    #[test]
    fn migrates_a_version_2_database() {
        let (_dir, path) = old_database(&format!(
            "{SCHEMA_1}
             CREATE TABLE outcomes (
               service TEXT PRIMARY KEY, mark TEXT NOT NULL, detail TEXT NOT NULL,
               timeout_ms INTEGER, mark_code INTEGER, mark_signal INTEGER,
               last_code INTEGER, last_signal INTEGER, wanted INTEGER NOT NULL);
             INSERT INTO meta VALUES ('schema_version', 2);
             INSERT INTO meta VALUES ('next_run', 7);
             INSERT INTO outcomes VALUES ('api', 'failed', 'exit code 1', NULL, NULL, NULL, 1, NULL, 1);"
        ));
        let s = Store::open(&path).unwrap();
        assert_eq!(
            s.outcomes().unwrap(),
            vec![(
                "api".to_string(),
                Outcome {
                    mark: Mark::Failed("exit code 1".into()),
                    last_end: Some(ProcessEnd::Exited(1)),
                    wanted: true,
                    ..Outcome::default()
                }
            )]
        );
    }
}
