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
    /// The `digest` of the plan the user was shown: the deploy begins only
    /// if the file still gives that plan (else 409, kind `changed`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<String>,
}

/// `POST /v1/rollback`: deploy an earlier version of one service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct RollbackRequest {
    /// The service.
    pub service: String,
    /// The version (six hex digits); default: the one it ran before the
    /// deploy that brought what runs.
    #[serde(default)]
    pub to: Option<String>,
}

/// What a deploy does with one service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeployAction {
    /// In the file, no run: started.
    Add,
    /// Its run is of another definition: replaced.
    Change,
    /// Like a change, and a deploy of it failed before (the first reason
    /// says which).
    Drifted,
    /// Only how harness watches it changed: taken without a restart.
    InPlace,
    /// Running, gone from the file: stopped.
    Remove,
    /// Runs what the file says.
    Unchanged,
    /// Runs outside harness (not started by it): left as it is.
    External,
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
    /// The version that runs (six hex digits of its definition print),
    /// when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// The version the file asks for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
}

/// The answer of `POST /v1/deploy/plan`: removals first (in the order they
/// are stopped), then the file's services in file order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct DeployPlan {
    /// One entry per service considered.
    pub services: Vec<DeployEntry>,
    /// Whether anything would change.
    pub pending: bool,
    /// A print of the plan, to send back with the deploy
    /// (`DeployRequest::plan`).
    #[serde(default)]
    pub digest: String,
}

/// Where one service of a deploy stands (the `phase` of a `progress`
/// event).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeployPhase {
    /// Acted on now: its dependencies are where they must be.
    Scheduled,
    /// Its running version is being stopped.
    Stopping,
    /// Its new version was spawned; the health gate is under way.
    Starting,
    /// Its new version passed the health gate: committed (final).
    Healthy,
    /// Taken without a restart (final).
    InPlace,
    /// Gone from the file, stopped (final).
    Removed,
    /// Gone from the file, left running: `--no-prune` (final).
    Kept,
    /// Its new version failed; its previous version is being started.
    Reverting,
    /// Not acted on because of a dependency; runs what it ran (final).
    Blocked,
    /// Not acted on: the deploy was cancelled first (final).
    Cancelled,
}

impl DeployPhase {
    /// Whether this phase ends the service's part in the deploy.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            DeployPhase::Healthy
                | DeployPhase::InPlace
                | DeployPhase::Removed
                | DeployPhase::Kept
                | DeployPhase::Blocked
                | DeployPhase::Cancelled
        )
    }
}

/// The SSE event `progress` of a deploy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeployProgress {
    /// The service.
    pub service: String,
    /// Where it stands.
    pub phase: DeployPhase,
    /// Where it is scheduled (with `scheduled`): `local`, this machine.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// Why, or how.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub detail: String,
}

/// What a service whose new version failed runs afterwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kept {
    /// Nothing.
    None,
    /// Its previous run, never touched (start-first).
    Previous,
    /// Its previous version, started again (stop-first, `auto_revert`).
    Reverted,
}

/// The SSE event `failed`: a service did not reach its new version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeployFailed {
    /// The service.
    pub service: String,
    /// Why its new version failed.
    pub reason: String,
    /// What it runs now.
    pub kept: Kept,
}

/// The SSE event `done`, always the last: the deploy's result. Every
/// service considered is in one list (`reverted` is part of `failed`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct DeployDone {
    /// Seconds from the request to the last service settled.
    pub elapsed: f64,
    /// Whether every service reached what the file says. This, not the
    /// HTTP status, is the result.
    pub success: bool,
    /// The deploy's id (`GET /v1/deploys/ID/events`).
    pub deploy: u64,
    /// Added or changed, and committed.
    #[serde(default)]
    pub deployed: Vec<String>,
    /// Taken without a restart.
    #[serde(default)]
    pub in_place: Vec<String>,
    /// Already as the file says.
    #[serde(default)]
    pub unchanged: Vec<String>,
    /// Gone from the file, stopped.
    #[serde(default)]
    pub removed: Vec<String>,
    /// Gone from the file, left running (`--no-prune`).
    #[serde(default)]
    pub kept: Vec<String>,
    /// Their new version failed.
    #[serde(default)]
    pub failed: Vec<String>,
    /// Of `failed`: running their previous version again.
    #[serde(default)]
    pub reverted: Vec<String>,
    /// Not acted on because of a dependency.
    #[serde(default)]
    pub blocked: Vec<String>,
    /// Not acted on: the deploy was cancelled first
    /// (`POST /v1/deploys/ID/cancel`, Ctrl-C).
    #[serde(default)]
    pub cancelled: Vec<String>,
}

/// The events of a deploy stream (Server-Sent Events); each is sent with
/// an `id:`, its place in the deploy, from 1.
#[derive(Debug, Clone, PartialEq)]
pub enum DeployEvent {
    /// `progress`.
    Progress(DeployProgress),
    /// `failed`.
    Failed(DeployFailed),
    /// `done`.
    Done(DeployDone),
}

impl DeployEvent {
    /// The SSE event name.
    pub fn name(&self) -> &'static str {
        match self {
            DeployEvent::Progress(_) => "progress",
            DeployEvent::Failed(_) => "failed",
            DeployEvent::Done(_) => "done",
        }
    }

    /// The SSE data: the payload as JSON.
    pub fn data(&self) -> String {
        let json = match self {
            DeployEvent::Progress(p) => serde_json::to_string(p),
            DeployEvent::Failed(f) => serde_json::to_string(f),
            DeployEvent::Done(d) => serde_json::to_string(d),
        };
        json.unwrap_or_default()
    }

    /// An event read back; `Ok(None)` for a name this version does not
    /// know.
    pub fn parse(name: &str, data: &str) -> Result<Option<DeployEvent>, serde_json::Error> {
        Ok(match name {
            "progress" => Some(DeployEvent::Progress(serde_json::from_str(data)?)),
            "failed" => Some(DeployEvent::Failed(serde_json::from_str(data)?)),
            "done" => Some(DeployEvent::Done(serde_json::from_str(data)?)),
            _ => None,
        })
    }
}

/// A deploy as `state.db` keeps it (`GET /v1/deploys`, `GET
/// /v1/deploys/ID`, `harness deploy history` and `deploy status`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeployRecord {
    /// Its id.
    pub id: u64,
    /// When it began (local time).
    pub started: String,
    /// When it ended, if it did.
    #[serde(default)]
    pub ended: Option<String>,
    /// Seconds it took, once ended.
    #[serde(default)]
    pub took_secs: Option<f64>,
    /// The config file's name.
    pub config: String,
    /// `running`, `succeeded`, `failed`, `cancelled` (Ctrl-C: some
    /// services never began) or `interrupted` (its daemon died before it
    /// ended; the next one finished its removals).
    pub status: String,
    /// What it did with each service, in plan order.
    pub services: Vec<DeployedService>,
}

/// What a deploy did with one service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeployedService {
    /// The service.
    pub service: String,
    /// What the plan said.
    pub action: DeployAction,
    /// Why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<String>,
    /// The version it ran, when known.
    #[serde(default)]
    pub from: Option<String>,
    /// The version the file asked for.
    #[serde(default)]
    pub to: Option<String>,
    /// `deployed`, `in-place`, `unchanged`, `removed`, `kept`, `failed`,
    /// `reverted`, `blocked`, `interrupted`; `null` while the deploy runs.
    #[serde(default)]
    pub outcome: Option<String>,
    /// Why it failed or was blocked.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub detail: String,
}
