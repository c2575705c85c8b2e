//! How a deploy unit's new version fails: at once when it ends, fails to
//! spawn or is killed by a probe inside its health gate (never through
//! the restart policy), or when it misses its deadline — and what is kept
//! then (the version set aside, the version it ran started again, or
//! nothing).

use super::deploy::{End, Step};
use super::deploy_unit::cause;
use super::history::HistoryState;
use super::io::{Action, ProcessEnd};
use super::service::{Engine, Verdict};
use crate::report::{DeployEvent, DeployPhase, Kept};

impl Engine {
    /// Unit `u`'s new version was killed by a probe (liveness, startup,
    /// watchdog) inside its gate: a failure at once, not a restart. The
    /// kill is under way, and its own history row says why; not wanted
    /// any more, its end is recorded as a stop, not a restart.
    pub(super) fn killed_in_gate(&mut self, k: usize, u: usize, why: String) {
        let i = self.deploy_of(k).units[u].service;
        self.svcs[i].wanted = false;
        let unit = self.unit_mut(k, u);
        unit.failure = Some(why);
        unit.step = Step::Discarding;
    }

    /// Unit `u`'s new version failed because of `why`: it is stopped (if
    /// it still runs) before anything else happens to the service.
    pub(super) fn discard(&mut self, k: usize, u: usize, why: String, out: &mut Vec<Action>) {
        let i = self.deploy_of(k).units[u].service;
        let unit = self.unit_mut(k, u);
        unit.failure = Some(why.clone());
        unit.step = Step::Discarding;
        let stop = format!("stop requested (deploy {} failed: {why})", self.ops[k].id.0);
        self.svcs[i].wanted = false;
        self.send_stop(i, stop, Some(cause(self.ops[k].id)), None, out);
    }

    pub(super) fn settle_failed(
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
