//! Carrying out the engine's actions: every effect of a step happens here
//! or in a task started here, and nothing here waits.

use super::Supervisor;
use crate::process::{self, ProcessGroup};
use crate::wire;
use harness_api::{OpEvent, RecoveryBegins};
use harness_core::engine::{Action, HealthEvent, Input, OpId, Severity};
use harness_store::{HistoryRow, Write};
use std::time::Instant;

/// Whether a log line is one the daemon put there (and not the service's
/// own output).
pub(crate) fn is_restart_mark(line: &str) -> bool {
    line.strip_prefix("[harness] ")
        .is_some_and(HealthEvent::is_line)
}

impl Supervisor {
    /// Steps the engine with one fact and carries out what follows.
    pub(super) fn feed(&mut self, input: Input) {
        let actions = self.engine.step(input, Instant::now());
        for action in actions {
            self.execute(action);
        }
        if !self.listeners.is_empty() {
            let engine = &self.engine;
            self.listeners.release(|name, addr| {
                engine
                    .graph()
                    .index(name)
                    .is_some_and(|i| engine.sockets_in_use(i).contains(&addr))
            });
        }
        self.engine.drop_removed();
        self.save_outcomes();
        if !self.after_deploy.is_empty() && self.deploys.running().is_none() {
            self.feed_parked_stops();
        }
    }

    fn execute(&mut self, action: Action) {
        match action {
            Action::Persist => {
                if !self.store.flush(super::deploys::RECORD_LIMIT) {
                    tracing::error!("the state database did not confirm a write in time; going on");
                }
            }
            Action::RunJob { job } => self.run_job_for_start(job),
            Action::Spawn { service, run, spec } => {
                self.store.send(Write::ReserveRuns { up_to: run.0 + 1 });
                // Every version that runs is kept: a deploy can go back to
                // it, and `harness rollback` can run it again.
                self.store
                    .save_version(self.project.versions_dir(), (*spec).clone());
                self.spawn(service, run, *spec);
            }
            Action::Adopt {
                service,
                run,
                pid,
                start_time,
            } => self.watch_adopted(service, run, pid, start_time),
            Action::Stop {
                run,
                pid,
                signal,
                grace,
                ..
            } => {
                let task = match self.adopted.contains_key(&run) {
                    true => tokio::spawn(process::stop_adopted(pid, signal, grace)),
                    false => tokio::spawn(process::stop_group(ProcessGroup(pid), signal, grace)),
                };
                self.stops.insert(run, task.abort_handle());
            }
            Action::Probe {
                service,
                run,
                kind,
                at,
                spec,
            } => self.probe(service, run, kind, at, *spec),
            Action::Transition {
                service,
                from,
                to,
                reason,
                cause,
            } => {
                let name = self.engine.graph().name(service.index()).to_string();
                tracing::info!(service = %name, %from, %to, reason = %reason, "transition");
                self.store.send(Write::History(HistoryRow {
                    ts_ms: super::wall_ms(),
                    service: name,
                    from: from.as_str().into(),
                    to: to.as_str().into(),
                    reason,
                    cause,
                }));
            }
            Action::Health { service, event } => {
                let name = self.engine.graph().name(service.index()).to_string();
                let line = event.line();
                match event.severity() {
                    Severity::Error => tracing::error!(service = %name, "{line}"),
                    Severity::Warning => tracing::warn!(service = %name, "{line}"),
                    Severity::Info => tracing::info!(service = %name, "{line}"),
                }
                self.mark_log(&name, &line);
            }
            Action::Progress { op, progress } => {
                self.tell(op, OpEvent::Progress(wire::progress(progress)))
            }
            Action::Recover { op, policy } => {
                let begins = RecoveryBegins {
                    policy: wire::policy(policy),
                };
                self.tell(op, OpEvent::Recovery(begins))
            }
            Action::Deploy { op, event } => self.tell_deploy(op, wire::deploy_event(event)),
            Action::DeployDone { op, summary } => self.deploy_done(op, summary),
            Action::Done { op, summary } => {
                self.tell(op, OpEvent::Done(wire::summary(summary)));
                self.clients.remove(&op);
                self.services_started(op);
            }
        }
    }

    /// Puts a `[harness] …` line (see [`is_restart_mark`]) among the
    /// service's own output, so that `harness logs` shows where a run ended
    /// and the next began, with its own capture time in the log's index.
    /// One append of a whole line: it never splits a line the shim writes.
    /// Written here rather than on the store thread
    /// so that a mark always precedes the output of the run it announces;
    /// it happens only on health events, never on a probe or a plain start.
    pub(super) fn mark_log(&self, service: &str, line: &str) {
        let path = self.project.log(service);
        let written =
            harness_shim::log::append_line(&path, format!("[harness] {line}\n").as_bytes());
        if let Err(e) = written {
            tracing::warn!(service, path = %path.display(), error = %e, "cannot write to the service's log");
        }
    }

    /// Sends an event to an operation's client; a client too slow to keep
    /// up is dropped, never waited for.
    fn tell(&mut self, op: OpId, event: OpEvent) {
        if let Some(client) = self.clients.get(&op)
            && client.try_send(event).is_err()
        {
            tracing::warn!(op = op.0, "client too slow or gone; dropping it");
            self.clients.remove(&op);
        }
    }
}
