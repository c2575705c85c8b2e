//! Services running outside harness (seed 000): before a plan or a start
//! the daemon looks at the machine for instances of the services it runs
//! none of (`external_scan::look`, then `harness_core::external::find`),
//! tells the engine (`Input::External`), and has each new one's readiness
//! check run off the loop; its answer comes back as
//! [`Msg::ExternalChecked`](super::Msg::ExternalChecked). Before a status,
//! what was seen is checked again, cheaply, so status never shows an
//! instance that is gone.

use super::Supervisor;
use harness_core::engine::{ExternalInstance, Input, Phase, ServiceId};
use std::collections::HashSet;

impl Supervisor {
    /// Looks for instances outside harness of every service it runs none
    /// of, and tells the engine.
    pub(super) fn look_outside(&mut self) {
        self.outside.clear();
        let n = self.engine.config().services.len();
        let stopped: Vec<usize> = (0..n)
            .filter(|&i| matches!(self.engine.phase(i), Phase::Stopped))
            .collect();
        if stopped.is_empty() {
            return;
        }
        // Harness's own: the daemon, and every run it has (their
        // children with them).
        let mut roots = vec![std::process::id()];
        roots.extend((0..n).filter_map(|i| match self.engine.phase(i) {
            Phase::Up { pid, .. } | Phase::Stopping { pid, .. } => Some(pid),
            _ => None,
        }));
        let config = self.engine.config();
        let services: Vec<&harness_core::config::Service> =
            stopped.iter().map(|&i| &config.services[i]).collect();
        let sightings = crate::external_scan::look(&self.project.root, &services, &roots);
        let mut seen = Vec::new();
        let mut to_check = Vec::new();
        let mut outside = std::collections::HashMap::new();
        for (&i, svc) in stopped.iter().zip(&services) {
            let found = harness_core::external::find(svc, &sightings).map(|e| {
                let (instance, check) = self.engine.external_instance(i, &e);
                if let Some(spec) = check {
                    to_check.push((svc.name.clone(), instance.pid, spec));
                }
                outside.insert(svc.name.clone(), e);
                instance
            });
            if let Some(e) = found {
                tracing::info!(service = %svc.name, pid = ?e.pid, "running outside harness: not started again");
            }
            seen.push((ServiceId(i), found));
        }
        self.outside = outside;
        self.feed(Input::External { seen });
        for (service, pid, spec) in to_check {
            let (project, tx) = (self.project.clone(), self.tx.clone());
            tokio::spawn(async move {
                let outcome = crate::probe::run(&project, &spec).await;
                let _ = tx.send(super::Msg::ExternalChecked {
                    service,
                    pid,
                    healthy: outcome.ok,
                });
            });
        }
    }

    /// The answer of an instance's readiness check, if it is still the
    /// instance the engine knows.
    pub(super) fn external_checked(&mut self, service: &str, pid: Option<u32>, healthy: bool) {
        let Some(i) = self.engine.graph().index(service) else {
            return;
        };
        if let Some(known) = self.engine.external(i).filter(|k| k.pid == pid) {
            self.feed(Input::External {
                seen: vec![(ServiceId(i), Some(ExternalInstance { healthy, ..known }))],
            });
        }
    }

    /// Forgets the instances outside harness that are gone: a process
    /// that ended (its pid and start time no longer match), or, when its
    /// process could not be named, nothing listening on its ports any
    /// more. Cheap: a read of `/proc/PID/stat` each, one netlink question.
    pub(super) fn refresh_outside(&mut self) {
        let n = self.engine.config().services.len();
        let known: Vec<(usize, ExternalInstance)> = (0..n)
            .filter_map(|i| self.engine.external(i).map(|e| (i, e)))
            .collect();
        if known.is_empty() {
            return;
        }
        let mut listening: Option<HashSet<u16>> = None;
        let mut gone = Vec::new();
        for (i, e) in known {
            let alive = match (e.pid, e.start_time) {
                (Some(pid), Some(start)) => harness_store::same_process(pid, start),
                _ => {
                    let ports = listening.get_or_insert_with(|| {
                        crate::sock_diag::listening_tcp()
                            .unwrap_or_default()
                            .iter()
                            .map(|l| l.addr.port())
                            .collect()
                    });
                    harness_core::external::ports_of(&self.engine.config().services[i])
                        .iter()
                        .any(|p| ports.contains(p))
                }
            };
            if !alive {
                gone.push((ServiceId(i), None));
            }
        }
        if !gone.is_empty() {
            self.feed(Input::External { seen: gone });
        }
    }
}
