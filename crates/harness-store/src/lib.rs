//! # harness-store: `.harness/state.db`
//!
//! Theory of operation: SQLite in WAL mode holds two things that must
//! outlive the daemon. `runs` has one row per service that has a process:
//! the shim's and the service's pid *and process start time*, so a new daemon
//! re-attaches to exactly those processes and never to a reused pid.
//! `history` is the append-only log of every state transition with its
//! reason. The schema is versioned in `meta`; opening an older database
//! migrates it forward.

mod project;
pub use project::{CONFIG_NAMES, Project};

use rusqlite::{Connection, OptionalExtension, params};
use std::path::Path;

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = 1;

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
        Ok(())
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
                        "INSERT INTO history (ts_ms, service, from_state, to_state, reason) VALUES (?1, ?2, ?3, ?4, ?5)",
                        params![h.ts_ms, h.service, h.from, h.to, h.reason],
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

    /// History, oldest first: the last `limit` rows, of `service` if given.
    pub fn history(
        &self,
        service: Option<&str>,
        limit: u32,
    ) -> Result<Vec<HistoryRow>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT ts_ms, service, from_state, to_state, reason FROM
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
    /// Run ids below this are taken.
    ReserveRuns {
        /// First free run id.
        up_to: u64,
    },
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
            reason: "start requested".into(),
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
}
