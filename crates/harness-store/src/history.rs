//! History: the append-only log of every state transition, with its reason.

use crate::error::StoreError;
use crate::store::Store;
use rusqlite::{Connection, params};

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

impl Store {
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

/// Appends one transition.
pub(crate) fn append(conn: &Connection, h: &HistoryRow) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO history (ts_ms, service, from_state, to_state, reason, cause)
           VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![h.ts_ms, h.service, h.from, h.to, h.reason, h.cause],
    )?;
    Ok(())
}
