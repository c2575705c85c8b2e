//! Deploys as the daemon runs them: one at a time, each with the log of
//! its events. A client that goes away does not stop a deploy (its work
//! must end in a known state, not half done): anyone may follow it again,
//! from any event on, with `GET /v1/deploys/ID/events`.

use super::{CLIENT_BUFFER, Supervisor};
use crate::wire;
use harness_api::{ApiError, ApiErrorKind, DeployEvent, DeployRequest, Kept};
use harness_core::engine::{DeployOptions, Input, OpId};
use harness_core::report::{DeployAction, DeployPlan};
use harness_store::{DeployOutcome, DeployRow, DeployServiceRow, Write};
use std::collections::VecDeque;
use std::time::Duration;
use tokio::sync::mpsc;

/// How long a deploy waits for its record to be on disk before it acts.
pub(super) const RECORD_LIMIT: Duration = Duration::from_secs(2);

/// How many finished deploys keep their events here to be followed again.
const KEPT_LOGS: usize = 16;

/// An event of a deploy with its place in it, from 1 (the SSE `id:`).
pub type Numbered = (u64, DeployEvent);

/// The events of one deploy, and who follows them.
pub(super) struct DeployLog {
    id: u64,
    events: Vec<DeployEvent>,
    followers: Vec<mpsc::Sender<Numbered>>,
}

impl DeployLog {
    fn done(&self) -> bool {
        matches!(self.events.last(), Some(DeployEvent::Done(_)))
    }

    /// A follower that gets every event after `after`, then what follows.
    fn follow(&mut self, after: u64) -> mpsc::Receiver<Numbered> {
        let (tx, rx) = mpsc::channel(CLIENT_BUFFER.max(self.events.len() + 1));
        for (n, e) in self.numbered().skip(after as usize) {
            let _ = tx.try_send((n, e.clone()));
        }
        if !self.done() {
            self.followers.push(tx);
        }
        rx
    }

    fn numbered(&self) -> impl Iterator<Item = (u64, &DeployEvent)> {
        self.events
            .iter()
            .enumerate()
            .map(|(i, e)| (i as u64 + 1, e))
    }

    fn push(&mut self, event: DeployEvent) {
        let n = self.events.len() as u64 + 1;
        // A follower too slow to keep up is dropped; it can follow again
        // from the last event it read.
        self.followers
            .retain(|f| f.try_send((n, event.clone())).is_ok());
        if matches!(event, DeployEvent::Done(_)) {
            self.followers.clear();
        }
        self.events.push(event);
    }
}

/// The deploys this daemon ran, the newest last.
#[derive(Default)]
pub(super) struct DeployLogs(VecDeque<DeployLog>);

impl DeployLogs {
    pub(super) fn running(&self) -> Option<u64> {
        self.0.iter().find(|l| !l.done()).map(|l| l.id)
    }

    fn get(&mut self, id: u64) -> Option<&mut DeployLog> {
        self.0.iter_mut().find(|l| l.id == id)
    }
}

impl Supervisor {
    /// `POST /v1/deploy`: begins a deploy of the file as it is now and
    /// answers with its id and its events. Refused while another deploy,
    /// a start or a stop runs.
    pub(super) fn deploy(
        &mut self,
        req: DeployRequest,
        observed: Result<super::observe::Observed, ApiError>,
    ) -> Result<(u64, mpsc::Receiver<Numbered>), ApiError> {
        self.may_begin("deploy")?;
        let file = self.config.take_observed(observed?)?.clone();
        self.look_outside();
        let plan = self
            .engine
            .deploy_plan(&file, &req.services)
            .map_err(|e| ApiError::new(ApiErrorKind::Usage, e.to_string()))?;
        if let Some(shown) = &req.plan
            && *shown != plan.digest()
        {
            return Err(ApiError::new(
                ApiErrorKind::Changed,
                "the file, or what runs, changed since the plan was shown; nothing was done: \
                 run the deploy again to see the new plan",
            ));
        }
        let options = DeployOptions {
            no_prune: req.no_prune,
            versions: Vec::new(),
        };
        self.begin_deploy(file, plan, options)
    }

    /// `POST /v1/rollback`: deploys an earlier version of one service —
    /// `to`, or the one it ran before the deploy that brought what runs.
    /// What runs then differs from the file, and says so, until the file
    /// is changed (a `harness deploy` would bring the file's back).
    pub(super) fn rollback(
        &mut self,
        req: harness_api::RollbackRequest,
        observed: Result<super::observe::Observed, ApiError>,
    ) -> Result<(u64, mpsc::Receiver<Numbered>), ApiError> {
        self.may_begin("roll back")?;
        let usage = |m: String| ApiError::new(ApiErrorKind::Usage, m);
        let i = self
            .engine
            .resolve_or_all(std::slice::from_ref(&req.service))
            .map_err(|e| usage(e.to_string()))?[0];
        let running = self.engine.running_version(i);
        let versions = self.project.versions_dir();
        let to = match &req.to {
            Some(v) => v.clone(),
            None => self
                .previous_version(&req.service, running.as_deref())
                .ok_or_else(|| {
                    usage(format!(
                        "no earlier version of {} is known to go back to; name one with \
                         --to (kept: {})",
                        req.service,
                        harness_store::versions::list(&versions, &req.service).join(", ")
                    ))
                })?,
        };
        if running.as_deref() == Some(to.as_str()) {
            return Err(usage(format!("{} already runs version {to}", req.service)));
        }
        let spec =
            harness_store::versions::load(&versions, &req.service, &to).ok_or_else(|| {
                usage(format!(
                    "version {to} of {} is not kept; kept: {}",
                    req.service,
                    harness_store::versions::list(&versions, &req.service).join(", ")
                ))
            })?;
        let file = self.config.take_observed(observed?)?.clone();
        let plan = DeployPlan {
            services: vec![harness_core::report::DeployEntry {
                service: req.service.clone(),
                action: DeployAction::Change,
                reasons: vec![format!("rollback to {to}")],
                from: running,
                to: Some(to),
            }],
        };
        let options = DeployOptions {
            no_prune: true,
            versions: vec![(req.service, spec)],
        };
        self.begin_deploy(file, plan, options)
    }

    /// The version `service` ran before the deploy that brought `running`.
    fn previous_version(&self, service: &str, running: Option<&str>) -> Option<String> {
        let store = harness_store::Store::open_read_only(&self.project.database()).ok()?;
        for d in store.deploys(200).ok()? {
            let (_, rows) = store.deploy(d.id).ok()??;
            if let Some(r) = rows.iter().find(|r| {
                r.service == service
                    && r.to_version.as_deref() == running
                    && matches!(r.outcome.as_deref(), Some(s) if s == DeployOutcome::Deployed.as_str())
            }) {
                return r.from_version.clone();
            }
        }
        None
    }

    /// A deploy a new daemon makes to finish what interrupted ones left.
    pub(super) fn begin_recovery(
        &mut self,
        file: harness_core::config::Config,
        plan: DeployPlan,
        options: DeployOptions,
    ) -> Result<u64, ApiError> {
        self.begin_deploy(file, plan, options).map(|(id, _)| id)
    }

    /// Records a deploy (on disk before it acts) and feeds it to the
    /// engine; answers its id and its events.
    fn begin_deploy(
        &mut self,
        file: harness_core::config::Config,
        plan: DeployPlan,
        options: DeployOptions,
    ) -> Result<(u64, mpsc::Receiver<Numbered>), ApiError> {
        let op = OpId(self.next_deploy);
        self.next_deploy += 1;
        let mut log = DeployLog {
            id: op.0,
            events: Vec::new(),
            followers: Vec::new(),
        };
        let rx = log.follow(0);
        if self.deploys.0.len() >= KEPT_LOGS {
            self.deploys.0.pop_front();
        }
        self.deploys.0.push_back(log);
        tracing::info!(deploy = op.0, pending = plan.pending(), "deploy begins");
        // What each changed service runs now is kept as a version before
        // it is stopped: the deploy, or a daemon after it, can go back.
        for e in plan.services.iter().filter(|e| e.action.replaces_run()) {
            if let Some(spec) = self.engine.current_spec(&e.service) {
                self.store.save_version(self.project.versions_dir(), spec);
            }
        }
        // The deploy and every service it considers (the managed set: what
        // runs and what the file has) are on disk before anything is
        // stopped, so a daemon that dies at any point leaves it known.
        self.store.send(Write::DeployBegan(
            DeployRow {
                id: op.0 as i64,
                started_ms: super::wall_ms(),
                ended_ms: None,
                config: self.config_name(),
                status: "running".into(),
            },
            rows(&plan, options.no_prune),
        ));
        let unchanged = plan
            .services
            .iter()
            .filter(|e| e.action == DeployAction::Unchanged)
            .count() as u64;
        if unchanged > 0 {
            *self
                .deploy_counts
                .services
                .entry(DeployOutcome::Unchanged.as_str().into())
                .or_default() += unchanged;
        }
        if !self.store.flush(RECORD_LIMIT) {
            // Acting on a deploy that is not recorded would leave it
            // unknown to a daemon that follows: refused, nothing changed.
            self.deploys.0.pop_back();
            self.store.send(Write::DeployEnded {
                id: op.0 as i64,
                ended_ms: super::wall_ms(),
                status: "refused".into(),
            });
            return Err(ApiError::new(
                ApiErrorKind::Internal,
                "the deploy could not be recorded in state.db; nothing was changed \
                 (see .harness/daemon.log)",
            ));
        }
        self.feed(Input::Deploy {
            op,
            file: Box::new(file),
            plan,
            options,
        });
        Ok((op.0, rx))
    }

    /// `GET /v1/deploys/ID/events`: the events of deploy `id` after the
    /// `after`th, then the rest as they come.
    pub(super) fn follow_deploy(
        &mut self,
        id: u64,
        after: u64,
    ) -> Result<mpsc::Receiver<Numbered>, ApiError> {
        let known: Vec<String> = self.deploys.0.iter().map(|l| l.id.to_string()).collect();
        match self.deploys.get(id) {
            Some(log) => Ok(log.follow(after)),
            None => Err(ApiError::new(
                ApiErrorKind::Usage,
                if known.is_empty() {
                    format!("no deploy {id}: this daemon has run none")
                } else {
                    format!("no deploy {id}; this daemon knows {}", known.join(", "))
                },
            )),
        }
    }

    /// `POST /v1/deploys/ID/cancel`: deploy `id` begins no further service;
    /// those under way finish (or go back), and its `done` lists the rest
    /// as `cancelled`.
    pub(super) fn cancel_deploy(&mut self, id: u64) -> Result<(), ApiError> {
        if self.deploys.running() != Some(id) {
            return Err(ApiError::new(
                ApiErrorKind::Usage,
                format!("deploy {id} is not in progress"),
            ));
        }
        tracing::info!(deploy = id, "deploy cancelled: no further service begins");
        self.feed(Input::Cancel { op: OpId(id) });
        Ok(())
    }

    /// A deploy begins alone: not beside another, nor beside a start or
    /// stop (`what` names the request in the refusal).
    fn may_begin(&self, what: &str) -> Result<(), ApiError> {
        self.not_deploying()?;
        if self.engine.busy() {
            return Err(ApiError::new(
                ApiErrorKind::Busy,
                format!("a start or stop is in progress; {what} when it is done"),
            ));
        }
        Ok(())
    }

    /// Refuses a request while a deploy runs: its services are the
    /// deploy's until it is done.
    pub(super) fn not_deploying(&self) -> Result<(), ApiError> {
        match self.deploys.running() {
            Some(id) => Err(ApiError::new(
                ApiErrorKind::Busy,
                format!(
                    "deploy {id} is in progress; follow it with GET /v1/deploys/{id}/events, \
                     or try again when it is done"
                ),
            )),
            None => Ok(()),
        }
    }

    /// An event of deploy `op`, for its log and its followers.
    pub(super) fn tell_deploy(&mut self, op: OpId, event: DeployEvent) {
        let id = op.0 as i64;
        match &event {
            DeployEvent::Done(d) => {
                tracing::info!(
                    deploy = op.0,
                    success = d.success,
                    elapsed = d.elapsed,
                    "deploy done"
                );
                let status = match (d.success, d.cancelled.is_empty()) {
                    (true, _) => "succeeded",
                    (false, false) => "cancelled",
                    (false, true) => "failed",
                };
                *self.deploy_counts.deploys.entry(status.into()).or_default() += 1;
                self.store.send(Write::DeployEnded {
                    id,
                    ended_ms: super::wall_ms(),
                    status: status.into(),
                });
            }
            DeployEvent::Failed(f) => {
                let outcome = match f.kept {
                    Kept::Reverted => DeployOutcome::Reverted,
                    Kept::None | Kept::Previous => DeployOutcome::Failed,
                };
                self.settled(id, &f.service, outcome, &f.reason);
            }
            DeployEvent::Progress(p) => {
                use harness_api::DeployPhase as P;
                let outcome = match p.phase {
                    P::Healthy => Some(DeployOutcome::Deployed),
                    P::InPlace => Some(DeployOutcome::InPlace),
                    P::Removed => Some(DeployOutcome::Removed),
                    P::Kept => Some(DeployOutcome::Kept),
                    P::Blocked => Some(DeployOutcome::Blocked),
                    P::Cancelled => Some(DeployOutcome::Cancelled),
                    P::Scheduled | P::Stopping | P::Starting | P::Reverting => None,
                };
                if let Some(outcome) = outcome {
                    self.settled(id, &p.service, outcome, &p.detail);
                }
            }
        }
        if let Some(log) = self.deploys.get(op.0) {
            log.push(event);
        }
    }

    fn settled(&mut self, id: i64, service: &str, outcome: DeployOutcome, detail: &str) {
        let outcome = outcome.as_str();
        *self
            .deploy_counts
            .services
            .entry(outcome.into())
            .or_default() += 1;
        self.store.send(Write::DeploySettled {
            id,
            service: service.to_string(),
            outcome: outcome.to_string(),
            detail: detail.to_string(),
        });
    }

    /// The config file's name, as deploys record it.
    fn config_name(&self) -> String {
        self.project
            .config
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default()
    }

    /// The `done` event of deploy `op`.
    pub(super) fn deploy_done(&mut self, op: OpId, s: harness_core::report::DeploySummary) {
        self.tell_deploy(op, wire::deploy_done(op.0, s));
    }
}

/// The rows of a deploy's services, as its plan has them; an unchanged one,
/// and a removal `--no-prune` keeps, are settled from the start.
fn rows(plan: &DeployPlan, no_prune: bool) -> Vec<DeployServiceRow> {
    plan.services
        .iter()
        .map(|e| DeployServiceRow {
            service: e.service.clone(),
            action: e.action.as_str().into(),
            reasons: e.reasons.join(", "),
            from_version: e.from.clone(),
            to_version: e.to.clone(),
            outcome: match e.action {
                DeployAction::Unchanged | DeployAction::External => {
                    Some(DeployOutcome::Unchanged.as_str().into())
                }
                // Kept by the request itself: never stopped by a daemon
                // that finds this deploy unfinished.
                DeployAction::Remove if no_prune => Some(DeployOutcome::Kept.as_str().into()),
                _ => None,
            },
            detail: String::new(),
        })
        .collect()
}
