//! `POST /v1/deploy/plan` (what a deploy would do) and the request of
//! `POST /v1/deploy`.

use serde::{Deserialize, Serialize};

/// A deploy, or its plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct DeployRequest {
    /// Only these services (of the file, or running and gone from it);
    /// empty: all.
    #[serde(default)]
    pub services: Vec<String>,
    /// Keep services gone from the file running (`--no-prune`).
    #[serde(default)]
    pub no_prune: bool,
}

/// What a deploy does with one service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeployAction {
    /// In the file, no run: started.
    Add,
    /// Its run is of another definition: replaced.
    Change,
    /// Only how harness watches it changed: taken without a restart.
    InPlace,
    /// Running, gone from the file: stopped.
    Remove,
    /// Runs what the file says.
    Unchanged,
}

/// One service of a [`DeployPlan`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeployEntry {
    /// The service.
    pub service: String,
    /// What the deploy does with it.
    pub action: DeployAction,
    /// Why, never with a value ("command changed", "env PGPORT changed").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<String>,
}

/// The answer of `POST /v1/deploy/plan`: removals first (in the order they
/// are stopped), then the file's services in file order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct DeployPlan {
    /// One entry per service considered.
    pub services: Vec<DeployEntry>,
    /// Whether anything would change.
    pub pending: bool,
}
