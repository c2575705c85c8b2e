//! `harness health`: run the readiness checks now. The engine says, per
//! service, whether there is anything to probe and what a service with
//! nothing to probe counts as; the runtime only runs the probes. The same
//! for an instance running outside harness, once found.

use super::service::{Engine, Phase};
use super::spec::ProbeSpec;

/// What checking one service now takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckNow {
    /// Nothing to probe: the verdict is known.
    Settled {
        /// Whether it counts as healthy.
        healthy: bool,
        /// Why ("not running", "running (no health check)").
        detail: &'static str,
    },
    /// Running with a readiness check: the check decides.
    Probe(ProbeSpec),
}

impl Engine {
    /// What checking service `i` now takes: a service without a process is
    /// unhealthy, a running one without a check is healthy (as it is in
    /// status), and a running one with a check is probed.
    pub fn check_now(&self, i: usize) -> CheckNow {
        let running = matches!(
            self.svcs[i].phase,
            Phase::Up { .. } | Phase::Stopping { .. }
        );
        let svc = self.def(i);
        match (&svc.health_check, running) {
            (_, false) => CheckNow::Settled {
                healthy: false,
                detail: "not running",
            },
            (None, true) => CheckNow::Settled {
                healthy: true,
                detail: "running (no health check)",
            },
            (Some(check), true) => CheckNow::Probe(ProbeSpec::of(svc, check)),
        }
    }
}

impl Engine {
    /// The check an instance of service `i` outside harness is judged
    /// by: its readiness check, if it has one.
    pub fn external_check(&self, i: usize) -> Option<ProbeSpec> {
        let svc = self.def(i);
        svc.health_check.as_ref().map(|c| ProbeSpec::of(svc, c))
    }

    /// What the engine is told of `found`, an instance of service `i`
    /// outside harness, and the readiness check to run against it, if
    /// any. The same process seen again keeps its check's answer; one
    /// with no check counts as healthy (as a run without one does); a new
    /// one with a check is unhealthy until the check passes.
    pub fn external_instance(
        &self,
        i: usize,
        found: &crate::external::External,
    ) -> (super::io::ExternalInstance, Option<ProbeSpec>) {
        let pid = found.pid();
        let start_time = found.process.as_ref().map(|p| p.start_time);
        let known = self.svcs[i]
            .external
            .filter(|k| k.pid == pid && k.start_time == start_time);
        let (healthy, check) = match (self.external_check(i), known) {
            (_, Some(k)) => (k.healthy, None),
            (None, None) => (true, None),
            (Some(check), None) => (false, Some(check)),
        };
        let instance = super::io::ExternalInstance {
            pid,
            start_time,
            healthy,
        };
        (instance, check)
    }
}
