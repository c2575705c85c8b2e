//! The writes the daemon's store thread batches, and applying a batch.

use crate::error::StoreError;
use crate::history::{self, HistoryRow};
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
            }
        }
        tx.commit()?;
        Ok(())
    }
}
