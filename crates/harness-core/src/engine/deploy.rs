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

use super::definition::Definition;
use super::history::HistoryState;
use super::io::{Action, DeployOptions, OpId, ProbeKind, ProcessEnd};
use super::op::{Op, OpKind};
use super::service::{Engine, Phase, ProbeHealth, Verdict};
use super::spec::RunSpec;
use super::transition::Move;
use crate::config::{Condition, Config};
use crate::duration::short;
use crate::report::{DeployAction, DeployEvent, DeployPhase, DeployPlan, DeploySummary, Kept};
use crate::timeout::startup_timeout;
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
                _ => None,
            })
            .min()
    }

    fn unit(&self, service: usize) -> Option<&Unit> {
        self.units.iter().find(|u| u.service == service)
    }
}

/// What a dependency means for a unit waiting on it.
enum DepsAre {
    Ready,
    Pending,
    Broken(String),
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

    /// Whether a deploy is in progress.
    pub fn deploying(&self) -> bool {
        self.ops.iter().any(|o| o.deploy().is_some())
    }

    /// The config in force during a deploy of `file`: the file's services
    /// that `selected` names, with their definitions there; the others of
    /// the file as the engine has them (a deploy of some services leaves
    /// the rest as they are); and every service gone from the file that
    /// still has a process, as it was.
    pub(crate) fn merged(&self, file: &Config, selected: &dyn Fn(&str) -> bool) -> Config {
        let mut services: Vec<_> = file
            .services
            .iter()
            .map(|s| match self.config.service(&s.name) {
                Some(old) if !selected(&s.name) => old.clone(),
                _ => s.clone(),
            })
            .collect();
        services.extend(
            self.config
                .services
                .iter()
                .enumerate()
                .filter(|(i, s)| {
                    file.service(&s.name).is_none()
                        && !matches!(self.svcs[*i].phase, Phase::Stopped)
                })
                .map(|(_, s)| s.clone()),
        );
        Config {
            settings: file.settings.clone(),
            services,
        }
    }

    /// [`Engine::merged`] put in force: the services it kept that `file`
    /// does not have are known as removed (shown so, dropped once down).
    pub(crate) fn take_merged(&mut self, file: &Config, selected: &dyn Fn(&str) -> bool) {
        let config = self.merged(file, selected);
        let removed = config
            .names()
            .filter(|n| file.service(n).is_none())
            .map(str::to_string)
            .collect();
        self.swap_config(config);
        self.removed = removed;
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
        // What each changed service ran, to go back to: its run's spec, or
        // its definition in the config when the run's print says it is
        // exactly that (a run a new daemon re-attached to).
        let stable: Vec<(String, RunSpec)> = plan
            .services
            .iter()
            .filter(|e| e.action == DeployAction::Change)
            .filter_map(|e| {
                let i = self.graph.index(&e.service)?;
                let svc = &self.svcs[i];
                if !matches!(svc.phase, Phase::Up { .. }) {
                    return None;
                }
                let spec = svc.spec.clone().or_else(|| {
                    let spec = RunSpec::of(&self.config.services[i]);
                    (svc.running.as_ref() == Some(&Definition::of(&spec))).then_some(spec)
                })?;
                Some((e.service.clone(), spec))
            })
            .collect();
        let in_place: Vec<(String, bool, bool)> = plan
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
                ))
            })
            .collect();
        let selected = |name: &str| plan.entry(name).is_some();
        self.take_merged(&file, &selected);
        let mut units = Vec::new();
        for e in &plan.services {
            let Some(service) = self.graph.index(&e.service) else {
                continue; // (a removal the plan saw that has ended since)
            };
            let step = match e.action {
                DeployAction::Unchanged => Step::Settled(End::Unchanged),
                DeployAction::InPlace => Step::Settled(End::InPlace),
                DeployAction::Remove if options.no_prune => Step::Settled(End::Kept),
                DeployAction::Remove | DeployAction::Add | DeployAction::Change => Step::Waiting,
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
                    .find(|(n, _)| *n == e.service)
                    .map(|(_, s)| s.clone()),
                failure: None,
                from: e.from.clone(),
                to: e.to.clone(),
            });
        }
        // Probes a run did not have before start now; changed ones take
        // their new settings with their next round.
        for (name, ready, live) in in_place {
            let Some(i) = self.graph.index(&name) else {
                continue;
            };
            if let Phase::Up { run, .. } = self.svcs[i].phase {
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

    /// Moves every unit of deploy `k` as far as it can go now.
    pub(super) fn advance_deploy(&mut self, k: usize, now: Instant, out: &mut Vec<Action>) -> bool {
        let mut changed = false;
        let n = self.deploy_of(k).units.len();
        for u in 0..n {
            changed |= self.advance_unit(k, u, now, out);
        }
        changed
    }

    fn deploy_of(&self, k: usize) -> &Deploy {
        self.ops[k].deploy().expect("a deploy operation")
    }

    fn unit_mut(&mut self, k: usize, u: usize) -> &mut Unit {
        match &mut self.ops[k].kind {
            OpKind::Deploy(d) => &mut d.units[u],
            _ => unreachable!("a deploy operation"),
        }
    }

    fn advance_unit(&mut self, k: usize, u: usize, now: Instant, out: &mut Vec<Action>) -> bool {
        let unit = self.deploy_of(k).units[u].clone();
        let i = unit.service;
        let id = self.ops[k].id;
        let phase = self.svcs[i].phase;
        match unit.step {
            Step::Settled(_) => false,
            Step::Waiting if unit.action == DeployAction::Remove => {
                // Its dependents among the removals go first.
                let d = self.deploy_of(k);
                let first = self.graph.dependents(i).iter().any(|&j| {
                    d.unit(j).is_some_and(|o| o.action == DeployAction::Remove)
                        && self.svcs[j].phase != Phase::Stopped
                });
                if first {
                    return false;
                }
                self.event(
                    id,
                    i,
                    DeployPhase::Stopping,
                    "removed from the file".into(),
                    out,
                );
                let why = format!("stop requested (removed from the file; deploy {})", id.0);
                self.svcs[i].wanted = false;
                self.send_stop(i, why, None, None, out);
                self.unit_mut(k, u).step = Step::StoppingOld;
                true
            }
            Step::Waiting => {
                let removing = self.deploy_of(k).units.iter().any(|o| {
                    o.action == DeployAction::Remove && !matches!(o.step, Step::Settled(_))
                });
                if removing {
                    return false;
                }
                match self.deps_are(k, i) {
                    DepsAre::Pending => false,
                    DepsAre::Broken(why) => {
                        self.svcs[i].verdict = Verdict::Blocked(why.clone());
                        self.event(id, i, DeployPhase::Blocked, why, out);
                        self.unit_mut(k, u).step = Step::Settled(End::Blocked);
                        true
                    }
                    DepsAre::Ready => {
                        self.event(id, i, DeployPhase::Scheduled, String::new(), out);
                        self.svcs[i].wanted = true;
                        if phase == Phase::Stopped {
                            self.deploy_spawn(k, u, now, out);
                        } else {
                            let why = format!(
                                "stop requested (deploy {}: replacing it with its new version)",
                                id.0
                            );
                            self.event(id, i, DeployPhase::Stopping, String::new(), out);
                            self.send_stop(i, why, None, None, out);
                            self.unit_mut(k, u).step = Step::StoppingOld;
                        }
                        true
                    }
                }
            }
            Step::StoppingOld => {
                if phase != Phase::Stopped {
                    return false;
                }
                if unit.action == DeployAction::Remove {
                    self.svcs[i].verdict = Verdict::None;
                    self.event(id, i, DeployPhase::Removed, String::new(), out);
                    self.unit_mut(k, u).step = Step::Settled(End::Removed);
                } else {
                    self.deploy_spawn(k, u, now, out);
                }
                true
            }
            Step::Starting { deadline } => match phase {
                Phase::Up {
                    health: ProbeHealth::Healthy,
                    ..
                } => {
                    let until = now + self.config.services[i].update.min_healthy;
                    self.unit_mut(k, u).step = Step::Gate { until };
                    true
                }
                Phase::Up { .. } | Phase::Spawning { .. } if now < deadline => false,
                Phase::Up { .. } | Phase::Spawning { .. } => {
                    let why = format!("not healthy within {}", short(self.healthy_deadline(i)));
                    self.discard(k, u, why, out);
                    true
                }
                _ => {
                    self.discard(k, u, "stopped while starting".into(), out);
                    true
                }
            },
            Step::Gate { until } => match phase {
                Phase::Up {
                    health: ProbeHealth::Healthy,
                    ..
                } => {
                    if now < until {
                        return false;
                    }
                    let why = format!("deployed {} (deploy {})", versions(&unit), id.0);
                    self.record(i, HistoryState::Running, why, None, out);
                    self.event(id, i, DeployPhase::Healthy, String::new(), out);
                    self.unit_mut(k, u).step = Step::Settled(End::Deployed);
                    true
                }
                _ => {
                    let min = short(self.config.services[i].update.min_healthy);
                    let why = format!("health check failed within min_healthy ({min})");
                    self.discard(k, u, why, out);
                    true
                }
            },
            Step::Discarding => {
                match phase {
                    Phase::Stopped => {}
                    Phase::Backoff { .. } => {
                        self.apply(i, Move::CancelBackoff);
                    }
                    _ => return false,
                }
                let auto_revert = self.config.services[i].update.auto_revert;
                match unit.stable {
                    Some(spec) if auto_revert => {
                        self.event(id, i, DeployPhase::Reverting, String::new(), out);
                        let was = unit.from.as_deref().unwrap_or("?");
                        let why = format!(
                            "deploy {} failed; starting the previous version ({was}) again",
                            id.0
                        );
                        self.spawn_version(i, spec, why, out);
                        let deadline = now + self.healthy_deadline(i);
                        self.unit_mut(k, u).step = Step::Reverting { deadline };
                    }
                    _ => self.settle_failed(k, u, Kept::None, None, out),
                }
                true
            }
            Step::Reverting { deadline } => match phase {
                Phase::Up {
                    health: ProbeHealth::Healthy,
                    ..
                } => {
                    self.settle_failed(k, u, Kept::Reverted, None, out);
                    true
                }
                Phase::Up { .. } | Phase::Spawning { .. } if now < deadline => false,
                Phase::Up { .. } | Phase::Spawning { .. } => {
                    let note = "the previous version runs again but is not healthy";
                    self.settle_failed(k, u, Kept::Reverted, Some(note.into()), out);
                    true
                }
                _ => {
                    let note = "the previous version did not come back";
                    self.settle_failed(k, u, Kept::None, Some(note.into()), out);
                    true
                }
            },
        }
    }

    /// Whether unit `i` of deploy `k` may be acted on: each dependency in
    /// the deploy must have settled well, and each must meet its
    /// condition (a dependency not in the deploy must already).
    fn deps_are(&self, k: usize, i: usize) -> DepsAre {
        let d = self.deploy_of(k);
        let mut state = DepsAre::Ready;
        for &(dep, cond) in self.graph.deps(i) {
            let name = self.graph.name(dep);
            match d.unit(dep).map(|u| u.step) {
                Some(Step::Settled(End::Failed(_))) => {
                    return DepsAre::Broken(format!("dependency failed: {name}"));
                }
                Some(Step::Settled(End::Blocked)) => {
                    return DepsAre::Broken(format!("dependency blocked: {name}"));
                }
                Some(Step::Settled(End::Cancelled)) => {
                    return DepsAre::Broken(format!("dependency not deployed: {name}"));
                }
                Some(Step::Settled(_)) | None => {}
                Some(_) => {
                    state = DepsAre::Pending;
                    continue;
                }
            }
            if self.meets(dep, cond) {
                continue;
            }
            let on_its_way = matches!(
                self.svcs[dep].phase,
                Phase::Up { .. } | Phase::Spawning { .. }
            ) && cond != Condition::Completed;
            if !on_its_way {
                return DepsAre::Broken(format!("dependency not up: {name}"));
            }
            state = DepsAre::Pending;
        }
        state
    }

    /// How long a new version of service `i` has to be ready.
    fn healthy_deadline(&self, i: usize) -> Duration {
        let svc = &self.config.services[i];
        svc.update.healthy_deadline.unwrap_or_else(|| {
            startup_timeout(
                None,
                svc.startup_timeout,
                self.config.settings.startup_timeout,
            )
        })
    }

    /// Spawns the file's version of unit `u`'s service.
    fn deploy_spawn(&mut self, k: usize, u: usize, now: Instant, out: &mut Vec<Action>) {
        let i = self.deploy_of(k).units[u].service;
        let id = self.ops[k].id;
        let spec = RunSpec::of(&self.config.services[i]);
        let why = format!(
            "start requested (deploy {}: {})",
            id.0,
            versions(&self.deploy_of(k).units[u])
        );
        self.spawn_version(i, spec, why, out);
        self.event(id, i, DeployPhase::Starting, String::new(), out);
        let deadline = now + self.healthy_deadline(i);
        self.unit_mut(k, u).step = Step::Starting { deadline };
    }

    /// Spawns `spec` as service `i`'s run, with its history row.
    fn spawn_version(&mut self, i: usize, spec: RunSpec, why: String, out: &mut Vec<Action>) {
        let run = self.new_run();
        self.apply(
            i,
            Move::Spawn {
                run,
                restart: false,
            },
        );
        let svc = &mut self.svcs[i];
        svc.verdict = Verdict::None;
        svc.wanted = true;
        svc.tracker.reset();
        self.record(i, HistoryState::Starting, why, None, out);
        self.push_spawn_spec(i, run, spec, out);
    }

    /// Unit `u`'s new version failed because of `why`: it is stopped (if
    /// it still runs) before anything else happens to the service.
    fn discard(&mut self, k: usize, u: usize, why: String, out: &mut Vec<Action>) {
        let i = self.deploy_of(k).units[u].service;
        let unit = self.unit_mut(k, u);
        unit.failure = Some(why.clone());
        unit.step = Step::Discarding;
        let stop = format!("stop requested (deploy {} failed: {why})", self.ops[k].id.0);
        self.svcs[i].wanted = false;
        self.send_stop(i, stop, None, None, out);
    }

    fn settle_failed(
        &mut self,
        k: usize,
        u: usize,
        kept: Kept,
        note: Option<String>,
        out: &mut Vec<Action>,
    ) {
        let id = self.ops[k].id;
        let unit = self.unit_mut(k, u);
        unit.step = Step::Settled(End::Failed(kept));
        let i = unit.service;
        let failure = unit.failure.clone().unwrap_or_default();
        let reason = match note {
            Some(n) => format!("{failure}; {n}"),
            None => failure,
        };
        if kept == Kept::None {
            self.svcs[i].verdict = Verdict::Failed(format!("deploy: {reason}"));
            self.svcs[i].wanted = false;
        }
        out.push(Action::Deploy {
            op: id,
            event: DeployEvent::Failed {
                service: self.graph.name(i).to_string(),
                reason,
                kept,
            },
        });
    }

    /// The unit of a deploy whose new (or reverted) run service `i` runs,
    /// while its outcome is open.
    fn gated(&self, i: usize) -> Option<(usize, usize)> {
        self.ops.iter().enumerate().find_map(|(k, o)| {
            let d = o.deploy()?;
            let u = d.units.iter().position(|u| {
                u.service == i
                    && matches!(
                        u.step,
                        Step::Starting { .. } | Step::Gate { .. } | Step::Reverting { .. }
                    )
            })?;
            Some((k, u))
        })
    }

    /// Service `i`'s run ended (`end`, told as `why`) while a deploy waits
    /// on it; false if none does. Inside the health gate an end is a
    /// failure at once, not a restart: a one-shot others wait on to
    /// complete has completed when it exits 0.
    pub(super) fn deploy_run_ended(
        &mut self,
        i: usize,
        end: ProcessEnd,
        why: &str,
        out: &mut Vec<Action>,
    ) -> bool {
        let Some((k, u)) = self.gated(i) else {
            return false;
        };
        let id = self.ops[k].id;
        let step = self.deploy_of(k).units[u].step;
        if end.success()
            && self.is_completion_dependency(i)
            && !matches!(step, Step::Reverting { .. })
        {
            self.svcs[i].wanted = false;
            self.svcs[i].verdict = Verdict::Exited(end);
            self.record(
                i,
                HistoryState::Exited,
                "completed (exit code 0)".into(),
                None,
                out,
            );
            self.event(id, i, DeployPhase::Healthy, "completed".into(), out);
            self.unit_mut(k, u).step = Step::Settled(End::Deployed);
            return true;
        }
        self.svcs[i].last_end = Some(end);
        match step {
            Step::Reverting { .. } => {
                let row = format!("failed: previous version {why}");
                self.record(i, HistoryState::Failed, row, None, out);
                let note = format!("the previous version did not come back: {why}");
                self.settle_failed(k, u, Kept::None, Some(note), out);
            }
            _ => {
                let row = format!("deploy {} failed: new version {why}", id.0);
                self.record(i, HistoryState::Failed, row, None, out);
                let unit = self.unit_mut(k, u);
                unit.failure = Some(why.to_string());
                unit.step = Step::Discarding;
            }
        }
        true
    }

    /// The summary of deploy `op`, and the config without the services
    /// it removed.
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

    /// Drops from the config the services gone from the file that are
    /// down now (a deploy's removals, a left-over that was stopped), once
    /// no operation is in progress. The runtime calls it after it has
    /// carried out each step's actions: they name services by their place
    /// in the config the step ended with, so it cannot happen inside one.
    pub fn drop_removed(&mut self) {
        if self.removed.is_empty() || self.busy() {
            return;
        }
        let down = |(i, svc): &(usize, &crate::config::Service)| {
            self.removed.contains(&svc.name) && self.svcs[*i].phase == Phase::Stopped
        };
        if !self.config.services.iter().enumerate().any(|s| down(&s)) {
            return;
        }
        let services = self
            .config
            .services
            .iter()
            .enumerate()
            .filter(|s| !down(s))
            .map(|(_, svc)| svc.clone())
            .collect();
        let config = Config {
            settings: self.config.settings.clone(),
            services,
        };
        self.swap_config(config);
    }

    fn event(&self, op: OpId, i: usize, phase: DeployPhase, detail: String, out: &mut Vec<Action>) {
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
fn versions(u: &Unit) -> String {
    let to = u.to.as_deref().unwrap_or("?");
    match &u.from {
        Some(from) if from != to => format!("{to}, was {from}"),
        _ => to.to_string(),
    }
}
