//! Which services a request names: by name, all of them, or those whose
//! last start failed or was blocked (`start --failed`, `--blocked`).

use super::service::Engine;
use crate::report::Health;
use std::time::Instant;

/// How a request picks its services.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Selection {
    /// Services named.
    pub names: Vec<String>,
    /// Every service (also when no name is given).
    pub all: bool,
    /// Those whose last start failed.
    pub failed: bool,
    /// Those that were blocked; with names, those of them that are.
    pub blocked: bool,
}

/// Why a selection cannot be made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SelectionError {
    /// A name that is not a service of the config.
    Unknown {
        /// The name asked for.
        name: String,
        /// The services there are.
        known: Vec<String>,
    },
    /// `failed` and `blocked` together.
    FailedAndBlocked,
}

impl std::fmt::Display for SelectionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SelectionError::Unknown { name, known } => write!(
                f,
                "unknown service `{name}`; services are: {}",
                known.join(", ")
            ),
            SelectionError::FailedAndBlocked => {
                f.write_str("`failed` and `blocked` cannot be combined")
            }
        }
    }
}

impl Engine {
    /// The services (by index, in the order asked) that `sel` picks.
    pub fn select(&self, sel: &Selection, now: Instant) -> Result<Vec<usize>, SelectionError> {
        let picked = |health: Health| -> Vec<usize> {
            (0..self.svcs.len())
                .filter(|&i| self.view(i, now).health == health)
                .collect()
        };
        match (sel.failed, sel.blocked) {
            (true, true) => Err(SelectionError::FailedAndBlocked),
            (true, false) => Ok(picked(Health::Failed)),
            (false, true) => {
                // Named: those of them that are blocked (a prompt's Force
                // continue names the blocked services of its own start).
                let blocked = picked(Health::Blocked);
                if sel.names.is_empty() {
                    return Ok(blocked);
                }
                Ok(self
                    .resolve(&sel.names)?
                    .into_iter()
                    .filter(|i| blocked.contains(i))
                    .collect())
            }
            (false, false) if sel.all || sel.names.is_empty() => Ok((0..self.svcs.len()).collect()),
            (false, false) => self.resolve(&sel.names),
        }
    }

    /// Service indices for names; every service when there are none.
    pub fn resolve_or_all(&self, names: &[String]) -> Result<Vec<usize>, SelectionError> {
        if names.is_empty() {
            Ok((0..self.svcs.len()).collect())
        } else {
            self.resolve(names)
        }
    }

    /// Service indices for names.
    pub fn resolve(&self, names: &[String]) -> Result<Vec<usize>, SelectionError> {
        names
            .iter()
            .map(|n| {
                self.graph.index(n).ok_or_else(|| SelectionError::Unknown {
                    name: n.clone(),
                    known: self.config.names().map(str::to_string).collect(),
                })
            })
            .collect()
    }
}
