//! The startup and liveness probes (seed 004). Readiness (`health_check`)
//! lives in `step.rs`: it gates dependents and never restarts. Liveness
//! failing `retries` times in a row, or a startup probe that does not pass
//! within `interval × retries`, stops the run so that its restart policy
//! starts it again.

use super::io::Notified;
use super::io::{Action, HealthEvent, ProbeKind, RunId, ServiceId};
use super::probe::startup_delay;
use super::service::{Engine, Phase, ProbeHealth};
use super::spec::{ProbeSpec, RunSpec};
use super::transition::{KillForRestart, KillReason};
use std::time::Instant;

impl Engine {
    /// Schedules the probes of a run that has passed its startup probe (or
    /// has none): readiness now, liveness one interval from now.
    pub(super) fn schedule_probes(&mut self, i: usize, now: Instant, out: &mut Vec<Action>) {
        let Phase::Up { run, health, .. } = self.svcs[i].phase else {
            return;
        };
        let cfg = &self.config.services[i];
        // With pushed readiness the check waits for the push.
        let pushed = cfg.ready.is_some() && health == ProbeHealth::Starting;
        if let Some(check) = &cfg.health_check
            && !pushed
        {
            let at = if cfg.ready.is_some() {
                now + check.interval
            } else {
                now
            };
            self.push_probe(i, run, ProbeKind::Ready, at, out);
        }
        if let Some(live) = &cfg.liveness {
            self.push_probe(i, run, ProbeKind::Live, now + live.interval, out);
        }
    }

    pub(super) fn probed_startup(
        &mut self,
        i: usize,
        run: RunId,
        ok: bool,
        now: Instant,
        out: &mut Vec<Action>,
    ) {
        let Some(check) = self.config.services[i].startup.clone() else {
            return;
        };
        let Phase::Up {
            run: r,
            since,
            started,
            attempts,
            ..
        } = &mut self.svcs[i].phase
        else {
            return;
        };
        if *r != run || *started {
            return;
        }
        if ok {
            *started = true;
            *attempts = 0; // readiness starts on the fast cadence
            self.schedule_probes(i, now, out);
            return;
        }
        *attempts = attempts.saturating_add(1);
        let tolerance = check.interval.saturating_mul(check.retries);
        if now.saturating_duration_since(*since) >= tolerance {
            self.kill_for_restart(i, KillReason::Startup(tolerance), out);
        } else {
            let at = now + startup_delay(&check, *attempts);
            self.push_probe(i, run, ProbeKind::Startup, at, out);
        }
    }

    pub(super) fn probed_live(
        &mut self,
        i: usize,
        run: RunId,
        ok: bool,
        now: Instant,
        out: &mut Vec<Action>,
    ) {
        let Some(check) = self.config.services[i].liveness.clone() else {
            return;
        };
        let Phase::Up {
            run: r,
            since,
            live_fails,
            ..
        } = &mut self.svcs[i].phase
        else {
            return;
        };
        if *r != run {
            return;
        }
        if ok {
            *live_fails = 0;
        } else if now >= *since + check.start_period {
            *live_fails += 1;
        }
        if *live_fails >= check.retries {
            self.kill_for_restart(i, KillReason::Liveness(check.retries), out);
        } else {
            self.push_probe(i, run, ProbeKind::Live, now + check.interval, out);
        }
    }

    /// `READY=1` (or a matching log line), `STATUS=`, `WATCHDOG=1`.
    pub(super) fn notified(
        &mut self,
        i: usize,
        run: RunId,
        message: Notified,
        now: Instant,
        out: &mut Vec<Action>,
    ) {
        let pushed = self.config.services[i].ready.is_some();
        let watchdog = self.config.services[i].watchdog;
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
                if let Some(check) = &self.config.services[i].health_check {
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
                let w = self.config.services[i].watchdog.unwrap_or_default();
                self.kill_for_restart(i, KillReason::Watchdog(w), out);
            }
        }
    }

    /// Stops the run so that its restart policy decides what follows, as
    /// for any failed run.
    fn kill_for_restart(&mut self, i: usize, why: KillReason, out: &mut Vec<Action>) {
        let Phase::Up { since, .. } = self.svcs[i].phase else {
            return;
        };
        let text = why.describe();
        out.push(super::restart::health_event(
            i,
            HealthEvent::Unhealthy(text.clone()),
        ));
        let kill = KillForRestart { why, since };
        self.send_stop(i, text, None, Some(kill), out);
    }
}

impl Engine {
    /// Probe `kind` of run `run` of service `i` at `at`, with the check the
    /// config gives (nothing if it gives none).
    pub(super) fn push_probe(
        &self,
        i: usize,
        run: RunId,
        kind: ProbeKind,
        at: Instant,
        out: &mut Vec<Action>,
    ) {
        let svc = &self.config.services[i];
        let check = match kind {
            ProbeKind::Ready => &svc.health_check,
            ProbeKind::Live => &svc.liveness,
            ProbeKind::Startup => &svc.startup,
        };
        if let Some(check) = check {
            out.push(Action::Probe {
                service: ServiceId(i),
                run,
                kind,
                at,
                spec: Box::new(ProbeSpec::of(svc, check)),
            });
        }
    }

    /// Spawn run `run` of service `i` as its definition says.
    pub(super) fn push_spawn(&self, i: usize, run: RunId, out: &mut Vec<Action>) {
        out.push(Action::Spawn {
            service: ServiceId(i),
            run,
            spec: Box::new(RunSpec::of(&self.config.services[i])),
        });
    }
}
