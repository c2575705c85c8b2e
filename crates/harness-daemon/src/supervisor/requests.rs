//! API requests as engine inputs: which services, with which options, and
//! with which config. The choices are the engine's ([`Engine::select`],
//! [`Engine::reload`], [`Engine::check_now`]); this file only translates.

use super::{CLIENT_BUFFER, Supervisor};
use crate::probe;
use crate::wire;
use harness_api::{
    ApiError, ApiErrorKind, DeployPlan, DeployRequest, HealthResult, OpEvent, Plan, PlanRequest,
    StartRequest, StopRequest,
};
use harness_core::engine::{
    CheckNow, Engine, Input, OpId, Selection, SelectionError, ServiceId, StartOptions, StopOptions,
};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};

fn usage(e: impl std::fmt::Display) -> ApiError {
    ApiError::new(ApiErrorKind::Usage, e.to_string())
}

impl Supervisor {
    /// Puts the config as the file says now (`observed` off the loop, with
    /// every `version.command` run again) in force. The rule, told to the
    /// user as an error: a changed file is taken when nothing runs; while a
    /// start or stop is in progress it is refused (that one keeps the
    /// config it began with), never silently ignored.
    fn reload(&mut self, observed: super::observe::Observed) -> Result<(), ApiError> {
        let config = self.config.take_fresh(observed);
        if config != self.engine.config() {
            self.engine.reload(config.clone()).map_err(usage)?;
        }
        Ok(())
    }

    pub(super) fn start(
        &mut self,
        req: StartRequest,
        observed: Result<super::observe::Observed, ApiError>,
    ) -> Result<(OpId, mpsc::Receiver<OpEvent>), ApiError> {
        self.not_deploying()?;
        self.reload(observed?)?;
        self.look_outside();
        let (targets, options) = start_targets(&self.engine, &req)?;
        let (op, rx) = self.open_client();
        self.feed(Input::Start {
            op,
            targets: ids(targets),
            options,
        });
        Ok((op, rx))
    }

    /// What a start would do; changes nothing (a changed config is planned
    /// on a copy of the engine, under the rule of [`Supervisor::reload`]).
    pub(super) fn plan(&mut self, req: PlanRequest) -> Result<Plan, ApiError> {
        self.look_outside();
        let config = self.config.current()?;
        let copy;
        let engine = if config != self.engine.config() {
            let mut e = self.engine.clone();
            e.reload(config.clone()).map_err(usage)?;
            copy = e;
            &copy
        } else {
            &self.engine
        };
        let (targets, options) = start_targets(engine, &req.start)?;
        let plan = engine.plan(&targets, &options, req.restart, Instant::now());
        Ok(wire::plan(plan))
    }

    /// What a deploy of the file as it is now would do; changes nothing.
    /// Every `version.command` runs again for it.
    pub(super) fn deploy_plan(
        &mut self,
        req: DeployRequest,
        observed: Result<super::observe::Observed, ApiError>,
    ) -> Result<DeployPlan, ApiError> {
        // Mid-deploy, what runs is not settled: a plan would call a
        // service under its gate unchanged.
        self.not_deploying()?;
        let file = self.config.take_observed(observed?)?.clone();
        // An instance outside harness is left as it is, never duplicated.
        self.look_outside();
        let plan = self
            .engine
            .deploy_plan(&file, &req.services)
            .map_err(usage)?;
        Ok(wire::deploy_plan(plan, req.no_prune))
    }

    /// `POST /v1/stop`. A stop asked for while a deploy runs wins, as
    /// systemd's stop job replaces a start job: the deploy is cancelled
    /// (no further service begins; those under way finish their gate or
    /// go back) and the stop is carried out once it is done, on the
    /// services as the deploy left them.
    pub(super) fn stop(
        &mut self,
        req: StopRequest,
    ) -> Result<(OpId, mpsc::Receiver<OpEvent>), ApiError> {
        let sel = Selection {
            names: req.services,
            all: req.all,
            ..Selection::default()
        };
        let targets = self.engine.select(&sel, Instant::now()).map_err(usage)?;
        // What it leaves running outside harness is said only if it is
        // still there.
        self.refresh_outside();
        // `stop --all` leaves nothing running: a job's step under way is
        // cancelled too (recorded so; `harness run` resumes it).
        if sel.all {
            self.cancel_jobs();
        }
        let (op, rx) = self.open_client();
        let options = StopOptions {
            exact: req.exact,
            cause: req.cause,
        };
        match self.deploys.running() {
            Some(id) => {
                if self.after_deploy.is_empty() {
                    tracing::info!(
                        deploy = id,
                        "a stop was asked for: the deploy is cancelled (no further service begins), and the stop follows once it is done"
                    );
                    self.feed(Input::Cancel { op: OpId(id) });
                }
                // By name: the deploy may drop services it prunes, and
                // the engine's indices with them.
                let names = targets
                    .iter()
                    .map(|&i| self.engine.graph().name(i).to_string())
                    .collect();
                self.after_deploy
                    .push(super::ParkedStop { op, names, options });
            }
            None => self.feed(Input::Stop {
                op,
                targets: ids(targets),
                options,
            }),
        }
        Ok((op, rx))
    }

    /// Carries out the stops asked for while a deploy ran, on the
    /// services of theirs that are still there (one the deploy removed
    /// is stopped already).
    pub(super) fn feed_parked_stops(&mut self) {
        for parked in std::mem::take(&mut self.after_deploy) {
            let graph = self.engine.graph();
            let targets: Vec<usize> = parked.names.iter().filter_map(|n| graph.index(n)).collect();
            self.feed(Input::Stop {
                op: parked.op,
                targets: ids(targets),
                options: parked.options,
            });
        }
    }

    fn open_client(&mut self) -> (OpId, mpsc::Receiver<OpEvent>) {
        let op = self.next_op;
        self.next_op.0 += 1;
        let (tx, rx) = mpsc::channel(CLIENT_BUFFER);
        self.clients.insert(op, tx);
        (op, rx)
    }

    /// `POST /v1/health`: the probes run on a task of their own, so the
    /// supervisor never waits for them.
    pub(super) fn health(
        &self,
        names: Vec<String>,
        reply: oneshot::Sender<Result<Vec<HealthResult>, ApiError>>,
    ) {
        let targets = match self.engine.resolve_or_all(&names) {
            Ok(t) => t,
            Err(e) => {
                let _ = reply.send(Err(usage(e)));
                return;
            }
        };
        let project = self.project.clone();
        let jobs: Vec<(String, CheckNow)> = targets
            .into_iter()
            .map(|i| {
                let name = self.engine.graph().name(i).to_string();
                (name, self.engine.check_now(i))
            })
            .collect();
        tokio::spawn(async move {
            let checks = jobs.into_iter().map(|(service, job)| {
                let project = project.clone();
                async move {
                    let (healthy, detail, took) = match job {
                        CheckNow::Settled { healthy, detail } => {
                            (healthy, detail.to_string(), Duration::ZERO)
                        }
                        CheckNow::Probe(spec) => {
                            let o = probe::run(&project, &spec).await;
                            (o.ok, o.detail, o.took)
                        }
                    };
                    HealthResult {
                        service,
                        healthy,
                        detail,
                        took_ms: took.as_millis() as u64,
                    }
                }
            });
            let _ = reply.send(Ok(futures_util::future::join_all(checks).await));
        });
    }
}

/// Services by their place in the config, as the engine's inputs name them.
fn ids(indices: Vec<usize>) -> Vec<ServiceId> {
    indices.into_iter().map(ServiceId).collect()
}

/// The targets and options of a start request.
fn start_targets(
    engine: &Engine,
    req: &StartRequest,
) -> Result<(Vec<usize>, StartOptions), ApiError> {
    let sel = Selection {
        names: req.services.clone(),
        all: req.all,
        failed: req.failed,
        blocked: req.blocked,
    };
    let targets = engine
        .select(&sel, Instant::now())
        .map_err(|e: SelectionError| usage(e))?;
    // A client's number, never trusted: a negative one would panic.
    let timeout = match req.timeout_secs {
        Some(secs) => Some(
            harness_core::duration::from_secs(secs)
                .map_err(|e| usage(format!("timeout_secs: {e}")))?,
        ),
        None => None,
    };
    let options = StartOptions {
        timeout,
        force: req.force,
        no_wait: req.no_wait,
        no_deps: req.blocked,
        cause: req.cause.clone(),
        on_failure: wire::on_failure(req.on_failure),
    };
    Ok((targets, options))
}
