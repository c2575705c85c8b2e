//! `harness health`: run the readiness checks now. The engine says, per
//! service, whether there is anything to probe and what a service with
//! nothing to probe counts as; the runtime only runs the probes.

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
