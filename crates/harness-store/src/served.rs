//! Which config file the state folder's state belongs to. A folder may
//! hold several config files, and one daemon serves one of them at a time:
//! a daemon for another file must neither take over this file's runs nor
//! inherit its outcomes.

use crate::error::StoreError;
use crate::store::Store;
use rusqlite::{Connection, OptionalExtension, params};
use std::path::{Path, PathBuf};

impl Store {
    /// The config file the state belongs to; `None` before any daemon
    /// recorded one (a new file, or one written before schema 5).
    pub fn served(&self) -> Result<Option<PathBuf>, StoreError> {
        let file: Option<String> = self
            .conn
            .query_row("SELECT config FROM served WHERE id = 1", [], |r| r.get(0))
            .optional()?;
        Ok(file.map(PathBuf::from))
    }
}

/// Records that the state belongs to `config`.
pub(crate) fn set(conn: &Connection, config: &Path) -> Result<(), StoreError> {
    conn.execute(
        "INSERT OR REPLACE INTO served VALUES (1, ?1)",
        params![config.to_string_lossy()],
    )?;
    Ok(())
}

/// Forgets every service's outcome: they were another file's.
pub(crate) fn forget_outcomes(conn: &Connection) -> Result<(), StoreError> {
    conn.execute("DELETE FROM outcomes", [])?;
    Ok(())
}
