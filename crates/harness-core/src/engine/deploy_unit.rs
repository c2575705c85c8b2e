//! One deploy unit's steps, moved as far as they can go on each engine
//! step: waiting for removals and dependencies, stopping the running
//! version, starting the new one, the health gate, and on failure
//! discarding it and going back to the version that ran (how it fails is
//! in `deploy_gate.rs`; the run a start-first deploy keeps beside the new
//! one, in `beside.rs`).

use super::deploy::{Deploy, End, Step, Unit, versions};
use super::history::HistoryState;
use super::io::{Action, OpId};
use super::op::OpKind;
use super::service::{Engine, Phase, ProbeHealth, Verdict};
use super::spec::RunSpec;
use super::transition::Move;
use crate::config::Condition;
use crate::duration::short;
use crate::report::{DeployAction, DeployPhase, Kept};
use crate::timeout::startup_timeout;
use std::time::{Duration, Instant};

/// What a unit's dependencies mean for it.
enum DepsAre {
    Ready,
    /// Some are on their way: in this deploy (bounded by their own
    /// deadlines), or outside it only (bounded by the unit's).
    Pending {
        outside_only: bool,
    },
    Broken(String),
}

impl Engine {
    /// Moves every unit of deploy `k` as far as it can go now.
    pub(super) fn advance_deploy(&mut self, k: usize, now: Instant, out: &mut Vec<Action>) -> bool {
        let mut changed = false;
        let n = self.deploy_of(k).units.len();
        for u in 0..n {
            changed |= self.advance_unit(k, u, now, out);
        }
        changed
    }

    pub(super) fn deploy_of(&self, k: usize) -> &Deploy {
        self.ops[k].deploy().expect("a deploy operation")
    }

    pub(super) fn unit_mut(&mut self, k: usize, u: usize) -> &mut Unit {
        match &mut self.ops[k].kind {
            OpKind::Deploy(d) => &mut d.units[u],
            _ => unreachable!("a deploy operation"),
        }
    }

    fn advance_unit(&mut self, k: usize, u: usize, now: Instant, out: &mut Vec<Action>) -> bool {
        let unit = self.deploy_of(k).units[u].clone();
        let i = unit.service;
        match unit.step {
            Step::Settled(_) => false,
            Step::Waiting if unit.action == DeployAction::Remove => self.begin_removal(k, u, out),
            Step::Waiting => self.begin_unit(k, u, now, out),
            Step::StoppingOld => {
                if !self.down_now(i) {
                    return false;
                }
                if unit.action == DeployAction::Remove {
                    self.svcs[i].verdict = Verdict::None;
                    self.event(self.ops[k].id, i, DeployPhase::Removed, String::new(), out);
                    self.unit_mut(k, u).step = Step::Settled(End::Removed);
                } else {
                    self.deploy_spawn(k, u, now, out);
                }
                true
            }
            Step::Starting { deadline } => self.starting(k, u, deadline, now, out),
            Step::Gate { until } => self.in_gate(k, u, until, now, out),
            Step::Retiring if self.svcs[i].beside.is_some() => false,
            Step::Retiring => {
                self.unit_mut(k, u).step = Step::Settled(End::Deployed);
                true
            }
            Step::Discarding => self.discarded(k, u, now, out),
            Step::Reverting { deadline } => self.reverting(k, u, deadline, now, out),
        }
    }

    /// A removal's turn: once its dependents among the removals are down,
    /// it is stopped.
    fn begin_removal(&mut self, k: usize, u: usize, out: &mut Vec<Action>) -> bool {
        let unit = self.deploy_of(k).units[u].clone();
        let (i, id) = (unit.service, self.ops[k].id);
        // Its dependents among the removals go first.
        let d = self.deploy_of(k);
        let first = self.graph.dependents(i).iter().any(|&j| {
            d.unit(j).is_some_and(|o| o.action == DeployAction::Remove)
                && self.svcs[j].phase != Phase::Stopped
        });
        if first {
            return false;
        }
        self.event(id, i, DeployPhase::Stopping, unit.removal.clone(), out);
        let why = format!("stop requested ({}; deploy {})", unit.removal, id.0);
        self.svcs[i].wanted = false;
        self.send_stop(i, why, Some(cause(id)), None, out);
        self.unit_mut(k, u).step = Step::StoppingOld;
        true
    }

    /// A change's or add's turn, once the removals are done: blocked by a
    /// dependency, or scheduled — the new version spawned (beside the
    /// running one, start-first) or the running one stopped first.
    fn begin_unit(&mut self, k: usize, u: usize, now: Instant, out: &mut Vec<Action>) -> bool {
        let unit = self.deploy_of(k).units[u].clone();
        let (i, id, phase) = (unit.service, self.ops[k].id, self.svcs[unit.service].phase);
        let removing = self
            .deploy_of(k)
            .units
            .iter()
            .any(|o| o.action == DeployAction::Remove && !matches!(o.step, Step::Settled(_)));
        if removing {
            return false;
        }
        let blocked = match self.deps_are(k, i) {
            DepsAre::Ready => None,
            DepsAre::Pending { outside_only } if outside_only && now >= unit.wait_until => {
                Some(format!(
                    "dependencies not ready within {}",
                    short(self.healthy_deadline(i))
                ))
            }
            DepsAre::Pending { .. } => return false,
            DepsAre::Broken(why) => Some(why),
        };
        if let Some(why) = blocked {
            // What it runs stays as it is; only a service with
            // nothing running is blocked in status.
            let detail = if phase == Phase::Stopped {
                self.svcs[i].verdict = Verdict::Blocked(why.clone());
                format!("{why} (not started)")
            } else {
                // Its last deploy did not apply: the plan says
                // drifted, status says why.
                self.svcs[i].drift = Some(format!("deploy {} left it as it was: {why}", id.0));
                format!("{why} (still running what it ran)")
            };
            self.event(id, i, DeployPhase::Blocked, detail, out);
            self.unit_mut(k, u).step = Step::Settled(End::Blocked);
            return true;
        }
        self.event(id, i, DeployPhase::Scheduled, String::new(), out);
        if phase == Phase::Stopped {
            self.deploy_spawn(k, u, now, out);
        } else if self.starts_first(i) {
            // The running version runs on, untouched, until the new
            // one has passed its gate.
            self.set_aside(i, unit.stable.clone(), unit.stable_def.clone());
            self.deploy_spawn(k, u, now, out);
        } else {
            let why = format!(
                "stop requested (deploy {}: replacing it with its new version)",
                id.0
            );
            self.event(id, i, DeployPhase::Stopping, String::new(), out);
            // Not wanted until its new version is spawned: a restart
            // in flight must not bring it back.
            self.svcs[i].wanted = false;
            self.send_stop(i, why, Some(cause(id)), None, out);
            self.unit_mut(k, u).step = Step::StoppingOld;
        }
        true
    }

    /// The new version, spawned, must be ready by `deadline`.
    fn starting(
        &mut self,
        k: usize,
        u: usize,
        deadline: Instant,
        now: Instant,
        out: &mut Vec<Action>,
    ) -> bool {
        let i = self.deploy_of(k).units[u].service;
        match self.svcs[i].phase {
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
            Phase::Stopping {
                restart: Some(kill),
                ..
            } => {
                self.killed_in_gate(k, u, kill.why.describe());
                true
            }
            _ => {
                self.discard(k, u, "stopped while starting".into(), out);
                true
            }
        }
    }

    /// Ready: committed if still ready at `until`.
    fn in_gate(
        &mut self,
        k: usize,
        u: usize,
        until: Instant,
        now: Instant,
        out: &mut Vec<Action>,
    ) -> bool {
        let unit = self.deploy_of(k).units[u].clone();
        let (i, id) = (unit.service, self.ops[k].id);
        match self.svcs[i].phase {
            Phase::Up {
                health: ProbeHealth::Healthy,
                ..
            } => {
                if now < until {
                    return false;
                }
                // Committed, and recorded so, before the version beside
                // it (start-first) is stopped: a daemon that dies
                // meanwhile leaves the next one knowing which to keep.
                let why = format!("deployed {} (deploy {})", versions(&unit), id.0);
                self.record(i, HistoryState::Running, why, Some(cause(id)), out);
                self.event(id, i, DeployPhase::Healthy, String::new(), out);
                self.svcs[i].drift = None;
                if self.svcs[i].beside.is_some() {
                    out.push(Action::Persist);
                    self.stop_beside(i, out);
                    self.unit_mut(k, u).step = Step::Retiring;
                } else {
                    self.unit_mut(k, u).step = Step::Settled(End::Deployed);
                }
                true
            }
            Phase::Stopping {
                restart: Some(kill),
                ..
            } => {
                self.killed_in_gate(k, u, kill.why.describe());
                true
            }
            _ => {
                let min = short(self.config.services[i].update.min_healthy);
                let why = format!("health check failed within min_healthy ({min})");
                self.discard(k, u, why, out);
                true
            }
        }
    }

    /// The failed new version is down: the run set aside comes back
    /// (start-first), the version it ran is started again (`auto_revert`),
    /// or nothing is kept.
    fn discarded(&mut self, k: usize, u: usize, now: Instant, out: &mut Vec<Action>) -> bool {
        let unit = self.deploy_of(k).units[u].clone();
        let (i, id) = (unit.service, self.ops[k].id);
        if !self.down_now(i) {
            return false;
        }
        if self.restore_beside(i, now, out) {
            // start-first: the version it ran was never touched.
            let why = format!(
                "deploy {} failed; the previous version ({}) kept running",
                id.0,
                unit.from.as_deref().unwrap_or("?")
            );
            self.record(i, HistoryState::Running, why, Some(cause(id)), out);
            self.settle_failed(k, u, Kept::Previous, None, out);
            return true;
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
                // Judged by its own checks, not the new file's.
                self.svcs[i].judged_by = unit.stable_def.clone();
                self.spawn_version(i, spec, why, id, out);
                let deadline = now + self.healthy_deadline(i);
                self.unit_mut(k, u).step = Step::Reverting { deadline };
            }
            _ => self.settle_failed(k, u, Kept::None, None, out),
        }
        true
    }

    /// The version it ran, started again, must be ready by `deadline`.
    fn reverting(
        &mut self,
        k: usize,
        u: usize,
        deadline: Instant,
        now: Instant,
        out: &mut Vec<Action>,
    ) -> bool {
        let i = self.deploy_of(k).units[u].service;
        match self.svcs[i].phase {
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
        }
    }

    /// Whether service `i` has no process now: stopped, or only a restart
    /// due, which is dropped (a deploy decides what runs next).
    fn down_now(&mut self, i: usize) -> bool {
        match self.svcs[i].phase {
            Phase::Stopped => true,
            Phase::Backoff { .. } => self.apply(i, Move::CancelBackoff),
            _ => false,
        }
    }

    /// Whether unit `i` of deploy `k` may be acted on: each dependency in
    /// the deploy must have settled well, and each must meet its
    /// condition (a dependency not in the deploy must already).
    fn deps_are(&self, k: usize, i: usize) -> DepsAre {
        let d = self.deploy_of(k);
        let (mut inside, mut outside) = (false, false);
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
                    inside = true;
                    continue;
                }
            }
            if self.meets(dep, cond) {
                continue;
            }
            // Outside the deploy: it must get there on its own, and may
            // have until this unit's deadline to.
            match self.svcs[dep].phase {
                Phase::Up {
                    health: ProbeHealth::Unhealthy,
                    ..
                } => return DepsAre::Broken(format!("dependency unhealthy: {name}")),
                Phase::Up { .. } | Phase::Spawning { .. } if cond != Condition::Completed => {
                    outside = true;
                }
                _ => return DepsAre::Broken(format!("dependency not up: {name}")),
            }
        }
        match (inside, outside) {
            (false, false) => DepsAre::Ready,
            (inside, _) => DepsAre::Pending {
                outside_only: !inside,
            },
        }
    }

    /// How long a new version of service `i` has to be ready.
    pub(super) fn healthy_deadline(&self, i: usize) -> Duration {
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
        let spec = self.deploy_of(k).units[u]
            .target
            .clone()
            .unwrap_or_else(|| RunSpec::of(&self.config.services[i]));
        let beside = match &self.svcs[i].beside {
            Some(b) => format!("; beside the running version, PID {}", b.pid),
            None => String::new(),
        };
        let why = format!(
            "start requested (deploy {}: {}{beside})",
            id.0,
            versions(&self.deploy_of(k).units[u])
        );
        self.svcs[i].judged_by = None;
        self.spawn_version(i, spec, why, id, out);
        self.event(id, i, DeployPhase::Starting, String::new(), out);
        let deadline = now + self.healthy_deadline(i);
        self.unit_mut(k, u).step = Step::Starting { deadline };
    }

    /// Spawns `spec` as service `i`'s run, with its history row.
    fn spawn_version(
        &mut self,
        i: usize,
        spec: RunSpec,
        why: String,
        op: OpId,
        out: &mut Vec<Action>,
    ) {
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
        self.record(i, HistoryState::Starting, why, Some(cause(op)), out);
        self.push_spawn_spec(i, run, spec, out);
    }
}

/// The request behind a deploy's history rows (`cause` in their JSON).
pub(super) fn cause(op: OpId) -> String {
    format!("deploy {}", op.0)
}
