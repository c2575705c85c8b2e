//! Deploys: make what runs match a file, service by service, without ever
//! losing track of one.
//!
//! The order cannot leak a service: the config in force becomes the file's
//! *plus* every service gone from it that still runs (so a removed service
//! is stopped, shown and stoppable like any other); removals are stopped
//! first, dependents before their dependencies, confirmed by their end;
//! then added and changed services go in dependency waves, each once the
//! services it depends on in this deploy are committed. A service is
//! committed only when its new version passed the health gate: ready, and
//! still ready `update.min_healthy` later. An exit, a failed spawn or a
//! liveness kill inside the gate fails it at once. A failed change goes
//! back to the version it ran (`auto_revert`); a failure never undoes the
//! others, and blocks only its dependents in the deploy, which keep
//! running what they ran.
//!
//! Here: the operation and its units, beginning, cancelling and closing a
//! deploy. Each unit's steps are in `deploy_unit.rs`; how services gone
//! from the file are kept and dropped, in `removed.rs`.

use super::definition::Definition;
use super::io::{Action, DeployOptions, OpId, ProbeKind};
use super::op::{Op, OpKind};
use super::service::{Engine, Phase, ProbeHealth};
use super::spec::RunSpec;
use crate::config::Config;
use crate::report::{DeployAction, DeployEvent, DeployPhase, DeployPlan, DeploySummary, Kept};
use std::time::{Duration, Instant};

/// A deploy in progress: one unit per service of its plan.
#[derive(Debug, Clone)]
pub(crate) struct Deploy {
    pub units: Vec<Unit>,
}

/// One service of a deploy.
#[derive(Debug, Clone)]
pub(crate) struct Unit {
    pub service: usize,
    pub action: DeployAction,
    pub step: Step,
    /// The version to go back to if the new one fails: what ran when the
    /// deploy began, when it is known exactly.
    pub stable: Option<RunSpec>,
    /// Why its new version failed.
    pub failure: Option<String>,
    /// The version it ran and the one the file asks for (history rows).
    pub from: Option<String>,
    pub to: Option<String>,
    /// Until when it may wait for dependencies outside the deploy to be
    /// ready: then it is blocked.
    pub wait_until: Instant,
    /// The version to run instead of the file's definition (a rollback).
    pub target: Option<RunSpec>,
    /// Why a removal stops it: "removed from the file", or (a new daemon's
    /// recovery) that its deploy never committed it.
    pub removal: String,
    /// The definition `stable` was judged by (its checks), to judge it by
    /// again if the deploy goes back to it.
    pub stable_def: Option<Box<crate::config::Service>>,
}

/// Where a unit stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    /// Waiting for removals to finish, or for its dependencies.
    Waiting,
    /// Its running version is being stopped.
    StoppingOld,
    /// Its new version was spawned and must be ready by `deadline`.
    Starting { deadline: Instant },
    /// Ready; committed if it is still ready at `until`.
    Gate { until: Instant },
    /// Committed (start-first): the version it ran beside the new one is
    /// being stopped.
    Retiring,
    /// Its new version failed and is being stopped.
    Discarding,
    /// Its previous version was started again and must be ready by
    /// `deadline`.
    Reverting { deadline: Instant },
    /// Done.
    Settled(End),
}

/// How a unit ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum End {
    Deployed,
    InPlace,
    Unchanged,
    Removed,
    Kept,
    Failed(Kept),
    Blocked,
    /// Not begun: the deploy was cancelled first.
    Cancelled,
}

impl Deploy {
    pub fn settled(&self) -> bool {
        self.units
            .iter()
            .all(|u| matches!(u.step, Step::Settled(_)))
    }

    pub fn next_deadline(&self) -> Option<Instant> {
        self.units
            .iter()
            .filter_map(|u| match u.step {
                Step::Starting { deadline } | Step::Reverting { deadline } => Some(deadline),
                Step::Gate { until } => Some(until),
                Step::Waiting => Some(u.wait_until),
                _ => None,
            })
            .min()
    }

    pub(super) fn unit(&self, service: usize) -> Option<&Unit> {
        self.units.iter().find(|u| u.service == service)
    }
}

impl Engine {
    /// Deploy `op`, if it is one, begins no further service: each unit
    /// not acted on yet is settled as cancelled (it keeps running what it
    /// ran; a removal not begun keeps running, known as removed). Units
    /// under way go on to their end, so none is left half swapped.
    pub(super) fn cancel_deploy(&mut self, op: OpId, out: &mut Vec<Action>) {
        let Some(k) = self
            .ops
            .iter()
            .position(|o| o.id == op && o.deploy().is_some())
        else {
            return;
        };
        let n = self.deploy_of(k).units.len();
        for u in 0..n {
            if self.deploy_of(k).units[u].step != Step::Waiting {
                continue;
            }
            let i = self.deploy_of(k).units[u].service;
            let why = "the deploy was cancelled before it began".to_string();
            self.event(op, i, DeployPhase::Cancelled, why, out);
            self.unit_mut(k, u).step = Step::Settled(End::Cancelled);
        }
    }

    /// What service `name`'s run (up now) was spawned with, when that is
    /// known exactly: its spec, or its definition in the config when the
    /// run's print says it is that (a run a new daemon re-attached to).
    pub fn current_spec(&self, name: &str) -> Option<RunSpec> {
        let i = self.graph.index(name)?;
        let svc = &self.svcs[i];
        if !matches!(svc.phase, Phase::Up { .. }) {
            return None;
        }
        svc.spec.clone().or_else(|| {
            let spec = RunSpec::of(&self.config.services[i]);
            (svc.running.as_ref() == Some(&Definition::of(&spec))).then_some(spec)
        })
    }

    /// Whether a deploy is in progress.
    pub fn deploying(&self) -> bool {
        self.ops.iter().any(|o| o.deploy().is_some())
    }

    pub(super) fn begin_deploy(
        &mut self,
        id: OpId,
        file: Config,
        plan: DeployPlan,
        options: DeployOptions,
        now: Instant,
        out: &mut Vec<Action>,
    ) {
        // The config is swapped under it: no other operation's members
        // may be held by their place in it.
        debug_assert!(self.ops.is_empty(), "a deploy begins alone");
        // What each changed service ran, to go back to: its run's spec, or
        // its definition in the config when the run's print says it is
        // exactly that (a run a new daemon re-attached to).
        let stable: Vec<(String, RunSpec, crate::config::Service)> = plan
            .services
            .iter()
            .filter(|e| e.action.replaces_run())
            .filter_map(|e| {
                let spec = self.current_spec(&e.service)?;
                // As it was judged when spawned: a reload since may have
                // put the new file's checks in force.
                let i = self.graph.index(&e.service)?;
                let def = match &self.svcs[i].started_as {
                    Some(d) if self.svcs[i].judged_by.is_none() => (**d).clone(),
                    _ => self.def(i).clone(),
                };
                Some((e.service.clone(), spec, def))
            })
            .collect();
        let in_place: Vec<(String, bool, bool, bool)> = plan
            .services
            .iter()
            .filter(|e| e.action == DeployAction::InPlace)
            .filter_map(|e| {
                let old = self.config.service(&e.service)?;
                let new = file.service(&e.service)?;
                Some((
                    e.service.clone(),
                    old.health_check.is_none() && new.health_check.is_some(),
                    old.liveness.is_none() && new.liveness.is_some(),
                    old.health_check.is_some() && new.health_check.is_none() && new.ready.is_none(),
                ))
            })
            .collect();
        let selected = |name: &str| plan.entry(name).is_some();
        self.take_merged(&file, &selected);
        let mut units = Vec::new();
        for e in &plan.services {
            let Some(service) = self.graph.index(&e.service) else {
                continue; // (the plan and the merged config have the same names)
            };
            let step = match e.action {
                // The deploy changes nothing of either.
                DeployAction::Unchanged | DeployAction::External => Step::Settled(End::Unchanged),
                DeployAction::InPlace => Step::Settled(End::InPlace),
                DeployAction::Remove if options.no_prune => Step::Settled(End::Kept),
                DeployAction::Remove
                | DeployAction::Add
                | DeployAction::Change
                | DeployAction::Drifted => Step::Waiting,
            };
            let detail = e.reasons.join(", ");
            match step {
                Step::Settled(End::InPlace) => {
                    self.event(id, service, DeployPhase::InPlace, detail, out);
                }
                Step::Settled(End::Kept) => {
                    let detail = "removed from the file; kept running (--no-prune)".to_string();
                    self.event(id, service, DeployPhase::Kept, detail, out);
                }
                _ => {}
            }
            units.push(Unit {
                service,
                action: e.action,
                step,
                stable: stable
                    .iter()
                    .find(|(n, _, _)| *n == e.service)
                    .map(|(_, s, _)| s.clone()),
                stable_def: stable
                    .iter()
                    .find(|(n, _, _)| *n == e.service)
                    .map(|(_, _, d)| Box::new(d.clone())),
                failure: None,
                from: e.from.clone(),
                to: e.to.clone(),
                wait_until: now + self.healthy_deadline(service),
                target: options
                    .versions
                    .iter()
                    .find(|(n, _)| *n == e.service)
                    .map(|(_, s)| s.clone()),
                removal: match e.reasons.first() {
                    Some(r) if e.action == DeployAction::Remove => r.clone(),
                    _ => "removed from the file".to_string(),
                },
            });
        }
        // Probes a run did not have before start now; changed ones take
        // their new settings with their next round.
        for (name, ready, live, unchecked) in in_place {
            let Some(i) = self.graph.index(&name) else {
                continue;
            };
            if let Phase::Up { run, health, .. } = &mut self.svcs[i].phase {
                let run = *run;
                // Without a check any more, a run that is up counts as
                // healthy (as one started without a check would).
                if unchecked {
                    *health = ProbeHealth::Healthy;
                }
                if ready {
                    self.push_probe(i, run, ProbeKind::Ready, now, out);
                }
                if live {
                    let at = now
                        + self.config.services[i]
                            .liveness
                            .as_ref()
                            .map_or(Duration::ZERO, |l| l.interval);
                    self.push_probe(i, run, ProbeKind::Live, at, out);
                }
            }
        }
        self.ops.push(Op {
            id,
            kind: OpKind::Deploy(Box::new(Deploy { units })),
            started: now,
            members: Vec::new(),
            recovering: None,
        });
    }

    /// The summary of deploy `op` (the services it removed leave the
    /// config afterwards: [`Engine::drop_removed`]).
    pub(super) fn close_deploy(&mut self, op: Op, now: Instant, out: &mut Vec<Action>) {
        let Some(d) = op.deploy() else {
            return;
        };
        let mut s = DeploySummary {
            elapsed: now.saturating_duration_since(op.started),
            ..DeploySummary::default()
        };
        for u in &d.units {
            let name = self.graph.name(u.service).to_string();
            let list = match u.step {
                Step::Settled(End::Deployed) => &mut s.deployed,
                Step::Settled(End::InPlace) => &mut s.in_place,
                Step::Settled(End::Unchanged) => &mut s.unchanged,
                Step::Settled(End::Removed) => &mut s.removed,
                Step::Settled(End::Kept) => &mut s.kept,
                Step::Settled(End::Blocked) => &mut s.blocked,
                Step::Settled(End::Cancelled) => &mut s.cancelled,
                Step::Settled(End::Failed(kept)) => {
                    if kept == Kept::Reverted {
                        s.reverted.push(name.clone());
                    }
                    &mut s.failed
                }
                _ => &mut s.failed,
            };
            list.push(name);
        }
        s.success = s.failed.is_empty() && s.blocked.is_empty() && s.cancelled.is_empty();
        out.push(Action::DeployDone {
            op: op.id,
            summary: s,
        });
    }

    pub(super) fn event(
        &self,
        op: OpId,
        i: usize,
        phase: DeployPhase,
        detail: String,
        out: &mut Vec<Action>,
    ) {
        out.push(Action::Deploy {
            op,
            event: DeployEvent::Progress {
                service: self.graph.name(i).to_string(),
                phase,
                detail,
            },
        });
    }
}

/// "8b1e44, was 3f2a9c": the version a unit goes to, and the one it ran.
pub(super) fn versions(u: &Unit) -> String {
    let to = u.to.as_deref().unwrap_or("?");
    match &u.from {
        Some(from) if from != to => format!("{to}, was {from}"),
        _ => to.to_string(),
    }
}
