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
    /// Its number, 1 for the job's first run.
    pub run: i64,
    /// When it began, ms since the Unix epoch.
    pub started_ms: i64,
    /// When it ended, if it did.
    pub ended_ms: Option<i64>,
    /// The index of the step it has reached.
    pub state: i64,
    /// How that step stands (`running`, `waiting_retry`, `completed`,
    /// `failed`, `needs_decision`, `cancelled`, `interrupted`).
    pub status: String,
}

/// One attempt at a step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptRow {
    /// Its id: the id of its process run (never reused).
    pub id: i64,
    /// The job and its run.
    pub job: String,
    /// The job's run.
    pub run: i64,
    /// The step, by name and by place.
    pub step: String,
    /// The step's place in the job.
    pub step_index: i64,
    /// 1 for the first attempt at the step in this run.
    pub attempt: i64,
    /// `started`, `completed`, `failed`, `cancelled` or `interrupted`.
    pub status: String,
    /// When it began, ms since the Unix epoch.
    pub started_ms: i64,
    /// When it ended.
    pub ended_ms: Option<i64>,
    /// A failure's class (`transient`, `persistent`).
    pub class: Option<String>,
    /// Its exit code, or the signal that killed it.
    pub exit_code: Option<i64>,
    /// The signal that killed it.
    pub signal: Option<i64>,
    /// The last line(s) of its output, for a failure.
    pub error: Option<String>,
    /// The step's print when it began.
    pub print: StepPrint,
    /// Its declared outputs' hashes, when it completed.
    pub outputs: Vec<(String, String)>,
}

/// How an attempt ended, as [`Store::end_attempt`] records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptEndRow {
    /// `completed`, `failed`, `cancelled` or `interrupted`.
    pub status: String,
    /// When, ms since the Unix epoch.
    pub ended_ms: i64,
    /// A failure's class.
    pub class: Option<String>,
    /// Its exit code.
    pub exit_code: Option<i64>,
    /// The signal that killed it.
    pub signal: Option<i64>,
    /// The last line(s) of its output.
    pub error: Option<String>,
    /// Its declared outputs' hashes, when it completed.
    pub outputs: Vec<(String, String)>,
}

/// Pairs as stored: one `key\tvalue` line each (names and paths hold no
/// tab or newline that matters here; hashes never do).
fn pairs_text<'a>(pairs: impl Iterator<Item = (&'a String, &'a String)>) -> String {
    pairs.map(|(k, v)| format!("{k}\t{v}\n")).collect()
}

fn pairs_of(text: &str) -> impl Iterator<Item = (String, String)> + '_ {
    text.lines()
        .filter_map(|l| l.split_once('\t'))
        .map(|(k, v)| (k.to_string(), v.to_string()))
}

fn print_text(p: &StepPrint) -> String {
    pairs_text(p.parts.iter())
}

fn print_of(text: &str) -> StepPrint {
    StepPrint {
        parts: pairs_of(text).collect(),
    }
}

fn outputs_text(o: &[(String, String)]) -> String {
    pairs_text(o.iter().map(|(p, h)| (p, h)))
}

fn outputs_of(text: Option<String>) -> Vec<(String, String)> {
    pairs_of(&text.unwrap_or_default()).collect()
}

pub(crate) fn begin_run(conn: &Connection, r: &JobRunRow) -> Result<(), StoreError> {
    conn.execute(
        "INSERT OR REPLACE INTO job_runs (job, run, started_ms, ended_ms, state, status)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![r.job, r.run, r.started_ms, r.ended_ms, r.state, r.status],
    )?;
    Ok(())
}

pub(crate) fn run_stands(
    conn: &Connection,
    job: &str,
    run: i64,
    state: i64,
    status: &str,
    ended_ms: Option<i64>,
) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE job_runs SET state = ?3, status = ?4, ended_ms = ?5 WHERE job = ?1 AND run = ?2",
        params![job, run, state, status, ended_ms],
    )?;
    Ok(())
}

pub(crate) fn start_attempt(conn: &Connection, a: &AttemptRow) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO job_attempts (id, job, run, step, step_index, attempt, status, started_ms,
           ended_ms, class, exit_code, signal, error, print, outputs)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
        params![
            a.id,
            a.job,
            a.run,
            a.step,
            a.step_index,
            a.attempt,
            a.status,
            a.started_ms,
            a.ended_ms,
            a.class,
            a.exit_code,
            a.signal,
            a.error,
            print_text(&a.print),
            outputs_text(&a.outputs),
        ],
    )?;
    Ok(())
}

pub(crate) fn end_attempt(conn: &Connection, id: i64, e: &AttemptEndRow) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE job_attempts SET status = ?2, ended_ms = ?3, class = ?4, exit_code = ?5,
           signal = ?6, error = ?7, outputs = ?8 WHERE id = ?1",
        params![
            id,
            e.status,
            e.ended_ms,
            e.class,
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
        job: r.get(1)?,
        run: r.get(2)?,
        step: r.get(3)?,
        step_index: r.get(4)?,
        attempt: r.get(5)?,
        status: r.get(6)?,
        started_ms: r.get(7)?,
        ended_ms: r.get(8)?,
        class: r.get(9)?,
        exit_code: r.get(10)?,
        signal: r.get(11)?,
        error: r.get(12)?,
        print: print_of(&r.get::<_, String>(13)?),
        outputs: outputs_of(r.get(14)?),
    })
}

const ATTEMPT_COLUMNS: &str = "id, job, run, step, step_index, attempt, status, started_ms,
    ended_ms, class, exit_code, signal, error, print, outputs";

impl Store {
    /// The last run of `job`, if it has run.
    pub fn last_job_run(&self, job: &str) -> Result<Option<JobRunRow>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT job, run, started_ms, ended_ms, state, status FROM job_runs
                 WHERE job = ?1 ORDER BY run DESC LIMIT 1",
                [job],
                |r| {
                    Ok(JobRunRow {
                        job: r.get(0)?,
                        run: r.get(1)?,
                        started_ms: r.get(2)?,
                        ended_ms: r.get(3)?,
                        state: r.get(4)?,
                        status: r.get(5)?,
                    })
                },
            )
            .optional()?)
    }

    /// Every attempt of run `run` of `job`, in the order they began.
    pub fn attempts(&self, job: &str, run: i64) -> Result<Vec<AttemptRow>, StoreError> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {ATTEMPT_COLUMNS} FROM job_attempts WHERE job = ?1 AND run = ?2 ORDER BY id"
        ))?;
        let rows = stmt.query_map(params![job, run], attempt)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// How step `step` of `job` last completed (in any run): the print it
    /// ran with and its outputs' hashes — what decides whether a new run
    /// may skip it.
    pub fn last_completion(&self, job: &str, step: &str) -> Result<Option<Completed>, StoreError> {
        let row = self
            .conn
            .query_row(
                &format!(
                    "SELECT {ATTEMPT_COLUMNS} FROM job_attempts
                     WHERE job = ?1 AND step = ?2 AND status = 'completed'
                     ORDER BY id DESC LIMIT 1"
                ),
                params![job, step],
                attempt,
            )
            .optional()?;
        Ok(row.map(|a| Completed {
            print: a.print,
            outputs: a.outputs,
        }))
    }
}
