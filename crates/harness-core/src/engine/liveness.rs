//! The startup and liveness probes (seed 004). Readiness (`health_check`)
//! lives in `step.rs`: it gates dependents and never restarts. Liveness
//! failing `retries` times in a row, or a startup probe that does not pass
//! within `interval × retries`, stops the run so that its restart policy
//! starts it again.

use super::io::{Action, HealthEvent, ProbeKind, RunId, ServiceId};
use super::probe_cadence::startup_delay;
use super::service::{Engine, Phase, ProbeHealth};
use super::spec::ProbeSpec;
use super::transition::{KillForRestart, KillReason};
use std::time::Instant;

impl Engine {
    /// Schedules the probes of a run that has passed its startup probe (or
    /// has none): readiness now, liveness one interval from now.
    pub(super) fn schedule_probes(&mut self, i: usize, now: Instant, out: &mut Vec<Action>) {
        let Phase::Up { run, health, .. } = self.svcs[i].phase else {
            return;
        };
        let cfg = self.def(i);
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
        let Some(check) = self.def(i).startup.clone() else {
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
        let Some(check) = self.def(i).liveness.clone() else {
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

    /// Stops the run so that its restart policy decides what follows, as
    /// for any failed run.
    pub(super) fn kill_for_restart(&mut self, i: usize, why: KillReason, out: &mut Vec<Action>) {
        let Phase::Up { since, .. } = self.svcs[i].phase else {
            return;
        };
        let text = why.describe();
        out.push(super::auto_restart::health_event(
            i,
            HealthEvent::Unhealthy(text.clone()),
        ));
        let kill = KillForRestart { why, since };
        self.send_stop(i, text, None, Some(kill), out);
    }

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
        let svc = self.def(i);
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
}
