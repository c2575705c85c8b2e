//! [`Engine::deploy_plan`]: what a deploy of a file would do with each
//! service, from what runs and the file alone. `deploy --dry-run` prints
//! it; a deploy carries it out.
//!
//! A service's run is compared with the file by its definition print
//! ([`super::definition`]: command, working folder, environment, stop
//! signal, `env_file` contents, `version:`) and by the keys of its spec
//! the print does not hold (`ready`, `watchdog`): any difference is a
//! *change*, applied by replacing the run. Keys that only say how harness
//! watches a run are applied *in place*, without touching it.

use super::definition::Definition;
use super::service::{Engine, Phase, Verdict};
use super::spec::RunSpec;
use super::targets::SelectionError;
use crate::config::{Config, Service};
use crate::report::{DeployAction, DeployEntry, DeployPlan};

impl Engine {
    /// What deploying `file` would do. With `only`, just those services
    /// (of the file, or running and gone from it); an unknown name is an
    /// error that names the ones there are.
    pub fn deploy_plan(
        &self,
        file: &Config,
        only: &[String],
    ) -> Result<DeployPlan, SelectionError> {
        for name in only {
            let running_here = self.graph.index(name).is_some_and(|i| self.has_process(i));
            if file.service(name).is_none() && !running_here {
                let mut known: Vec<String> = file.names().map(str::to_string).collect();
                known.extend(
                    self.removed_running(file)
                        .into_iter()
                        .map(|i| self.graph.name(i).to_string()),
                );
                return Err(SelectionError::Unknown {
                    name: name.clone(),
                    known,
                });
            }
        }
        let wanted = |name: &str| only.is_empty() || only.iter().any(|n| n == name);
        let mut services = Vec::new();
        for i in self.removed_running(file) {
            let name = self.graph.name(i);
            if wanted(name) {
                services.push(DeployEntry {
                    service: name.to_string(),
                    action: DeployAction::Remove,
                    reasons: vec!["removed from the file".into()],
                    from: self.running_version(i),
                    to: None,
                });
            }
        }
        for svc in file.services.iter().filter(|s| wanted(&s.name)) {
            let (action, reasons) = match self.graph.index(&svc.name) {
                Some(i) => self.compare(i, svc),
                None => (DeployAction::Add, Vec::new()),
            };
            let to = Definition::of(&RunSpec::of(svc)).version();
            let running = self
                .graph
                .index(&svc.name)
                .and_then(|i| self.running_version(i));
            // Unchanged runs what the file says: the same version, even
            // when its print lacks a part harness learned to see later.
            let from = match action {
                DeployAction::Unchanged => running.map(|_| to.clone()),
                _ => running,
            };
            services.push(DeployEntry {
                service: svc.name.clone(),
                action,
                reasons,
                from,
                to: Some(to),
            });
        }
        Ok(DeployPlan { services })
    }

    /// Services that have a process (or a restart due) and are not in
    /// `file`, dependents before their dependencies.
    fn removed_running(&self, file: &Config) -> Vec<usize> {
        let mut gone: Vec<usize> = (0..self.svcs.len())
            .filter(|&i| file.service(self.graph.name(i)).is_none() && self.has_process(i))
            .collect();
        // Each goes once no dependent of it is left to go (the graph has
        // no cycle, so one always can).
        let mut order = Vec::with_capacity(gone.len());
        while !gone.is_empty() {
            let next = gone
                .iter()
                .position(|&i| !self.graph.dependents(i).iter().any(|j| gone.contains(j)))
                .unwrap_or(0);
            order.push(gone.remove(next));
        }
        order
    }

    fn has_process(&self, i: usize) -> bool {
        !matches!(self.svcs[i].phase, Phase::Stopped)
    }

    /// The version service `i` runs, if it has a run (or one is due: a
    /// restart runs the same version again) with a known print.
    pub fn running_version(&self, i: usize) -> Option<String> {
        let s = &self.svcs[i];
        if matches!(s.phase, Phase::Stopped) {
            return None;
        }
        s.running.as_ref().map(Definition::version)
    }

    /// Service `i` as it runs against `new`, its definition in the file.
    fn compare(&self, i: usize, new: &Service) -> (DeployAction, Vec<String>) {
        let state = &self.svcs[i];
        let old = &self.config.services[i];
        let mut changes = match &state.running {
            Some(print) => print.changes(&Definition::of(&RunSpec::of(new))),
            // Started outside harness: replaced by a run of the file's.
            None if self.runs_adopted(i) => match state.phase {
                Phase::Up { pid, .. } | Phase::Stopping { pid, .. } => {
                    vec![format!("adopted (PID {pid}): what it runs is not known")]
                }
                _ => vec!["adopted: what it runs is not known".to_string()],
            },
            None => vec!["running definition not recorded".to_string()],
        };
        // What the run was set up with (a reverted run keeps its own),
        // else its definition in the config.
        let (ready, watchdog) = match &state.spec {
            Some(s) => (&s.ready, s.watchdog),
            None => (&old.ready, old.watchdog),
        };
        changes.extend(spec_keys(ready, watchdog, new));
        let completed = matches!(&state.verdict, Verdict::Exited(end) if end.success());
        if let (Phase::Stopped, Some(e)) = (&state.phase, &state.external) {
            // Harness runs none of it: starting one would be a duplicate.
            let pid = e.pid.map(|p| format!(" (PID {p})")).unwrap_or_default();
            return (
                DeployAction::External,
                vec![format!("running outside harness{pid}: left as it is")],
            );
        }
        match state.phase {
            Phase::Stopped if completed && changes.is_empty() => {
                (DeployAction::Unchanged, vec!["completed".into()])
            }
            Phase::Stopped => (DeployAction::Add, Vec::new()),
            _ if !changes.is_empty() => match &state.drift {
                // A deploy of it failed: said first, then what differs.
                Some(why) => {
                    let mut reasons = vec![why.clone()];
                    reasons.extend(changes);
                    (DeployAction::Drifted, reasons)
                }
                None => (DeployAction::Change, changes),
            },
            _ => {
                let keys = watch_keys(old, new);
                if keys.is_empty() {
                    (DeployAction::Unchanged, Vec::new())
                } else {
                    (DeployAction::InPlace, keys)
                }
            }
        }
    }
}

/// Keys of a run's spec that its print does not hold, changed: a run
/// set up for another `ready` (a notify socket, a log pattern) or
/// `watchdog` must be replaced.
fn spec_keys(
    ready: &Option<crate::config::Ready>,
    watchdog: Option<std::time::Duration>,
    new: &Service,
) -> Vec<String> {
    let mut out = Vec::new();
    if *ready != new.ready {
        out.push("ready changed".into());
    }
    if watchdog != new.watchdog {
        out.push("watchdog changed".into());
    }
    out
}

/// Keys that say how harness watches and treats a run, not what runs,
/// that differ between `old` and `new`.
fn watch_keys(old: &Service, new: &Service) -> Vec<String> {
    let deps = |s: &Service| -> Vec<(String, crate::config::Condition)> {
        s.depends_on
            .iter()
            .map(|d| (d.name.clone(), d.condition))
            .collect()
    };
    let keys = [
        ("depends_on", deps(old) != deps(new)),
        ("health_check", old.health_check != new.health_check),
        ("liveness", old.liveness != new.liveness),
        ("startup", old.startup != new.startup),
        (
            "startup_timeout",
            old.startup_timeout != new.startup_timeout,
        ),
        ("stop_timeout", old.stop_timeout != new.stop_timeout),
        ("network", old.network != new.network),
        ("restart", old.restart != new.restart),
        (
            "success_exit_codes",
            old.success_exit_codes != new.success_exit_codes,
        ),
        ("update", old.update != new.update),
    ];
    keys.iter()
        .filter(|(_, differs)| *differs)
        .map(|(k, _)| format!("{k} changed"))
        .collect()
}
