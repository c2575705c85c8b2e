//! Whether a start's member may start: its dependencies' conditions
//! (`started`, `healthy`, `completed`), what it still waits for, and what
//! blocks it.

use super::io::{Action, ProcessEnd, StartOptions};
use super::op::MemberState;
use super::service::{Engine, JobStanding, Phase, ProbeHealth, Verdict};
use super::step::progress;
use crate::config::Condition;
use crate::report::Stage;
use std::time::Instant;

/// Whether a dependency lets its dependent start.
pub(super) enum DepState {
    Met,
    Pending,
    /// A job it waits for runs: no startup timeout counts meanwhile (a
    /// job's steps have timeouts of their own).
    PendingJob,
    Broken(String),
}

impl Engine {
    pub(super) fn deps_settled(&self, k: usize, i: usize) -> bool {
        self.graph.deps(i).iter().all(|&(d, _)| {
            self.ops[k]
                .member(d)
                .is_none_or(|m| matches!(m.state, MemberState::Settled(_)))
        })
    }

    pub(super) fn deps_state(&self, k: usize, i: usize, options: &StartOptions) -> DepState {
        let mut state = DepState::Met;
        for &(d, cond) in self.graph.deps(i) {
            let cond = if options.no_wait && cond == Condition::Healthy {
                Condition::Started
            } else {
                cond
            };
            match self.dep_state(k, d, cond) {
                DepState::Met => {}
                DepState::Pending => state = DepState::Pending,
                DepState::PendingJob => {}
                broken @ DepState::Broken(_) => return broken,
            }
        }
        for job in self.graph.job_deps(i) {
            match self.jobs.get(job) {
                Some(JobStanding::Completed) => {}
                Some(JobStanding::Failed(why)) => {
                    return DepState::Broken(format!("job {job} {why}"));
                }
                Some(JobStanding::Running) | None => {
                    if matches!(state, DepState::Met) {
                        state = DepState::PendingJob;
                    }
                }
            }
        }
        state
    }

    pub(super) fn dep_state(&self, k: usize, d: usize, cond: Condition) -> DepState {
        let name = self.graph.name(d);
        let settled = self.ops[k].member(d).and_then(|m| match m.state {
            MemberState::Settled(p) => Some(p),
            _ => None,
        });
        let broken = |what: &str| DepState::Broken(format!("dependency {what}: {name}"));
        if self.meets(d, cond) {
            return DepState::Met;
        }
        match self.svcs[d].phase {
            Phase::Up { .. } if cond == Condition::Healthy => match settled {
                Some(Stage::TimedOut | Stage::Warning) => broken("unhealthy"),
                _ => DepState::Pending,
            },
            // Outside harness and not healthy yet: it may become so.
            Phase::Stopped if self.svcs[d].external.is_some() => DepState::Pending,
            Phase::Stopped => match settled {
                Some(Stage::Blocked) => broken("blocked"),
                Some(_) => broken("failed"),
                None if self.ops[k].member(d).is_none() => broken(self.why_down(d)),
                None => DepState::Pending,
            },
            _ => DepState::Pending,
        }
    }

    /// Whether dependency `d` meets `cond` as things are now: up (for
    /// `started`), up and healthy (`healthy`), or exited 0 and not failed
    /// since (`completed`).
    pub(super) fn meets(&self, d: usize, cond: Condition) -> bool {
        match (self.svcs[d].phase, cond) {
            (Phase::Up { .. }, Condition::Started) => true,
            (
                Phase::Up {
                    health: ProbeHealth::Healthy,
                    ..
                },
                Condition::Healthy,
            ) => true,
            // An instance outside harness stands for it: started, and
            // healthy as its check said.
            (Phase::Stopped, Condition::Started) if self.svcs[d].external.is_some() => true,
            (Phase::Stopped, Condition::Healthy) => {
                self.svcs[d].external.is_some_and(|e| e.healthy)
            }
            (Phase::Stopped, Condition::Completed) => {
                self.svcs[d].last_end.is_some_and(ProcessEnd::success)
                    && matches!(self.svcs[d].verdict, Verdict::None | Verdict::Exited(_))
            }
            _ => false,
        }
    }

    /// Whether service `d` is up as `cond` asks, now (a job that needs it
    /// runs only then).
    pub fn dependency_met(&self, d: usize, cond: Condition) -> bool {
        self.meets(d, cond)
    }

    /// The dependencies of member `i` of start `k` that it still waits for.
    fn waiting_for(&self, k: usize, i: usize) -> Vec<String> {
        let services = self
            .graph
            .deps(i)
            .iter()
            .filter(|&&(d, c)| !matches!(self.dep_state(k, d, c), DepState::Met))
            .map(|&(d, _)| self.graph.name(d).to_string());
        let jobs = self
            .graph
            .job_deps(i)
            .iter()
            .filter(|j| self.jobs.get(*j) != Some(&JobStanding::Completed))
            .map(|j| format!("job {j}"));
        services.chain(jobs).collect()
    }

    pub(super) fn pending_reason(&self, k: usize, i: usize) -> String {
        format!(
            "timed out waiting for {}",
            self.waiting_for(k, i).join(", ")
        )
    }

    /// Tells the client, once, that member `idx` waits, and for what: only
    /// a service that really waits says so.
    pub(super) fn announce_waiting(
        &mut self,
        k: usize,
        idx: usize,
        now: Instant,
        out: &mut Vec<Action>,
    ) {
        let m = &self.ops[k].members[idx];
        if m.announced {
            return;
        }
        let detail = format!("waiting for {}", self.waiting_for(k, m.service).join(", "));
        let (id, started, name) = (self.ops[k].id, self.ops[k].started, m.service);
        out.push(progress(
            id,
            self.graph.name(name),
            Stage::Waiting,
            started,
            now,
            None,
            &detail,
        ));
        self.ops[k].members[idx].announced = true;
    }

    pub(super) fn is_completion_dependency(&self, i: usize) -> bool {
        self.graph.dependents(i).iter().any(|&j| {
            self.graph
                .deps(j)
                .iter()
                .any(|&(d, c)| d == i && c == Condition::Completed)
        })
    }
}
