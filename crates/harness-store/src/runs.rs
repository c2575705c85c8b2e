//! Live runs: one row per run that has a process (a service has one, or
//! two while a start-first deploy runs its new version beside the old),
//! and the counter that hands out run ids. The `service` column holds the
//! unit's key ([`UnitId::key`]), which for a service is its name, so files
//! written before units existed read the same.

use crate::error::StoreError;
use crate::store::Store;
use harness_core::engine::{Definition, RunId, UnitId};
use rusqlite::{Connection, params};

/// A live (or last known) run of a unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunRecord {
    /// Whose run.
    pub unit: UnitId,
    /// Run id.
    pub run: RunId,
    /// The shim's pid; an adopted process has no shim, and this is its
    /// own pid (the process watched).
    pub shim_pid: u32,
    /// The shim's start time (clock ticks since boot, /proc/PID/stat field 22).
    pub shim_start: u64,
    /// The service's main pid.
    pub pid: u32,
    /// The service's start time in clock ticks since boot.
    pub pid_start: u64,
    /// Wall-clock start, ms since the Unix epoch.
    pub started_at_ms: i64,
    /// What it was spawned with; `None` for a run recorded before schema 5,
    /// and for an adopted process.
    pub definition: Option<Definition>,
    /// A process harness adopted (`harness adopt`), not one it spawned:
    /// its end is watched, never read from an exit file (schema 10).
    pub adopted: bool,
}

impl RunRecord {
    /// Whether its shim or its service is still the process recorded (by
    /// pid and start time, so a reused pid does not count).
    pub fn alive(&self) -> bool {
        same_process(self.shim_pid, self.shim_start) || same_process(self.pid, self.pid_start)
    }
}

impl Store {
    /// Every recorded live run, oldest first.
    pub fn runs(&self) -> Result<Vec<RunRecord>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT service, run, shim_pid, shim_start, pid, pid_start, started_at_ms, definition,
                    adopted
             FROM runs ORDER BY run",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(RunRecord {
                unit: UnitId::from_key(&r.get::<_, String>(0)?),
                run: RunId(r.get::<_, i64>(1)? as u64),
                shim_pid: r.get(2)?,
                shim_start: r.get::<_, i64>(3)? as u64,
                pid: r.get(4)?,
                pid_start: r.get::<_, i64>(5)? as u64,
                started_at_ms: r.get(6)?,
                definition: r
                    .get::<_, Option<String>>(7)?
                    .as_deref()
                    .and_then(Definition::from_text),
                adopted: r.get(8)?,
            })
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
}

/// Records a run that started or was re-attached.
pub(crate) fn insert(conn: &Connection, r: &RunRecord) -> Result<(), StoreError> {
    conn.execute(
        "INSERT OR REPLACE INTO runs
           (service, run, shim_pid, shim_start, pid, pid_start, started_at_ms, definition,
            adopted)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            r.unit.key(),
            r.run.0 as i64,
            r.shim_pid,
            r.shim_start as i64,
            r.pid,
            r.pid_start as i64,
            r.started_at_ms,
            r.definition.as_ref().map(Definition::to_text),
            r.adopted
        ],
    )?;
    Ok(())
}

/// Forgets `unit`'s run `run`; only that run, so the end of an older run
/// cannot remove the row of a newer one (nor of one beside it).
pub(crate) fn delete(conn: &Connection, unit: &UnitId, run: RunId) -> Result<(), StoreError> {
    conn.execute(
        "DELETE FROM runs WHERE service = ?1 AND run = ?2",
        params![unit.key(), run.0 as i64],
    )?;
    Ok(())
}

/// Marks the run ids below `up_to` as taken. `max`, so the counter never
/// moves back and no id is handed out twice.
pub(crate) fn reserve_up_to(conn: &Connection, up_to: u64) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE meta SET value = max(value, ?1) WHERE key = 'next_run'",
        params![up_to as i64],
    )?;
    Ok(())
}

/// Start time of a process in clock ticks since boot (field 22 of
/// `/proc/PID/stat`): with the pid, it names one process for good, which
/// is what a run record keeps of its shim and its service.
pub fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, rest) = stat.rsplit_once(')')?;
    rest.split_whitespace().nth(19)?.parse().ok()
}

/// Whether `pid` is still the process that started at `start`, not a
/// reuse of its pid.
pub fn same_process(pid: u32, start: u64) -> bool {
    start_time(pid) == Some(start)
}
