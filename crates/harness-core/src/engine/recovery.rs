//! What a failed start leaves behind: the policy the start was asked to
//! follow (`on_failure`, seed 000's `--teardown-on-failure`,
//! `--rollback-on-failure`, `--smart-rollback`) decides what the engine
//! stops, in the same operation, before it reports the start done.
//!
//! "Started by this start" is the engine's own knowledge, not the client's
//! guess: a member that had a process (or one on its way) when the start
//! began was already running, and no rollback touches it.

use super::io::{Action, StopOptions};
use super::op::{MemberState, Op, Recovering};
use super::service::Engine;
use crate::graph::Graph;
use crate::report::{Recovery, Stage, Summary};
use std::collections::BTreeSet;
use std::time::Instant;

/// What to do when a start fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnFailure {
    /// Leave everything as the start left it.
    #[default]
    Keep,
    /// Stop every service in the start's scope, and what depends on them.
    Teardown,
    /// Stop what this start started, dependents first; what was already
    /// running is left alone.
    Rollback,
    /// Keep what does not depend on a failed service; stop what does, if
    /// this start started it.
    SmartRollback,
}

impl OnFailure {
    /// The command-line flag that asks for it: history rows name the policy
    /// by it, as a person typed it.
    pub fn flag(self) -> &'static str {
        match self {
            OnFailure::Keep => "--no-interactive",
            OnFailure::Teardown => "--teardown-on-failure",
            OnFailure::Rollback => "--rollback-on-failure",
            OnFailure::SmartRollback => "--smart-rollback",
        }
    }
}

/// How a failed start ended, as recovery needs it. Indices are config
/// order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Ended {
    /// Every member of the start.
    pub scope: Vec<usize>,
    /// Members this start spawned that still run (healthy or not).
    pub ours: BTreeSet<usize>,
    /// Members that were running before the start.
    pub existing: BTreeSet<usize>,
    /// Members that failed or timed out.
    pub failed: Vec<usize>,
}

/// What recovery stops, and what it will report besides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RecoveryPlan {
    /// Services to stop.
    pub stop: Vec<usize>,
    /// Stop exactly `stop` (rollbacks), or with their dependents
    /// (teardown).
    pub exact: bool,
    /// Why, for the history rows of the stop.
    pub cause: String,
    /// The report, without what the stop itself will fill in (`stopped`,
    /// `elapsed`).
    pub report: Recovery,
}

/// The recovery a start that ended as `e` gets under `policy`; `None` for
/// [`OnFailure::Keep`].
pub(crate) fn plan(policy: OnFailure, graph: &Graph, e: &Ended) -> Option<RecoveryPlan> {
    let names = |set: &mut dyn Iterator<Item = usize>| -> Vec<String> {
        let mut v: Vec<usize> = set.collect();
        v.sort_unstable();
        v.dedup();
        v.into_iter().map(|i| graph.name(i).to_string()).collect()
    };
    let failed_names = names(&mut e.failed.iter().copied()).join(", ");
    let mut report = Recovery {
        policy,
        ..Recovery::default()
    };
    let (stop, exact, cause) = match policy {
        OnFailure::Keep => return None,
        OnFailure::Teardown => (e.scope.clone(), false, policy.flag().to_string()),
        OnFailure::Rollback => {
            report.left_running = names(&mut e.existing.iter().copied());
            let cause = format!("rollback: {failed_names} failed ({})", policy.flag());
            (e.ours.iter().copied().collect(), true, cause)
        }
        OnFailure::SmartRollback => {
            let dependents: BTreeSet<usize> = graph
                .with_dependents(&e.failed)
                .into_iter()
                .filter(|i| !e.failed.contains(i))
                .collect();
            let stop: Vec<usize> = e.ours.intersection(&dependents).copied().collect();
            let up = e.ours.union(&e.existing);
            report.kept = names(
                &mut up
                    .filter(|i| !dependents.contains(i) && !e.failed.contains(i))
                    .copied(),
            );
            report.not_started =
                names(&mut dependents.iter().copied().filter(|i| {
                    e.scope.contains(i) && !stop.contains(i) && !e.existing.contains(i)
                }));
            report.left_running = names(&mut dependents.intersection(&e.existing).copied());
            report.unhealthy = names(&mut e.failed.iter().copied().filter(|i| e.ours.contains(i)));
            let cause = format!("smart rollback: depends on failed {failed_names}");
            (stop, true, cause)
        }
    };
    Some(RecoveryPlan {
        stop,
        exact,
        cause,
        report,
    })
}

impl Engine {
    /// Closes a settled operation: a failed start whose policy asks for a
    /// recovery opens the recovery's stop under the same id (its client
    /// hears `Recover`, then the stop's progress); everything else, and a
    /// recovery's finished stop, is done.
    pub(super) fn close(&mut self, op: Op, now: Instant, out: &mut Vec<Action>) {
        let summary = self.summarize(&op, now);
        if let Some(r) = op.recovering {
            let report = Recovery {
                stopped: summary.stopped,
                elapsed: summary.elapsed,
                ..r.report
            };
            let summary = Summary {
                recovery: Some(Box::new(report)),
                ..r.start
            };
            out.push(Action::Done { op: op.id, summary });
            return;
        }
        let policy = op.options().map(|o| o.on_failure).unwrap_or_default();
        let plan = (!summary.success)
            .then(|| plan(policy, &self.graph, &self.ended(&op)))
            .flatten();
        let Some(plan) = plan else {
            out.push(Action::Done { op: op.id, summary });
            return;
        };
        if plan.stop.is_empty() {
            let summary = Summary {
                recovery: Some(Box::new(plan.report)),
                ..summary
            };
            out.push(Action::Done { op: op.id, summary });
            return;
        }
        out.push(Action::Recover { op: op.id, policy });
        let options = StopOptions {
            exact: plan.exact,
            cause: Some(plan.cause),
        };
        let recovering = Recovering {
            start: summary,
            report: plan.report,
        };
        self.begin_stop(
            op.id,
            &plan.stop,
            options,
            Some(Box::new(recovering)),
            now,
            out,
        );
    }

    /// How start `op` ended, as [`plan`] needs it.
    fn ended(&self, op: &Op) -> Ended {
        let mut e = Ended::default();
        for m in &op.members {
            e.scope.push(m.service);
            let stage = match m.state {
                MemberState::Settled(stage) => Some(stage),
                _ => None,
            };
            if m.found_running {
                e.existing.insert(m.service);
            } else if let Some(Stage::Healthy | Stage::Started | Stage::Warning | Stage::TimedOut) =
                stage
            {
                e.ours.insert(m.service);
            }
            if let Some(Stage::Failed | Stage::TimedOut) = stage {
                e.failed.push(m.service);
            }
        }
        e.scope.sort_unstable();
        e
    }
}
