//! # harness-api: the vocabulary shared by the daemon, the CLI and tests
//!
//! Every type here is serialized as JSON on the daemon's Unix socket. Field
//! names are part of the contract (`status --json` prints [`StatusReport`]
//! as it is), so renaming one is a breaking change: add fields, never rename.
//! [`API_VERSION`] is the prefix of every route.

use serde::{Deserialize, Serialize};

mod deploy;
mod error;
mod events;
mod external;
mod history;
mod jobs;
mod logs;
mod plan;
mod requests;
mod status;

pub use deploy::{
    DeployAction, DeployDone, DeployEntry, DeployEvent, DeployFailed, DeployPhase, DeployPlan,
    DeployProgress, DeployRecord, DeployRequest, DeployedService, Kept, RollbackRequest,
};
pub use error::{ApiError, ApiErrorKind};
pub use events::{
    OpEvent, Phase, Progress, Recovery, RecoveryBegins, Summary, Warning, WarningReason,
};
pub use external::{Adopted, ExternalInstance, ExternalRequest, Replaced};
pub use history::{CHOICE_SUBJECT, Choice, HistoryEntry};
pub use jobs::{
    CleanupEvent, JobDecideRequest, JobDecision, JobDone, JobEvent, JobFailure, JobMarkRequest,
    JobPlan, JobRecord, JobRunEntry, JobRunRequest, NextAction, PlannedStep, StateEntry, StepEvent,
    StepStatus,
};
pub use logs::{LogLine, LogStream};
pub use plan::{Plan, PlanAction, PlanEntry};
pub use requests::{
    HealthRequest, HealthResult, OnFailure, PlanRequest, StartRequest, StopRequest,
};
pub use status::{Health, ServiceStatus, Status, StatusReport, SystemState};

/// Routes live under `/v1/…`.
pub const API_VERSION: &str = "v1";

/// The request header naming the config file a request was made with (an
/// absolute path, percent-encoded: a path is bytes, a header is ASCII). A daemon serves one file; a start, plan, stop or health
/// check made with another is refused (409, `usage`) rather than carried
/// out on a definition the user did not name.
pub const CONFIG_HEADER: &str = "x-harness-config";

/// The response header of `POST /v1/deploy` with the deploy's id, sent
/// before its first event (`GET /v1/deploys/ID/events` follows it again).
pub const DEPLOY_HEADER: &str = "x-harness-deploy";

/// `GET /v1/info`: who is serving this socket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DaemonInfo {
    /// Daemon process id.
    pub pid: u32,
    /// The config file it serves.
    pub config: String,
    /// harness version.
    pub version: String,
}
