//! What `status` shows, derived from the engine's state.

use super::io::ProcessEnd;
use super::service::{Engine, Phase, ProbeHealth, Verdict};
use crate::config::Config;
use crate::duration::compact;
use crate::report::{Health, ServiceView, Status, StatusView, SystemState};
use std::time::Instant;

impl Engine {
    /// The status of every service and of the stack, as of `now`.
    pub fn report(&self, now: Instant) -> StatusView {
        self.report_against(now, &self.config)
    }

    /// [`Engine::report`], with each run compared to its definition in
    /// `file` — the config file as it is now, which a status shows without
    /// taking it (only a request that acts does).
    pub fn report_against(&self, now: Instant, file: &Config) -> StatusView {
        let services: Vec<ServiceView> = (0..self.svcs.len())
            // Gone from the file and down: nothing to show (the config
            // forgets it at its next reload).
            .filter(|&i| {
                file.service(self.graph.name(i)).is_some()
                    || !matches!(self.svcs[i].phase, Phase::Stopped)
            })
            .map(|i| {
                let changes = self.changes_against(i, file);
                let removed = !changes.is_empty() && file.service(self.graph.name(i)).is_none();
                self.view_with(i, now, changes, removed)
            })
            .collect();
        StatusView {
            system_state: self.system_state(&services),
            services,
        }
    }

    pub(crate) fn view(&self, i: usize, now: Instant) -> ServiceView {
        self.view_with(i, now, self.changes(i), false)
    }

    /// Service `i`'s view, given how its run differs from its definition
    /// and whether the file still has it.
    fn view_with(
        &self,
        i: usize,
        now: Instant,
        changes: Vec<String>,
        removed: bool,
    ) -> ServiceView {
        let svc = &self.svcs[i];
        let cfg = &self.config.services[i];
        let (status, health, pid, uptime) = self.state_of(i, now);
        ServiceView {
            name: cfg.name.clone(),
            status,
            health,
            pid,
            restarts: svc.tracker.total,
            uptime_secs: uptime,
            exit_code: if pid.is_none() {
                svc.last_end.and_then(|e| e.code())
            } else {
                None
            },
            network: cfg.network.clone().unwrap_or_else(|| "local".into()),
            notes: if removed {
                removed_note(self.notes(i, now), status)
            } else {
                // (A failed service's verdict already says how it failed.)
                let drift = svc.drift.as_ref().filter(|_| svc.phase.run().is_some());
                let notes = with_changes(with_drift(self.notes(i, now), drift), &changes);
                with_beside(notes, svc.beside.as_ref())
            },
            changes,
            removed,
        }
    }

    /// Status, health, pid and uptime of service `i`.
    fn state_of(&self, i: usize, now: Instant) -> (Status, Health, Option<u32>, Option<u64>) {
        let svc = &self.svcs[i];
        match svc.phase {
            Phase::Stopped if svc.external.is_some() => {
                let healthy = svc.external.is_some_and(|e| e.healthy);
                let health = if healthy {
                    Health::Healthy
                } else {
                    Health::Unhealthy
                };
                (
                    Status::External,
                    health,
                    svc.external.and_then(|e| e.pid),
                    None,
                )
            }
            Phase::Stopped => {
                let (status, health) = match &svc.verdict {
                    Verdict::Failed(_) => (Status::Stopped, Health::Failed),
                    Verdict::Blocked(_) => (Status::Stopped, Health::Blocked),
                    Verdict::Exited(end) if end.success() => (Status::Exited, Health::Unknown),
                    Verdict::Exited(_) => (Status::Exited, Health::Failed),
                    Verdict::GaveUp(_) => (Status::Failed, Health::Failed),
                    Verdict::None | Verdict::TimedOut(_) => (Status::Stopped, Health::Unknown),
                };
                (status, health, None, None)
            }
            Phase::Spawning { .. } => (Status::Starting, Health::Starting, None, None),
            Phase::Up {
                pid, since, health, ..
            } => {
                let uptime = Some(now.saturating_duration_since(since).as_secs());
                let (status, health) = match health {
                    ProbeHealth::Starting => (Status::Starting, Health::Starting),
                    ProbeHealth::Healthy => (Status::Running, Health::Healthy),
                    ProbeHealth::Unhealthy => (Status::Running, Health::Unhealthy),
                };
                (status, health, Some(pid), uptime)
            }
            Phase::Stopping { pid, .. } => (Status::Stopping, Health::Unknown, Some(pid), None),
            Phase::Backoff { .. } => (Status::Restarting, Health::Unhealthy, None, None),
        }
    }

    /// Why service `i` is as it is: its verdict or its backoff, else (while
    /// it runs) a dependency given up on, its `STATUS=` text, or its last
    /// restart.
    fn notes(&self, i: usize, now: Instant) -> String {
        let svc = &self.svcs[i];
        if let (Phase::Stopped, Some(ext)) = (svc.phase, svc.external) {
            return match ext.pid {
                Some(pid) => format!("not managed by harness (PID {pid})"),
                None => "not managed by harness".to_string(),
            };
        }
        let notes = match (&svc.verdict, svc.phase) {
            (
                Verdict::Exited(end),
                Phase::Backoff {
                    until,
                    attempt,
                    max,
                },
            ) => format!(
                "{}; next restart in {} ({})",
                end.describe(),
                compact(until.saturating_duration_since(now).as_secs_f64().ceil() as u64),
                super::auto_restart::attempt_of(attempt, max)
            ),
            (verdict, _) => self.verdict_note(verdict),
        };
        if !notes.is_empty() || !matches!(svc.phase, Phase::Up { .. }) {
            return notes;
        }
        let failed_dep = self
            .graph
            .deps(i)
            .iter()
            .find(|&&(d, _)| matches!(self.svcs[d].verdict, Verdict::GaveUp(_)))
            .map(|&(d, _)| self.graph.name(d));
        match (failed_dep, &svc.status_text, svc.last_end) {
            (Some(dep), _, _) => format!("dependency {dep} failed"),
            (None, Some(text), _) => text.clone(),
            (None, None, _) if self.runs_adopted(i) => match svc.phase {
                Phase::Up { pid, .. } => format!("adopted (PID {pid})"),
                _ => notes,
            },
            (None, None, Some(end)) if svc.tracker.total > 0 => {
                format!("restarted; last exit: {}", end.describe())
            }
            _ => notes,
        }
    }

    fn verdict_note(&self, verdict: &Verdict) -> String {
        match verdict {
            Verdict::None => String::new(),
            Verdict::Failed(why) => why.clone(),
            Verdict::Blocked(why) => why.clone(),
            Verdict::TimedOut(after) => {
                format!("timeout after {}", compact(after.as_secs().max(1)))
            }
            Verdict::Exited(end) if end.success() => "completed".to_string(),
            // "ended (adopted: exit status unknown)": no "exited", which
            // would claim more than is known.
            Verdict::Exited(end @ ProcessEnd::Unknown) => end.describe(),
            Verdict::Exited(end) => format!("exited: {}", end.describe()),
            Verdict::GaveUp(end) => format!(
                "exceeded maximum restart limit - manual intervention required (last: {})",
                end.describe()
            ),
        }
    }

    /// RUNNING, DEGRADED, PARTIAL, FAILED or STOPPED: see [`SystemState`].
    fn system_state(&self, rows: &[ServiceView]) -> SystemState {
        let wanted: Vec<&ServiceView> = rows
            .iter()
            .zip(&self.svcs)
            .filter(|(_, s)| s.wanted)
            .map(|(r, _)| r)
            .collect();
        let any_up = rows.iter().any(|r| r.pid.is_some());
        // Down because a start failed or a run ended that nobody stopped
        // (also while it waits to be restarted): not stopped on request.
        let any_failed = rows
            .iter()
            .any(|r| r.health == Health::Failed || r.status == Status::Restarting);
        let up = |r: &&ServiceView| {
            matches!(
                r.status,
                Status::Running | Status::Starting | Status::External
            )
        };
        if !any_up {
            if any_failed {
                SystemState::Failed
            } else {
                SystemState::Stopped
            }
        } else if wanted.is_empty() {
            SystemState::Partial
        } else if wanted.iter().all(|r| r.health == Health::Healthy) {
            SystemState::Running
        } else if wanted.iter().all(up) {
            SystemState::Degraded
        } else {
            SystemState::Partial
        }
    }
}

/// `notes`, and that the last deploy of it failed, if it did (and nothing
/// else said so already).
fn with_drift(notes: String, drift: Option<&String>) -> String {
    match drift {
        Some(d) if !notes.contains(d.as_str()) && notes.is_empty() => d.clone(),
        Some(d) if !notes.contains(d.as_str()) => format!("{notes}; {d}"),
        _ => notes,
    }
}

/// `notes`, and the run a start-first deploy keeps beside the new one, if
/// there is one: two processes of one service, which status must not hide.
fn with_beside(notes: String, beside: Option<&super::beside::Beside>) -> String {
    let Some(b) = beside else {
        return notes;
    };
    let what = if b.stopping {
        format!("previous version (PID {}) stopping", b.pid)
    } else {
        format!(
            "previous version (PID {}) runs until this one is healthy",
            b.pid
        )
    };
    if notes.is_empty() {
        what
    } else {
        format!("{notes}; {what}")
    }
}

/// `notes` of a service gone from the file that still has a process: what
/// happens to it ("removed from the file, stopping"), never "running an
/// older definition" as if it were the file's.
fn removed_note(notes: String, status: Status) -> String {
    let what = match status {
        Status::Stopping => "removed from the file, stopping",
        _ => "removed from the file, still running (a deploy stops it)",
    };
    if notes.is_empty() {
        what.to_string()
    } else {
        format!("{notes}; {what}")
    }
}

/// `notes`, and how the run differs from its definition, if it does: a
/// service is never shown as simply running when what runs is not what the
/// file says. (How to apply it is the client's to say: it knows how the
/// user names the file.)
pub(crate) fn with_changes(notes: String, changes: &[String]) -> String {
    if changes.is_empty() {
        return notes;
    }
    let older = format!("running an older definition: {}", changes.join(", "));
    if notes.is_empty() {
        older
    } else {
        format!("{notes}; {older}")
    }
}
