//! [`Engine::plan`]: what a start would do, without doing it. Feeds
//! `start --dry-run` and the state check every start shows first.

use super::io::StartOptions;
use super::service::{Engine, Phase, ProbeHealth, Verdict};
use crate::config::Condition;
use crate::report::{Plan, PlanAction, PlanEntry};
use std::time::Instant;

/// What the plan says of one service: its action, its wave, and why.
type PlanMemo = (PlanAction, Option<u32>, String);

impl Engine {
    /// The services a start of `targets` would act on, in config order,
    /// each with its current state and what the start would do with it.
    /// With `restart`, every service in scope counts as stopped first.
    /// Services that would start are put in waves: a service starts one
    /// wave after the last of the dependencies it waits for.
    pub fn plan(
        &self,
        targets: &[usize],
        options: &StartOptions,
        restart: bool,
        now: Instant,
    ) -> Plan {
        let scope = self.scope(targets, options.no_deps);
        let mut in_scope = vec![false; self.svcs.len()];
        for &i in &scope {
            in_scope[i] = true;
        }
        let mut memo: Vec<Option<PlanMemo>> = vec![None; self.svcs.len()];
        for &i in &scope {
            self.plan_one(i, &in_scope, options, restart, &mut memo);
        }
        Plan {
            services: scope
                .into_iter()
                .filter_map(|i| {
                    let (action, wave, detail) = memo[i].clone()?;
                    Some(PlanEntry {
                        current: self.view(i, now),
                        action,
                        wave,
                        detail,
                    })
                })
                .collect(),
        }
    }

    /// The members of a start: the targets and, unless `no_deps`, all
    /// they depend on.
    pub(crate) fn scope(&self, targets: &[usize], no_deps: bool) -> Vec<usize> {
        if no_deps {
            let mut t = targets.to_vec();
            t.sort_unstable();
            t.dedup();
            t
        } else {
            self.graph.with_dependencies(targets)
        }
    }

    fn plan_one(
        &self,
        i: usize,
        in_scope: &[bool],
        options: &StartOptions,
        restart: bool,
        memo: &mut Vec<Option<PlanMemo>>,
    ) -> (PlanAction, Option<u32>) {
        if let Some((action, wave, _)) = &memo[i] {
            return (*action, *wave);
        }
        let phase = if restart {
            Phase::Stopped
        } else {
            self.svcs[i].phase
        };
        let entry = match phase {
            Phase::Up {
                health: ProbeHealth::Healthy,
                ..
            } => (PlanAction::Use, None, "running, healthy".to_string()),
            Phase::Up { .. } | Phase::Spawning { .. } => (
                PlanAction::Wait,
                None,
                "running, waiting for it to become healthy".to_string(),
            ),
            // Running outside harness: used, even by a restart (harness
            // cannot stop what it does not run, and starts no second one).
            Phase::Stopped | Phase::Stopping { .. } | Phase::Backoff { .. } => {
                match self.svcs[i].external {
                    Some(ext) => (PlanAction::Use, None, super::start::external_note(ext)),
                    None => self.plan_start(i, in_scope, options, restart, memo),
                }
            }
        };
        let (action, wave) = (entry.0, entry.1);
        memo[i] = Some(entry);
        (action, wave)
    }

    /// The plan of a service that is down: the wave after the dependencies
    /// it waits for, or blocked by one that will not come up.
    fn plan_start(
        &self,
        i: usize,
        in_scope: &[bool],
        options: &StartOptions,
        restart: bool,
        memo: &mut Vec<Option<PlanMemo>>,
    ) -> PlanMemo {
        let mut wave = 1;
        let mut blocked = None;
        let mut forced = Vec::new();
        for &(d, cond) in self.graph.deps(i) {
            let name = self.graph.name(d);
            if in_scope[d] {
                match self.plan_one(d, in_scope, options, restart, memo) {
                    (PlanAction::Blocked, _) if options.force => forced.push(name),
                    (PlanAction::Blocked, _) => {
                        blocked.get_or_insert(format!("dependency blocked: {name}"));
                    }
                    (PlanAction::Start, Some(w)) => wave = wave.max(w + 1),
                    (PlanAction::Wait, _) if cond == Condition::Healthy => wave = wave.max(2),
                    _ => {}
                }
            } else if !self.meets(d, cond) {
                if options.force {
                    forced.push(name);
                } else {
                    blocked.get_or_insert(format!("dependency {}: {name}", self.why_down(d)));
                }
            }
        }
        match blocked {
            Some(why) => (PlanAction::Blocked, None, why),
            None if !forced.is_empty() => (
                PlanAction::Start,
                Some(wave),
                format!("forced: {} not up", forced.join(", ")),
            ),
            None => (PlanAction::Start, Some(wave), String::new()),
        }
    }

    /// "failed", "blocked", "unhealthy" or "not running": why a service
    /// outside a start's scope keeps its dependents from starting.
    pub(super) fn why_down(&self, d: usize) -> &'static str {
        match (&self.svcs[d].phase, &self.svcs[d].verdict) {
            (Phase::Up { .. }, _) => "unhealthy",
            (_, Verdict::Failed(_)) => "failed",
            (_, Verdict::Exited(end)) if !end.success() => "failed",
            (_, Verdict::GaveUp(_)) => "failed",
            (_, Verdict::Blocked(_)) => "blocked",
            _ => "not running",
        }
    }
}
