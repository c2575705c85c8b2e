//! One deploy unit's steps, moved as far as they can go on each engine
//! step: waiting for removals and dependencies, stopping the running
//! version, starting the new one, the health gate, and on failure
//! discarding it and going back to the version that ran. The hooks by
//! which a run's end inside the gate fails it at once are here too.

use super::deploy::{Deploy, End, Step, Unit, versions};
use super::history::HistoryState;
use super::io::{Action, OpId, ProcessEnd};
use super::op::OpKind;
use super::service::{Engine, Phase, ProbeHealth, Verdict};
use super::spec::RunSpec;
use super::transition::Move;
use crate::config::Condition;
use crate::duration::short;
use crate::report::{DeployAction, DeployEvent, DeployPhase, Kept};
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
                self.event(id, i, DeployPhase::Stopping, unit.removal.clone(), out);
                let why = format!("stop requested ({}; deploy {})", unit.removal, id.0);
                self.svcs[i].wanted = false;
                self.send_stop(i, why, Some(cause(id)), None, out);
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
                        self.svcs[i].drift =
                            Some(format!("deploy {} left it as it was: {why}", id.0));
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
            Step::StoppingOld => {
                if !self.down_now(i) {
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
            },
            Step::Gate { until } => match phase {
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
            },
            Step::Retiring if self.svcs[i].beside.is_some() => false,
            Step::Retiring => {
                self.unit_mut(k, u).step = Step::Settled(End::Deployed);
                true
            }
            Step::Discarding => {
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

    /// Unit `u`'s new version was killed by a probe (liveness, startup,
    /// watchdog) inside its gate: a failure at once, not a restart. The
    /// kill is under way, and its own history row says why; not wanted
    /// any more, its end is recorded as a stop, not a restart.
    fn killed_in_gate(&mut self, k: usize, u: usize, why: String) {
        let i = self.deploy_of(k).units[u].service;
        self.svcs[i].wanted = false;
        let unit = self.unit_mut(k, u);
        unit.failure = Some(why);
        unit.step = Step::Discarding;
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
        self.send_stop(i, stop, Some(cause(self.ops[k].id)), None, out);
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
            // Asked for by the file and failed, as a failed start is: the
            // system is partial, not running.
            self.svcs[i].verdict = Verdict::Failed(format!("deploy {}: {reason}", id.0));
            self.svcs[i].wanted = true;
        }
        let what = match kept {
            Kept::Reverted => "; reverted",
            Kept::Previous => "; the previous run kept",
            Kept::None => "",
        };
        self.svcs[i].drift = Some(format!("deploy {} failed: {reason}{what}", id.0));
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
                self.record(i, HistoryState::Failed, row, Some(cause(id)), out);
                let note = format!("the previous version did not come back: {why}");
                self.settle_failed(k, u, Kept::None, Some(note), out);
            }
            _ => {
                let row = format!("deploy {} failed: new version {why}", id.0);
                self.record(i, HistoryState::Failed, row, Some(cause(id)), out);
                let unit = self.unit_mut(k, u);
                unit.failure = Some(why.to_string());
                unit.step = Step::Discarding;
            }
        }
        true
    }
}

/// The request behind a deploy's history rows (`cause` in their JSON).
fn cause(op: OpId) -> String {
    format!("deploy {}", op.0)
}
