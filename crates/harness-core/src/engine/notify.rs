//! What a service says about itself (`sd_notify`, or a log line that
//! matches `ready: { log }`): ready, a status text, a watchdog ping; and
//! the restart of a run whose watchdog ping is overdue.

use super::io::{Action, Notified, ProbeKind, RunId};
use super::service::{Engine, Phase, ProbeHealth};
use super::transition::KillReason;
use std::time::Instant;

impl Engine {
    /// `READY=1` (or a matching log line), `STATUS=`, `WATCHDOG=1`.
    pub(super) fn notified(
        &mut self,
        i: usize,
        run: RunId,
        message: Notified,
        now: Instant,
        out: &mut Vec<Action>,
    ) {
        let pushed = self.def(i).ready.is_some();
        let watchdog = self.def(i).watchdog;
        let Phase::Up {
            run: r,
            health,
            started,
            watchdog_due,
            ..
        } = &mut self.svcs[i].phase
        else {
            return;
        };
        if *r != run {
            return;
        }
        match message {
            Notified::Ready(how) => {
                if *health != ProbeHealth::Starting || !pushed {
                    return;
                }
                *health = ProbeHealth::Healthy;
                *started = true;
                *watchdog_due = watchdog.map(|w| now + w);
                self.came_up(i, format!("ready ({how})"), format!("ready: {how}"), out);
                // Liveness already runs (from the spawn or the startup
                // probe); the readiness check starts now.
                if let Some(check) = &self.def(i).health_check {
                    self.push_probe(i, run, ProbeKind::Ready, now + check.interval, out);
                }
            }
            Notified::Status(text) => self.svcs[i].status_text = Some(text),
            Notified::Watchdog => {
                if watchdog_due.is_some() {
                    *watchdog_due = watchdog.map(|w| now + w);
                }
            }
        }
    }

    /// Restarts the runs whose `WATCHDOG=1` is overdue.
    pub(super) fn check_watchdogs(&mut self, now: Instant, out: &mut Vec<Action>) {
        for i in 0..self.svcs.len() {
            if let Phase::Up { watchdog_due, .. } = &mut self.svcs[i].phase
                && watchdog_due.is_some_and(|due| now >= due)
            {
                *watchdog_due = None;
                let w = self.def(i).watchdog.unwrap_or_default();
                self.kill_for_restart(i, KillReason::Watchdog(w), out);
            }
        }
    }
}
