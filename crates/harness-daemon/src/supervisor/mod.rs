//! The supervisor task: the only owner of the engine. It turns requests and
//! facts into engine [`Input`](harness_core::engine::Input)s, steps the
//! engine, and carries out the [`Action`](harness_core::engine::Action)s.
//!
//! - [`handle`]: the messages in, and the handle that sends them;
//! - `boot`: open the store, restore what the last daemon knew, re-attach;
//! - `main_loop`: one message at a time, with the engine's next deadline;
//! - `requests`: API requests as engine inputs (targets, options, plans);
//! - `config_file`: the config as on disk, parsed once per change;
//! - `execute`: each action's effect (spawn, stop, probe, history, logs);
//! - `runs`: the task of each run (spawn, watch, notify, log readiness) and
//!   how a run's end is found out, also for a run nobody watched;
//! - `deploys`: one deploy at a time, and the log of its events;
//! - `outcomes`: what is kept in the store for the next daemon;
//! - `outside`: services running outside harness, found and re-checked;
//!   `adopt` what `harness adopt` shows and makes harness's run;
//! - `jobs`: each job's run (its `Runner`), begun, fed and controlled;
//!   `job_actions` what its actions do; `step_runs` each attempt's
//!   process; `job_decisions` a person's decisions and marks; `job_needs`
//!   the services a job needs; `job_boot` the runs a killed daemon left.

mod adopt;
mod boot;
mod config_file;
mod deploys;
mod execute;
mod handle;
mod interrupted;
mod job_actions;
mod job_boot;
mod job_decisions;
mod job_needs;
mod jobs;
mod main_loop;
pub(crate) mod observe;
mod outcomes;
mod outside;
mod reattach;
mod requests;
mod runs;
mod step_runs;

pub use deploys::Numbered;
pub(crate) use execute::is_restart_mark;
pub use handle::{DeployReply, Handle, Msg, OpReply};
pub use jobs::{JobControl, StepFact};

use crate::metrics;
use crate::process;
use crate::store_writer::StoreWriter;
use config_file::ConfigFile;
use harness_api::OpEvent;
use harness_core::engine::{Engine, OpId, Outcome, RunId};
use harness_store::Project;
use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};
use tokio::sync::mpsc;
use tokio::task::AbortHandle;

/// Buffer of each client's event channel; a client this far behind is cut
/// off rather than allowed to slow the supervisor.
const CLIENT_BUFFER: usize = 4096;

/// A stop asked for while a deploy ran, waiting for it to end.
struct ParkedStop {
    op: harness_core::engine::OpId,
    /// The services it stops, by name.
    names: Vec<String>,
    options: harness_core::engine::StopOptions,
}

/// The supervisor's state.
pub struct Supervisor {
    project: Project,
    engine: Engine,
    /// The config file, re-read only when it changed.
    config: ConfigFile,
    rx: mpsc::UnboundedReceiver<Msg>,
    tx: mpsc::UnboundedSender<Msg>,
    store: StoreWriter,
    clients: HashMap<OpId, mpsc::Sender<OpEvent>>,
    /// The stop task of each run being stopped, by run (never reused),
    /// aborted when the run ends.
    stops: HashMap<RunId, AbortHandle>,
    /// The runs that are processes harness adopted, and those processes:
    /// stopped as such (`process::stop_adopted`), not as a shim's group,
    /// and their output read where they write it (`harness logs`).
    adopted: HashMap<RunId, crate::adopted_output::AdoptedProcess>,
    /// What the last look outside harness found, by service: what
    /// `harness adopt` shows, and what an adoption is checked against.
    outside: HashMap<String, harness_core::external::External>,
    next_op: OpId,
    /// The next deploy's number (its operation's id).
    next_deploy: u64,
    /// Each service's outcome as last written to the store.
    saved: HashMap<String, Outcome>,
    /// Last probe latencies, for `/metrics`.
    latencies: metrics::Latencies,
    /// The spare shim new runs start under.
    shims: process::ShimPool,
    /// The deploys run, with their events.
    deploys: deploys::DeployLogs,
    /// Stops asked for while a deploy ran, in order: fed once it is done
    /// (a stop cancels the deploy, then wins).
    after_deploy: Vec<ParkedStop>,
    /// Deploys and their services counted, for `/metrics`.
    deploy_counts: metrics::DeployCounts,
    /// Jobs' step attempts counted, for `/metrics`.
    job_counts: metrics::JobCounts,
    /// The listening sockets of services with `socket:`.
    listeners: crate::listeners::Listeners,
    /// Jobs' runs.
    jobs: jobs::Jobs,
    /// Content hashes of the files jobs' steps name (shared with requests).
    hashes: std::sync::Arc<std::sync::Mutex<crate::file_hashes::FileHashes>>,
}

/// Wall-clock milliseconds since the Unix epoch, as the store keeps time.
fn wall_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
