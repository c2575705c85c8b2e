//! Adoption (seed 000's `harness adopt`): an instance of a service that
//! harness did not start becomes the service's run. From then on it is
//! supervised as any run is — probed, stopped by `harness stop`, and, once
//! it ends, restarted by its policy as harness's own managed instance from
//! `command`. Adoption is how "someone started it" becomes "harness runs
//! it". The runtime watches the process (a pidfd: harness is not its
//! parent) and reports its end as
//! [`ProcessEnd::Unknown`](super::io::ProcessEnd::Unknown), since the
//! kernel tells a non-parent only that a process is gone, never how.

use super::history::HistoryState;
use super::io::{Action, ServiceId};
use super::service::{Engine, Phase, ProbeHealth, Verdict};
use super::transition::Move;
use std::time::Instant;

impl Engine {
    /// Whether service `i`'s instance outside harness, process `pid` that
    /// started at `start_time`, may be adopted now; why not if not. Only
    /// the very instance last seen is adopted: a person answers about one
    /// process, and a pid reused since is never taken for it.
    pub fn may_adopt(&self, i: usize, pid: u32, start_time: u64) -> Result<(), String> {
        let svc = &self.svcs[i];
        let name = self.graph.name(i);
        if let Some(run_pid) = match svc.phase {
            Phase::Up { pid, .. } | Phase::Stopping { pid, .. } => Some(Some(pid)),
            Phase::Spawning { .. } | Phase::Backoff { .. } => Some(None),
            Phase::Stopped => None,
        } {
            return Err(match run_pid {
                Some(p) => format!("harness already runs {name} (PID {p})"),
                None => format!("harness is starting {name} itself"),
            });
        }
        match svc.external {
            Some(e) if e.pid == Some(pid) && e.start_time == Some(start_time) => Ok(()),
            Some(e) if e.pid.is_none() => Err(format!(
                "{name} answers outside harness, but its process could not be named \
                 (another user's, or on another host): nothing to adopt"
            )),
            Some(_) | None => Err(format!(
                "process {pid} is no longer the instance of {name} outside harness"
            )),
        }
    }

    /// Makes process `pid` (see [`Engine::may_adopt`]) service `i`'s run:
    /// up since now as far as the engine's clocks go, healthy if its
    /// readiness check passed when it was found, and wanted up, so its end
    /// goes through the restart policy. Nothing happens if it may not be
    /// adopted.
    pub(super) fn adopt(
        &mut self,
        i: usize,
        pid: u32,
        start_time: u64,
        now: Instant,
        out: &mut Vec<Action>,
    ) {
        if self.may_adopt(i, pid, start_time).is_err() {
            return;
        }
        let healthy = self.svcs[i].external.take().is_some_and(|e| e.healthy);
        let run = self.new_run();
        let svc = &mut self.svcs[i];
        svc.wanted = true;
        svc.verdict = Verdict::None;
        // Not spawned from any definition: a deploy or a restart runs the
        // file's, and its checks judge it meanwhile.
        svc.running = None;
        svc.spec = None;
        svc.judged_by = None;
        svc.started_as = None;
        svc.adopted = Some(run);
        let spawn = Move::Spawn {
            run,
            restart: false,
        };
        let up = Move::Spawned {
            run,
            pid,
            since: now,
            startup: false,
        };
        if !self.apply(i, spawn) || !self.apply(i, up) {
            return;
        }
        if let Phase::Up { health, .. } = &mut self.svcs[i].phase
            && healthy
        {
            *health = ProbeHealth::Healthy;
        }
        let to = match healthy {
            true => HistoryState::Running,
            false => HistoryState::Starting,
        };
        self.record(i, to, format!("adopted (PID {pid})"), None, out);
        out.push(Action::Adopt {
            service: ServiceId(i),
            run,
            pid,
            start_time,
        });
        self.schedule_probes(i, now, out);
    }

    /// Whether service `i`'s run is a process harness adopted.
    pub(crate) fn runs_adopted(&self, i: usize) -> bool {
        let svc = &self.svcs[i];
        svc.adopted.is_some() && svc.adopted == svc.phase.run()
    }
}
