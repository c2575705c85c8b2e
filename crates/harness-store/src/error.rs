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
