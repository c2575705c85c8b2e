//! The connection, and opening it.

use crate::error::StoreError;
use crate::schema;
use rusqlite::{Connection, OpenFlags};
use std::path::Path;

/// A connection to the state database.
pub struct Store {
    /// Crate-visible so each table's module can add its own methods.
    pub(crate) conn: Connection,
}

impl Store {
    /// Opens (creating or migrating) the database at `path`.
    ///
    /// The daemon's store thread is not the only connection (the history
    /// route opens its own to read), hence WAL, so readers and the writer
    /// do not block each other, and a busy timeout for the moments they
    /// still do. `synchronous = NORMAL` is WAL's usual pairing: commits skip
    /// the fsync, which can cost the last few on a power cut but nothing on
    /// a crash of harness, and never the file's consistency.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        // Private before SQLite opens it: its WAL and shared-memory files
        // take the database's mode.
        let _ = crate::private::create(path);
        let conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        let store = Store { conn };
        schema::migrate(&store.conn)?;
        Ok(store)
    }

    /// Opens the database at `path` to read only: no migration, no write.
    /// For readers beside the daemon (the history route), which opened the
    /// file for writing and migrated it when it started.
    pub fn open_read_only(path: &Path) -> Result<Store, StoreError> {
        let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        Ok(Store { conn })
    }

    /// Lets the database grow to no more than it holds now plus `pages`
    /// pages: a write past that fails as it would on a full disk
    /// (`SQLITE_FULL`), and `None` lifts the limit. How the daemon's
    /// handling of a full disk is tested without one.
    pub fn limit_growth(&self, pages: Option<i64>) -> Result<(), StoreError> {
        let now: i64 = self.conn.query_row("PRAGMA page_count", [], |r| r.get(0))?;
        let max = pages.map_or(u32::MAX as i64 - 1, |p| now + p);
        self.conn.pragma_update(None, "max_page_count", max)?;
        Ok(())
    }
}
