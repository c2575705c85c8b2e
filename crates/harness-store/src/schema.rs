//! The tables and their versions. A new file gets every step below and an
//! older one the steps it lacks, in order, so every file ends at
//! [`SCHEMA_VERSION`] and an old daemon's state is kept, not thrown away.

use crate::error::StoreError;
use rusqlite::{Connection, OptionalExtension};

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = 10;

// SQLite keeps the text of every CREATE TABLE (and of each column ALTER
// TABLE adds) in `sqlite_master`, whitespace and all, so even re-indenting
// these literals would change what new files hold: they are kept byte for
// byte. Each step is one transaction, so a file is at one version or the
// next, never between.

/// Version 1: live runs, history, and the next free run id.
const TO_1: &str = "BEGIN;
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
                 COMMIT;";

/// Version 2: each service's outcome.
const TO_2: &str = "BEGIN;
                 CREATE TABLE outcomes (
                   service TEXT PRIMARY KEY, mark TEXT NOT NULL, detail TEXT NOT NULL,
                   timeout_ms INTEGER, mark_code INTEGER, mark_signal INTEGER,
                   last_code INTEGER, last_signal INTEGER, wanted INTEGER NOT NULL);
                 UPDATE meta SET value = 2 WHERE key = 'schema_version';
                 COMMIT;";

/// Version 3: the restart policy's memory (streak, total, recent restart
/// times) and a restart that is due, in `outcomes`.
const TO_3: &str = "BEGIN;
                 ALTER TABLE outcomes ADD COLUMN restart_streak INTEGER NOT NULL DEFAULT 0;
                 ALTER TABLE outcomes ADD COLUMN restarts_total INTEGER NOT NULL DEFAULT 0;
                 ALTER TABLE outcomes ADD COLUMN restart_times_ns TEXT NOT NULL DEFAULT '';
                 ALTER TABLE outcomes ADD COLUMN backoff_until_ns INTEGER;
                 ALTER TABLE outcomes ADD COLUMN backoff_attempt INTEGER;
                 ALTER TABLE outcomes ADD COLUMN backoff_max INTEGER;
                 UPDATE meta SET value = 3 WHERE key = 'schema_version';
                 COMMIT;";

/// Version 4: the request behind a transition (`history.cause`), and the
/// process ends that have neither exit code nor signal
/// (`outcomes.*_end_kind`).
const TO_4: &str = "BEGIN;
                 ALTER TABLE history ADD COLUMN cause TEXT;
                 ALTER TABLE outcomes ADD COLUMN mark_end_kind TEXT;
                 ALTER TABLE outcomes ADD COLUMN last_end_kind TEXT;
                 UPDATE meta SET value = 4 WHERE key = 'schema_version';
                 COMMIT;";

/// Version 5: which config file the state belongs to (`served`), so that
/// a daemon for another file of the same folder neither takes over its
/// runs nor inherits its outcomes; and what each run was spawned with
/// (`runs.definition`, a print of part hashes), so that a run of an older
/// definition is told apart from one of the file's.
const TO_5: &str = "BEGIN;
                 CREATE TABLE served (
                   id INTEGER PRIMARY KEY CHECK (id = 1), config TEXT NOT NULL);
                 ALTER TABLE runs ADD COLUMN definition TEXT;
                 UPDATE meta SET value = 5 WHERE key = 'schema_version';
                 COMMIT;";

/// Version 6: deploys (`deploys`), and what each did with each service,
/// with the versions it went from and to (`deploy_services`); and a
/// service's drift — how its last deploy failed — in `outcomes.drift`.
const TO_6: &str = "BEGIN;
                 CREATE TABLE deploys (
                   id INTEGER PRIMARY KEY, started_ms INTEGER NOT NULL, ended_ms INTEGER,
                   config TEXT NOT NULL, status TEXT NOT NULL);
                 CREATE TABLE deploy_services (
                   deploy INTEGER NOT NULL, service TEXT NOT NULL, action TEXT NOT NULL,
                   reasons TEXT NOT NULL, from_version TEXT, to_version TEXT,
                   outcome TEXT, detail TEXT NOT NULL,
                   PRIMARY KEY (deploy, service));
                 ALTER TABLE outcomes ADD COLUMN drift TEXT;
                 UPDATE meta SET value = 6 WHERE key = 'schema_version';
                 COMMIT;";

/// Version 7: a service may have two live runs — a start-first deploy
/// runs the new version beside the old until it is healthy — so `runs`
/// is keyed by the run (ids are never reused), not by the service.
const TO_7: &str = "BEGIN;
                 CREATE TABLE runs_by_run (
                   run INTEGER PRIMARY KEY, service TEXT NOT NULL,
                   shim_pid INTEGER NOT NULL, shim_start INTEGER NOT NULL,
                   pid INTEGER NOT NULL, pid_start INTEGER NOT NULL,
                   started_at_ms INTEGER NOT NULL, definition TEXT);
                 INSERT INTO runs_by_run
                   SELECT run, service, shim_pid, shim_start, pid, pid_start,
                          started_at_ms, definition FROM runs;
                 DROP TABLE runs;
                 ALTER TABLE runs_by_run RENAME TO runs;
                 CREATE INDEX runs_service ON runs (service, run);
                 UPDATE meta SET value = 7 WHERE key = 'schema_version';
                 COMMIT;";

/// Version 8: jobs. Each run of a job (`job_runs`: the step it has
/// reached, by place and name, how that stands, when a retry is due, and
/// how the run was asked to begin) and each attempt at a step
/// (`job_attempts`: written `started` before the spawn, then ended with
/// its class, exit and error; the step's print and, on completion, its
/// outputs' hashes, which decide whether a later run may skip it). An
/// attempt has an id of its own; `process_run` is its process's run id (a
/// step marked completed by a person has none).
const TO_8: &str = "BEGIN;
                 CREATE TABLE job_runs (
                   job TEXT NOT NULL, run INTEGER NOT NULL,
                   started_ms INTEGER NOT NULL, ended_ms INTEGER,
                   state INTEGER NOT NULL, state_step TEXT NOT NULL,
                   status TEXT NOT NULL, retry_at_ms INTEGER, start TEXT NOT NULL,
                   PRIMARY KEY (job, run));
                 CREATE TABLE job_attempts (
                   id INTEGER PRIMARY KEY AUTOINCREMENT, process_run INTEGER,
                   job TEXT NOT NULL, run INTEGER NOT NULL,
                   step TEXT NOT NULL, step_index INTEGER NOT NULL,
                   attempt INTEGER NOT NULL, max_attempts INTEGER NOT NULL,
                   status TEXT NOT NULL, started_ms INTEGER NOT NULL, ended_ms INTEGER,
                   class TEXT, exit_code INTEGER, signal INTEGER, error TEXT,
                   print TEXT NOT NULL, outputs TEXT NOT NULL, log TEXT);
                 CREATE INDEX job_attempts_run ON job_attempts (job, run, id);
                 CREATE INDEX job_attempts_step ON job_attempts (job, step, id);
                 CREATE UNIQUE INDEX job_attempts_process ON job_attempts (process_run);
                 UPDATE meta SET value = 8 WHERE key = 'schema_version';
                 COMMIT;";

/// Version 9: the content hash of each file a job's steps name, with the
/// stamp it had when it was hashed (size, inode, modification and change
/// times), so that a new daemon reads again only the files that changed;
/// and, for each run of a job, the attempts each step had before the run
/// was last resumed (`tried`, a JSON list), which do not count against the
/// step's limit once a person resumed it.
const TO_9: &str = "BEGIN;
                 ALTER TABLE job_runs ADD COLUMN tried TEXT NOT NULL DEFAULT '[]';
                 CREATE TABLE file_hashes (
                   path TEXT PRIMARY KEY, size INTEGER NOT NULL, ino INTEGER NOT NULL,
                   mtime_s INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,
                   ctime_s INTEGER NOT NULL, ctime_ns INTEGER NOT NULL,
                   hash TEXT NOT NULL);
                 UPDATE meta SET value = 9 WHERE key = 'schema_version';
                 COMMIT;";

/// Version 10: a run may be a process harness adopted (`harness adopt`)
/// rather than spawned under a shim: a new daemon then watches the
/// process itself, and knows its end cannot be read from an exit file.
const TO_10: &str = "BEGIN;
                 ALTER TABLE runs ADD COLUMN adopted INTEGER NOT NULL DEFAULT 0;
                 UPDATE meta SET value = 10 WHERE key = 'schema_version';
                 COMMIT;";

/// Each step with the version it brings a file to, oldest first.
const STEPS: [(i64, &str); 10] = [
    (1, TO_1),
    (2, TO_2),
    (3, TO_3),
    (4, TO_4),
    (5, TO_5),
    (6, TO_6),
    (7, TO_7),
    (8, TO_8),
    (9, TO_9),
    (10, TO_10),
];

/// Brings the database to [`SCHEMA_VERSION`]. A newer one is refused rather
/// than opened, since this build would not know what its columns mean.
pub(crate) fn migrate(conn: &Connection) -> Result<(), StoreError> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)",
    )?;
    let version: i64 = conn
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
    for (to, sql) in STEPS {
        if version < to {
            conn.execute_batch(sql)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::SCHEMA_VERSION;
    use crate::{Store, StoreError, Write};
    use harness_core::engine::{Outcome, ProcessEnd, Verdict};
    use rusqlite::Connection;

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
        assert_eq!(s.runs().unwrap()[0].run.0, 41);
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
                    verdict: Verdict::Failed("exit code 1".into()),
                    last_end: Some(ProcessEnd::Exited(1)),
                    wanted: true,
                    ..Outcome::default()
                }
            )]
        );
    }
}
