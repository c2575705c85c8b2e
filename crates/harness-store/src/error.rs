//! What can go wrong with the state database.

use crate::schema::SCHEMA_VERSION;

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

impl StoreError {
    /// Whether the write failed for want of room (`SQLITE_FULL`: a full
    /// disk or a quota): it may go through later. Other IO errors are not
    /// retried.
    pub fn is_no_room(&self) -> bool {
        use rusqlite::ffi::ErrorCode;
        matches!(
            self,
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(e, _))
                if e.code == ErrorCode::DiskFull
        )
    }
}
