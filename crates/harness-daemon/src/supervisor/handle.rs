//! How the rest of the daemon talks to the supervisor: [`Msg`]s over an
//! unbounded queue through a cheap, clonable [`Handle`]. Requests carry a
//! oneshot for their answer; facts from run, probe and timer tasks carry
//! an engine [`Input`].

use harness_api::{
    ApiError, Choice, DeployPlan, DeployRequest, HealthResult, JobEvent, OpEvent, Plan,
    PlanRequest, StartRequest, StopRequest,
};
use harness_core::engine::{Input, OpId, ProbeKind};
use harness_core::report::StatusView;
use harness_store::Project;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, watch};

/// The answer to a start or stop: its id and its event stream.
pub type OpReply = oneshot::Sender<Result<(OpId, mpsc::Receiver<OpEvent>), ApiError>>;

/// The answer to a deploy (or to following one): its id and its events.
pub type DeployReply = oneshot::Sender<Result<(u64, mpsc::Receiver<super::Numbered>), ApiError>>;

/// Messages to the supervisor.
pub enum Msg {
    /// `POST /v1/start`.
    /// With the file as the API handler observed it off the loop (a
    /// start spawns with every `version.command` run again).
    Start(
        StartRequest,
        Box<Result<super::observe::Observed, ApiError>>,
        OpReply,
    ),
    /// `POST /v1/stop`.
    Stop(StopRequest, OpReply),
    /// The client of an operation went away.
    Cancel(OpId),
    /// `POST /v1/plan`.
    Plan(PlanRequest, oneshot::Sender<Result<Plan, ApiError>>),
    /// `POST /v1/deploy/plan`, with the file as the request observed it.
    DeployPlan(
        DeployRequest,
        Box<Result<super::observe::Observed, ApiError>>,
        oneshot::Sender<Result<DeployPlan, ApiError>>,
    ),
    /// `POST /v1/deploy`, with the file as the request observed it.
    Deploy(
        DeployRequest,
        Box<Result<super::observe::Observed, ApiError>>,
        DeployReply,
    ),
    /// `GET /v1/deploys/ID/events`: deploy ID's events after the Nth.
    FollowDeploy {
        /// The deploy.
        id: u64,
        /// Events already seen (`Last-Event-ID`).
        after: u64,
        /// Its events.
        reply: DeployReply,
    },
    /// `POST /v1/rollback`, with the file as the request observed it.
    Rollback(
        harness_api::RollbackRequest,
        Box<Result<super::observe::Observed, ApiError>>,
        DeployReply,
    ),
    /// `POST /v1/deploys/ID/cancel`: deploy ID begins no further service.
    CancelDeploy(u64, oneshot::Sender<Result<(), ApiError>>),
    /// `POST /v1/choice`.
    Choice(Choice),
    /// `GET /v1/status`.
    Status(oneshot::Sender<StatusView>),
    /// The readiness check of an instance running outside harness
    /// answered.
    ExternalChecked {
        /// Its service.
        service: String,
        /// Its process, as seen when the check began.
        pid: Option<u32>,
        /// Whether the check passed.
        healthy: bool,
    },
    /// `GET /v1/external/NAME`.
    External(
        String,
        oneshot::Sender<Result<harness_api::ExternalInstance, ApiError>>,
    ),
    /// `POST /v1/adopt`.
    Adopt(
        harness_api::ExternalRequest,
        oneshot::Sender<Result<harness_api::Adopted, ApiError>>,
    ),
    /// `POST /v1/replace`.
    Replace(
        harness_api::ExternalRequest,
        oneshot::Sender<Result<harness_api::Replaced, ApiError>>,
    ),
    /// `GET /metrics`.
    Metrics(oneshot::Sender<String>),
    /// `POST /v1/shutdown?if_idle=true`: exit only if nothing happens
    /// (no operation, no process, no restart due); answers whether it will.
    ShutdownIfIdle(oneshot::Sender<bool>),
    /// The services' names, in config order (`GET /v1/logs` checks the one
    /// it is asked for, and names them all when it is not one).
    Names(oneshot::Sender<Vec<String>>),
    /// The processes harness adopted (`GET /v1/logs` reads where they
    /// write).
    Adopted(oneshot::Sender<Vec<crate::adopted_output::AdoptedProcess>>),
    /// A probe answered (the fact), and how long it took (a metric).
    Probed {
        /// `Input::Probed`.
        fact: Input,
        /// The service, as metrics name it.
        unit: String,
        /// Which probe.
        kind: ProbeKind,
        /// How long it took.
        took: Duration,
    },
    /// `POST /v1/health`.
    Health(
        Vec<String>,
        oneshot::Sender<Result<Vec<HealthResult>, ApiError>>,
    ),
    /// A fact from a process, probe or timer task.
    Fact(Input),
    /// `POST /v1/jobs/NAME/run`, prepared off the loop.
    RunJob(
        Box<Result<crate::job_prep::JobPrep, ApiError>>,
        oneshot::Sender<Result<mpsc::Receiver<JobEvent>, ApiError>>,
    ),
    /// A run of a job that a start waits for, prepared off the loop.
    JobPrepared(Box<Result<crate::job_prep::JobPrep, (String, ApiError)>>),
    /// A fact about an attempt at a job's step.
    StepFact {
        /// The job.
        job: String,
        /// The fact.
        fact: super::jobs::StepFact,
    },
    /// `POST /v1/jobs/NAME/decide`, prepared off the loop.
    DecideJob(
        Box<Result<crate::job_prep::Standing, ApiError>>,
        harness_api::JobDecideRequest,
        oneshot::Sender<Result<mpsc::Receiver<JobEvent>, ApiError>>,
    ),
    /// `POST /v1/jobs/NAME/mark`, prepared off the loop, with the reason.
    MarkStep(
        Box<Result<crate::job_prep::Standing, ApiError>>,
        String,
        oneshot::Sender<Result<(), ApiError>>,
    ),
    /// A job's cleanup ended: how (`exit code 0`), or why it failed.
    CleanupDone {
        /// The job.
        job: String,
        /// How it ended.
        detail: Result<String, String>,
    },
    /// `POST /v1/jobs/NAME/interrupt` or `/cancel`.
    JobControl(
        String,
        super::jobs::JobControl,
        oneshot::Sender<Result<(), ApiError>>,
    ),
    /// Stop supervising (services keep running).
    Shutdown,
}

/// A cheap, clonable way to talk to the supervisor.
#[derive(Clone)]
pub struct Handle {
    pub(super) tx: mpsc::UnboundedSender<Msg>,
    pub(super) shutdown: watch::Sender<bool>,
    /// The project served.
    pub project: Project,
    /// `settings.listen`: a TCP address for the read-only routes.
    pub listen: Option<String>,
    /// The store's writer: a handler that reads the store first waits for
    /// what was sent before to be on disk.
    pub store: crate::store_writer::StoreWriter,
    /// The content hashes of the files jobs' steps name, shared by the
    /// requests that plan a run and the tasks that record outputs.
    pub hashes: std::sync::Arc<std::sync::Mutex<crate::file_hashes::FileHashes>>,
}

impl Handle {
    /// Sends a message; false if the supervisor is gone.
    pub fn send(&self, msg: Msg) -> bool {
        self.tx.send(msg).is_ok()
    }

    /// Sends a request made with `msg` and waits for its answer; `None`
    /// if the supervisor is gone.
    pub async fn ask<T>(&self, msg: impl FnOnce(oneshot::Sender<T>) -> Msg) -> Option<T> {
        let (tx, rx) = oneshot::channel();
        if !self.send(msg(tx)) {
            return None;
        }
        rx.await.ok()
    }

    /// Asks the daemon to exit, leaving services running.
    pub fn shutdown(&self) {
        let _ = self.shutdown.send(true);
        let _ = self.tx.send(Msg::Shutdown);
    }

    /// Resolves once shutdown has been asked for.
    pub fn shutdown_requested(&self) -> impl std::future::Future<Output = ()> + use<> {
        let mut rx = self.shutdown.subscribe();
        async move {
            let _ = rx.wait_for(|v| *v).await;
        }
    }
}
