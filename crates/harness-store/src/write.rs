//! The writes the daemon's store thread batches, and applying a batch.

use crate::deploys::{self, DeployRow, DeployServiceRow};
use crate::error::StoreError;
use crate::history::{self, HistoryRow};
use crate::jobs::{self, AttemptEndRow, AttemptRow, JobRunRow, RunStands};
use crate::outcomes;
use crate::runs::{self, RunRecord};
use crate::served;
use crate::store::Store;
use harness_core::engine::{Outcome, RunId, UnitId};

/// One write, batched by the daemon's store thread.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Write {
    /// A run started (or was re-attached).
    Run(RunRecord),
    /// A run ended.
    RunEnded {
        /// Whose run.
        unit: UnitId,
        /// Run id.
        run: RunId,
    },
    /// A transition happened.
    History(HistoryRow),
    /// What the engine knows of a service changed.
    Outcome {
        /// Service name.
        service: String,
        /// The new outcome.
        outcome: Outcome,
    },
    /// Run ids below this are taken.
    ReserveRuns {
        /// First free run id.
        up_to: u64,
    },
    /// The state now belongs to the config file of this name (in the
    /// state folder's folder).
    Served(std::path::PathBuf),
    /// Every outcome is forgotten (they were another file's).
    ForgetOutcomes,
    /// A deploy begins, with every service it considers.
    DeployBegan(DeployRow, Vec<DeployServiceRow>),
    /// A service of a deploy settled.
    DeploySettled {
        /// The deploy.
        id: i64,
        /// The service.
        service: String,
        /// How (see [`DeployServiceRow::outcome`]).
        outcome: String,
        /// Why it failed or was blocked.
        detail: String,
    },
    /// A run of a job began.
    JobRunBegan(JobRunRow),
    /// Where a run of a job stands now.
    JobRunStands {
        /// The job.
        job: String,
        /// Its run.
        run: i64,
        /// The step reached, its status, a retry due, its end.
        stands: RunStands,
    },
    /// An attempt is about to be spawned (written, and flushed, first).
    AttemptStarted(Box<AttemptRow>),
    /// An attempt ended.
    AttemptEnded {
        /// Its process's run id.
        process_run: i64,
        /// How.
        end: Box<AttemptEndRow>,
    },
    /// The attempts each step of a run had before it was last resumed.
    JobRunTried {
        /// The job.
        job: String,
        /// Its run.
        run: i64,
        /// Per step, in order.
        tried: Vec<u32>,
    },
    /// The print an attempt runs with, taken just before its spawn (its
    /// inputs may be an earlier step's outputs, made after the run began).
    AttemptPrint {
        /// Its process's run id.
        process_run: i64,
        /// The step's print then.
        print: harness_core::job::resume::StepPrint,
    },
    /// Files' content hashes, with their stamps (kept for a new daemon).
    FileHashes(Vec<crate::jobs::StampedHash>),
    /// A deploy ended.
    DeployEnded {
        /// The deploy.
        id: i64,
        /// When, ms since the Unix epoch.
        ended_ms: i64,
        /// `succeeded`, `failed` or `interrupted`.
        status: String,
    },
}

impl Store {
    /// Applies a batch of writes in one transaction: one commit for the
    /// whole batch, and if one write fails none of the batch is kept.
    pub fn apply(&mut self, writes: &[Write]) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        for w in writes {
            match w {
                Write::Run(r) => runs::insert(&tx, r)?,
                Write::RunEnded { unit, run } => runs::delete(&tx, unit, *run)?,
                Write::History(h) => history::append(&tx, h)?,
                Write::Outcome { service, outcome } => outcomes::save(&tx, service, outcome)?,
                Write::ReserveRuns { up_to } => runs::reserve_up_to(&tx, *up_to)?,
                Write::Served(config) => served::set(&tx, config)?,
                Write::ForgetOutcomes => served::forget_outcomes(&tx)?,
                Write::DeployBegan(d, services) => deploys::begin(&tx, d, services)?,
                Write::DeploySettled {
                    id,
                    service,
                    outcome,
                    detail,
                } => deploys::settle(&tx, *id, service, outcome, detail)?,
                Write::DeployEnded {
                    id,
                    ended_ms,
                    status,
                } => deploys::end(&tx, *id, *ended_ms, status)?,
                Write::JobRunBegan(r) => jobs::begin_run(&tx, r)?,
                Write::JobRunStands { job, run, stands } => {
                    jobs::run_stands(&tx, job, *run, stands)?
                }
                Write::AttemptStarted(a) => jobs::start_attempt(&tx, a)?,
                Write::FileHashes(h) => jobs::keep_hashes(&tx, h)?,
                Write::JobRunTried { job, run, tried } => jobs::run_tried(&tx, job, *run, tried)?,
                Write::AttemptPrint { process_run, print } => {
                    jobs::attempt_print(&tx, *process_run, print)?
                }
                Write::AttemptEnded { process_run, end } => {
                    jobs::end_attempt(&tx, *process_run, end)?
                }
            }
        }
        tx.commit()?;
        Ok(())
    }
}
