//! Jobs: each run (`job_runs`) and each attempt at a step
//! (`job_attempts`). An attempt is written `started` before its process
//! is spawned, so one that died with the host is still seen (started,
//! never ended) and the next daemon can say it was interrupted. Every
//! attempt keeps its row; none is overwritten.

use crate::error::StoreError;
use crate::store::Store;
use harness_core::job::resume::{Completed, StepPrint};
use rusqlite::{Connection, OptionalExtension, params};

/// One run of a job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRunRow {
    /// The job.
    pub job: String,
    /// Its number, 1 for the job's first run (see [`Store::next_job_run`]).
    pub run: i64,
    /// When it began, ms since the Unix epoch.
    pub started_ms: i64,
    /// When it ended, if it did.
    pub ended_ms: Option<i64>,
    /// The step it has reached, by place and by name (a file edited since
    /// may have moved it).
    pub state: i64,
    /// The step's name.
    pub state_step: String,
    /// How that step stands (`running`, `waiting_retry`, `completed`,
    /// `failed`, `needs_decision`, `cancelled`, `interrupted`).
    pub status: String,
    /// When the retry it waits for is due, ms since the Unix epoch.
    pub retry_at_ms: Option<i64>,
    /// How it was asked to begin: `resume`, `from STEP` or `restart`.
    pub start: String,
}

/// One attempt at a step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptRow {
    /// Its id (the store's).
    pub id: i64,
    /// Its process's run id; `None` for a step a person marked completed.
    pub process_run: Option<i64>,
    /// The job.
    pub job: String,
    /// The job's run.
    pub run: i64,
    /// The step, by name.
    pub step: String,
    /// The step's place in the job.
    pub step_index: i64,
    /// 1 for the first attempt at the step in this run.
    pub attempt: i64,
    /// The limit that applied when it began (of its class once it failed).
    pub max_attempts: i64,
    /// `started`, `completed`, `failed`, `cancelled` or `interrupted`.
    pub status: String,
    /// When it began, ms since the Unix epoch.
    pub started_ms: i64,
    /// When it ended.
    pub ended_ms: Option<i64>,
    /// A failure's class (`transient`, `persistent`).
    pub class: Option<String>,
    /// Its exit code, if it exited.
    pub exit_code: Option<i64>,
    /// The signal that killed it, if one did.
    pub signal: Option<i64>,
    /// The last line(s) of its output, for a failure.
    pub error: Option<String>,
    /// The step's print when it began.
    pub print: StepPrint,
    /// Its declared outputs' hashes, when it completed.
    pub outputs: Vec<(String, String)>,
    /// Its own log file, relative to the state folder.
    pub log: Option<String>,
}

/// How an attempt ended, as [`Store::apply`] records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptEndRow {
    /// `completed`, `failed`, `cancelled` or `interrupted`.
    pub status: String,
    /// When, ms since the Unix epoch.
    pub ended_ms: i64,
    /// A failure's class.
    pub class: Option<String>,
    /// The limit of that class.
    pub max_attempts: Option<i64>,
    /// Its exit code, if it exited.
    pub exit_code: Option<i64>,
    /// The signal that killed it, if one did.
    pub signal: Option<i64>,
    /// The last line(s) of its output.
    pub error: Option<String>,
    /// Its declared outputs' hashes, when it completed.
    pub outputs: Vec<(String, String)>,
}

// Prints and outputs are stored as JSON (names and paths may hold any
// character): a print as an object of part → hash, outputs as a list of
// [path, hash] pairs.
fn print_text(p: &StepPrint) -> String {
    serde_json::to_string(&p.parts).unwrap_or_default()
}

fn print_of(text: &str) -> StepPrint {
    StepPrint {
        parts: serde_json::from_str(text).unwrap_or_default(),
    }
}

fn outputs_text(o: &[(String, String)]) -> String {
    serde_json::to_string(o).unwrap_or_default()
}

fn outputs_of(text: &str) -> Vec<(String, String)> {
    serde_json::from_str(text).unwrap_or_default()
}

pub(crate) fn begin_run(conn: &Connection, r: &JobRunRow) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO job_runs (job, run, started_ms, ended_ms, state, state_step, status,
           retry_at_ms, start)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            r.job,
            r.run,
            r.started_ms,
            r.ended_ms,
            r.state,
            r.state_step,
            r.status,
            r.retry_at_ms,
            r.start
        ],
    )?;
    Ok(())
}

/// Where a run stands now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunStands {
    /// The step reached.
    pub state: i64,
    /// Its name.
    pub state_step: String,
    /// Its status.
    pub status: String,
    /// When a retry is due.
    pub retry_at_ms: Option<i64>,
    /// When the run ended, if it did.
    pub ended_ms: Option<i64>,
}

pub(crate) fn run_stands(
    conn: &Connection,
    job: &str,
    run: i64,
    s: &RunStands,
) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE job_runs SET state = ?3, state_step = ?4, status = ?5, retry_at_ms = ?6,
           ended_ms = ?7 WHERE job = ?1 AND run = ?2",
        params![
            job,
            run,
            s.state,
            s.state_step,
            s.status,
            s.retry_at_ms,
            s.ended_ms
        ],
    )?;
    Ok(())
}

pub(crate) fn start_attempt(conn: &Connection, a: &AttemptRow) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO job_attempts (process_run, job, run, step, step_index, attempt,
           max_attempts, status, started_ms, ended_ms, class, exit_code, signal, error, print,
           outputs, log)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
        params![
            a.process_run,
            a.job,
            a.run,
            a.step,
            a.step_index,
            a.attempt,
            a.max_attempts,
            a.status,
            a.started_ms,
            a.ended_ms,
            a.class,
            a.exit_code,
            a.signal,
            a.error,
            print_text(&a.print),
            outputs_text(&a.outputs),
            a.log,
        ],
    )?;
    Ok(())
}

pub(crate) fn run_tried(
    conn: &Connection,
    job: &str,
    run: i64,
    tried: &[u32],
) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE job_runs SET tried = ?3 WHERE job = ?1 AND run = ?2",
        params![job, run, serde_json::to_string(tried).unwrap_or_default()],
    )?;
    Ok(())
}

pub(crate) fn attempt_print(
    conn: &Connection,
    process_run: i64,
    print: &StepPrint,
) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE job_attempts SET print = ?2 WHERE process_run = ?1",
        params![process_run, print_text(print)],
    )?;
    Ok(())
}

pub(crate) fn end_attempt(
    conn: &Connection,
    process_run: i64,
    e: &AttemptEndRow,
) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE job_attempts SET status = ?2, ended_ms = ?3, class = ?4,
           max_attempts = coalesce(?5, max_attempts), exit_code = ?6, signal = ?7, error = ?8,
           outputs = ?9
         WHERE process_run = ?1",
        params![
            process_run,
            e.status,
            e.ended_ms,
            e.class,
            e.max_attempts,
            e.exit_code,
            e.signal,
            e.error,
            outputs_text(&e.outputs)
        ],
    )?;
    Ok(())
}

fn attempt(r: &rusqlite::Row) -> rusqlite::Result<AttemptRow> {
    Ok(AttemptRow {
        id: r.get(0)?,
        process_run: r.get(1)?,
        job: r.get(2)?,
        run: r.get(3)?,
        step: r.get(4)?,
        step_index: r.get(5)?,
        attempt: r.get(6)?,
        max_attempts: r.get(7)?,
        status: r.get(8)?,
        started_ms: r.get(9)?,
        ended_ms: r.get(10)?,
        class: r.get(11)?,
        exit_code: r.get(12)?,
        signal: r.get(13)?,
        error: r.get(14)?,
        print: print_of(&r.get::<_, String>(15)?),
        outputs: outputs_of(&r.get::<_, String>(16)?),
        log: r.get(17)?,
    })
}

fn run_row(r: &rusqlite::Row) -> rusqlite::Result<JobRunRow> {
    Ok(JobRunRow {
        job: r.get(0)?,
        run: r.get(1)?,
        started_ms: r.get(2)?,
        ended_ms: r.get(3)?,
        state: r.get(4)?,
        state_step: r.get(5)?,
        status: r.get(6)?,
        retry_at_ms: r.get(7)?,
        start: r.get(8)?,
    })
}

const ATTEMPT_COLUMNS: &str = "id, process_run, job, run, step, step_index, attempt,
    max_attempts, status, started_ms, ended_ms, class, exit_code, signal, error, print,
    outputs, log";

impl Store {
    /// The last run of `job`, if it has run.
    pub fn last_job_run(&self, job: &str) -> Result<Option<JobRunRow>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT job, run, started_ms, ended_ms, state, state_step, status, retry_at_ms,
                   start FROM job_runs WHERE job = ?1 ORDER BY run DESC LIMIT 1",
                [job],
                run_row,
            )
            .optional()?)
    }

    /// The last `limit` runs of `job`, newest first.
    pub fn job_runs(&self, job: &str, limit: u32) -> Result<Vec<JobRunRow>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT job, run, started_ms, ended_ms, state, state_step, status, retry_at_ms,
               start FROM job_runs WHERE job = ?1 ORDER BY run DESC LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![job, limit], run_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The attempts each step of run `run` of `job` had before the run was
    /// last resumed (empty: never resumed, or recorded by a build that did
    /// not keep them).
    pub fn job_run_tried(&self, job: &str, run: i64) -> Result<Vec<u32>, StoreError> {
        let text: Option<String> = self
            .conn
            .query_row(
                "SELECT tried FROM job_runs WHERE job = ?1 AND run = ?2",
                params![job, run],
                |r| r.get(0),
            )
            .optional()?;
        Ok(text
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default())
    }

    /// The number the next run of `job` takes.
    pub fn next_job_run(&self, job: &str) -> Result<i64, StoreError> {
        let last: Option<i64> =
            self.conn
                .query_row("SELECT max(run) FROM job_runs WHERE job = ?1", [job], |r| {
                    r.get(0)
                })?;
        Ok(last.unwrap_or(0) + 1)
    }

    /// Every attempt of run `run` of `job`, in the order they began.
    pub fn attempts(&self, job: &str, run: i64) -> Result<Vec<AttemptRow>, StoreError> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {ATTEMPT_COLUMNS} FROM job_attempts WHERE job = ?1 AND run = ?2 ORDER BY id"
        ))?;
        let rows = stmt.query_map(params![job, run], attempt)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// How step `step` of `job` completed, if its latest attempt (in any
    /// run) did: the print it ran with and its outputs' hashes — what
    /// decides whether a new run may skip it. A later attempt that failed,
    /// was cancelled or was cut short may have changed what it had made,
    /// so an older completion no longer counts.
    pub fn last_completion(&self, job: &str, step: &str) -> Result<Option<Completed>, StoreError> {
        let row = self
            .conn
            .query_row(
                &format!(
                    "SELECT {ATTEMPT_COLUMNS} FROM job_attempts
                     WHERE job = ?1 AND step = ?2 ORDER BY id DESC LIMIT 1"
                ),
                params![job, step],
                attempt,
            )
            .optional()?;
        Ok(row.filter(|a| a.status == "completed").map(|a| Completed {
            print: a.print,
            outputs: a.outputs,
        }))
    }
}

/// A file's stamp (size, inode, modification and change times, seconds
/// and nanoseconds) and the content hash it had with it.
pub type StampedHash = (String, (u64, u64, i64, i64, i64, i64), String);

pub(crate) fn keep_hashes(conn: &Connection, hashes: &[StampedHash]) -> Result<(), StoreError> {
    let mut stmt = conn.prepare_cached(
        "INSERT OR REPLACE INTO file_hashes
           (path, size, ino, mtime_s, mtime_ns, ctime_s, ctime_ns, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    for (path, (size, ino, ms, mns, cs, cns), hash) in hashes {
        stmt.execute(params![
            path,
            *size as i64,
            *ino as i64,
            ms,
            mns,
            cs,
            cns,
            hash
        ])?;
    }
    Ok(())
}

impl Store {
    /// Every file hash kept, with its stamp.
    pub fn file_hashes(&self) -> Result<Vec<StampedHash>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT path, size, ino, mtime_s, mtime_ns, ctime_s, ctime_ns, hash FROM file_hashes",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                (
                    r.get::<_, i64>(1)? as u64,
                    r.get::<_, i64>(2)? as u64,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                ),
                r.get::<_, String>(7)?,
            ))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
