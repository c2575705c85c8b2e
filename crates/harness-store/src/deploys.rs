//! Deploys: one row per deploy (`deploys`), and what it did with each
//! service (`deploy_services`), written as it happens. A deploy still
//! `running` when a daemon starts was cut short by the last one's death:
//! the new daemon marks it `interrupted` and finishes its removals.

use crate::error::StoreError;
use crate::store::Store;
use rusqlite::{Connection, OptionalExtension, params};

/// How a deploy ended with one service: the one spelling of
/// `deploy_services.outcome`, for the daemon that writes it and the
/// clients that read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeployOutcome {
    /// Its new version passed the gate.
    Deployed,
    /// Taken without a restart.
    InPlace,
    /// Already as the file says.
    Unchanged,
    /// Gone from the file, stopped.
    Removed,
    /// Gone from the file, left running (`--no-prune`).
    Kept,
    /// Its new version failed; nothing of it runs, or the new one does
    /// not (see the detail).
    Failed,
    /// Its new version failed; its previous one runs again.
    Reverted,
    /// Not acted on because of a dependency.
    Blocked,
    /// Not acted on: the deploy was cancelled first.
    Cancelled,
    /// Its daemon died before it settled.
    Interrupted,
}

impl DeployOutcome {
    /// Every outcome, in the order reports list them.
    pub const ALL: [DeployOutcome; 10] = [
        DeployOutcome::Deployed,
        DeployOutcome::InPlace,
        DeployOutcome::Removed,
        DeployOutcome::Kept,
        DeployOutcome::Unchanged,
        DeployOutcome::Failed,
        DeployOutcome::Reverted,
        DeployOutcome::Blocked,
        DeployOutcome::Cancelled,
        DeployOutcome::Interrupted,
    ];

    /// The stored word.
    pub fn as_str(self) -> &'static str {
        match self {
            DeployOutcome::Deployed => "deployed",
            DeployOutcome::InPlace => "in-place",
            DeployOutcome::Unchanged => "unchanged",
            DeployOutcome::Removed => "removed",
            DeployOutcome::Kept => "kept",
            DeployOutcome::Failed => "failed",
            DeployOutcome::Reverted => "reverted",
            DeployOutcome::Blocked => "blocked",
            DeployOutcome::Cancelled => "cancelled",
            DeployOutcome::Interrupted => "interrupted",
        }
    }
}

/// One deploy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeployRow {
    /// Its id (the SSE stream's `x-harness-deploy`).
    pub id: i64,
    /// When it began, ms since the Unix epoch.
    pub started_ms: i64,
    /// When it ended, if it did.
    pub ended_ms: Option<i64>,
    /// The config file's name.
    pub config: String,
    /// `running`, `succeeded`, `failed`, `cancelled` or `interrupted`.
    pub status: String,
}

/// What one deploy did with one service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeployServiceRow {
    /// The service.
    pub service: String,
    /// `add`, `change`, `in-place`, `remove` or `unchanged`.
    pub action: String,
    /// Why, comma-separated ("command changed, env PGPORT changed").
    pub reasons: String,
    /// The version it ran before (a short print hash), if known.
    pub from_version: Option<String>,
    /// The version the file asked for.
    pub to_version: Option<String>,
    /// How it ended: `deployed`, `in-place`, `unchanged`, `removed`,
    /// `kept`, `failed`, `reverted`, `blocked`, `cancelled`,
    /// `interrupted`; `None` while open.
    pub outcome: Option<String>,
    /// Why it failed or was blocked.
    pub detail: String,
}

impl Store {
    /// The last `limit` deploys, newest first.
    pub fn deploys(&self, limit: u32) -> Result<Vec<DeployRow>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT id, started_ms, ended_ms, config, status FROM deploys
             ORDER BY id DESC LIMIT ?1",
        )?;
        let rows = stmt.query_map([limit], row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Deploy `id` and its services, in plan order.
    pub fn deploy(
        &self,
        id: i64,
    ) -> Result<Option<(DeployRow, Vec<DeployServiceRow>)>, StoreError> {
        let d = self
            .conn
            .query_row(
                "SELECT id, started_ms, ended_ms, config, status FROM deploys WHERE id = ?1",
                [id],
                row,
            )
            .optional()?;
        let Some(d) = d else {
            return Ok(None);
        };
        let mut stmt = self.conn.prepare(
            "SELECT service, action, reasons, from_version, to_version, outcome, detail
             FROM deploy_services WHERE deploy = ?1 ORDER BY rowid",
        )?;
        let services = stmt
            .query_map([id], |r| {
                Ok(DeployServiceRow {
                    service: r.get(0)?,
                    action: r.get(1)?,
                    reasons: r.get(2)?,
                    from_version: r.get(3)?,
                    to_version: r.get(4)?,
                    outcome: r.get(5)?,
                    detail: r.get(6)?,
                })
            })?
            .collect::<Result<_, _>>()?;
        Ok(Some((d, services)))
    }

    /// The highest deploy id used so far (0: none).
    pub fn last_deploy_id(&self) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT coalesce(max(id), 0) FROM deploys", [], |r| r.get(0))?)
    }
}

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<DeployRow> {
    Ok(DeployRow {
        id: r.get(0)?,
        started_ms: r.get(1)?,
        ended_ms: r.get(2)?,
        config: r.get(3)?,
        status: r.get(4)?,
    })
}

pub(crate) fn begin(
    conn: &Connection,
    d: &DeployRow,
    services: &[DeployServiceRow],
) -> Result<(), StoreError> {
    conn.execute(
        "INSERT OR REPLACE INTO deploys (id, started_ms, ended_ms, config, status)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![d.id, d.started_ms, d.ended_ms, d.config, d.status],
    )?;
    for s in services {
        conn.execute(
            "INSERT OR REPLACE INTO deploy_services
               (deploy, service, action, reasons, from_version, to_version, outcome, detail)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                d.id,
                s.service,
                s.action,
                s.reasons,
                s.from_version,
                s.to_version,
                s.outcome,
                s.detail
            ],
        )?;
    }
    Ok(())
}

pub(crate) fn settle(
    conn: &Connection,
    id: i64,
    service: &str,
    outcome: &str,
    detail: &str,
) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE deploy_services SET outcome = ?3, detail = ?4 WHERE deploy = ?1 AND service = ?2",
        params![id, service, outcome, detail],
    )?;
    Ok(())
}

pub(crate) fn end(
    conn: &Connection,
    id: i64,
    ended_ms: i64,
    status: &str,
) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE deploys SET ended_ms = ?2, status = ?3 WHERE id = ?1",
        params![id, ended_ms, status],
    )?;
    Ok(())
}
