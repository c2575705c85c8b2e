//! The answer of `POST /v1/plan`: what a start would do.

use crate::status::ServiceStatus;
use serde::{Deserialize, Serialize};

/// What a start would do with one service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanAction {
    /// Running and healthy: used as it is.
    Use,
    /// Running, not healthy yet: its check is waited for.
    Wait,
    /// Started, in `wave`.
    Start,
    /// Not started: a dependency is not up and will not be started.
    Blocked,
}

/// One service of a [`Plan`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanEntry {
    /// The service as it is now.
    pub current: ServiceStatus,
    /// What the start would do with it.
    pub action: PlanAction,
    /// For `start`: 1 for services with nothing to wait for, then one more
    /// than the highest wave among the dependencies it waits for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wave: Option<u32>,
    /// Why ("dependency failed: api", "forced: dependency api not up").
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub detail: String,
}

/// The answer of `POST /v1/plan`: the services in the start's scope, in
/// config order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Plan {
    /// One entry per service in scope.
    pub services: Vec<PlanEntry>,
}
