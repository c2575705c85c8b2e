//! # harness-store: `.harness/state.db`
//!
//! Theory of operation: SQLite in WAL mode holds what must outlive the
//! daemon. `runs` has one row per run that has a process (a service has one,
//! or two while a start-first deploy runs both versions): the shim's
//! and the service's pid *and process start time*, so a new daemon
//! re-attaches to exactly those processes and never to a reused pid.
//! `outcomes` has what the engine knows of each service apart from its
//! process (failed, blocked, last exit, wanted up, the restart policy's
//! streak, window and total, a restart that is due). `history` is the
//! append-only log of every state transition with its reason. `deploys` and
//! `deploy_services` record each deploy and what it did with each service,
//! as it happens; `job_runs` and `job_attempts` each run of a job and
//! each attempt at a step (written `started` before its spawn). The schema is
//! versioned in `meta`; opening an older database migrates it forward.

mod clock;
mod deploys;
mod error;
mod history;
mod jobs;
mod outcomes;
pub mod private;
mod project;
mod runs;
mod schema;
mod served;
mod store;
pub mod versions;
mod write;

#[cfg(test)]
mod tests;

pub use deploys::{DeployOutcome, DeployRow, DeployServiceRow};
pub use error::StoreError;
pub use history::HistoryRow;
pub use jobs::{AttemptEndRow, AttemptRow, JobRunRow, RunStands, StampedHash};
pub use project::{CONFIG_NAMES, Project, same_file};
pub use runs::{RunRecord, same_process, start_time};
pub use schema::SCHEMA_VERSION;
pub use served::{Owner, runs_here};
pub use store::Store;
pub use write::Write;
