//! The task of each run: spawn it under a shim, tell the engine it runs,
//! forward what it pushes (`sd_notify`, a readiness log line), and report
//! how it ended. Also how the end of a run is found out when nobody saw
//! it — written once, for a watched run and for a re-attached one.

use super::{Msg, Supervisor};
use crate::log_cursor::Cursor;
use crate::notify;
use crate::probe;
use crate::process::{self, ProcessGroup};
use crate::store_writer::StoreWriter;
use harness_core::config::Ready;
use harness_core::engine::{
    Definition, Input, Notified, ProbeKind, ProbeSpec, ProcessEnd, RunId, RunSpec, ServiceId,
    UnitId,
};
use harness_store::{Project, RunRecord, Write};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// What a run's task needs to report its facts.
#[derive(Clone)]
struct Reporter {
    project: Project,
    tx: mpsc::UnboundedSender<Msg>,
    store: StoreWriter,
    service: ServiceId,
    run: RunId,
}

impl Reporter {
    fn fact(&self, input: Input) {
        let _ = self.tx.send(Msg::Fact(input));
    }

    fn spawn_failed(&self, spec: &RunSpec, reason: String) {
        tracing::warn!(service = %spec.unit, reason = %reason, "spawn failed");
        self.fact(Input::SpawnFailed {
            service: self.service,
            run: self.run,
            reason,
        });
    }
}

impl Supervisor {
    fn reporter(&self, service: ServiceId, run: RunId) -> Reporter {
        Reporter {
            project: self.project.clone(),
            tx: self.tx.clone(),
            store: self.store.clone(),
            service,
            run,
        }
    }

    /// Starts the task of run `run` of `spec`.
    pub(super) fn spawn(&mut self, service: ServiceId, run: RunId, spec: RunSpec) {
        let r = self.reporter(service, run);
        let shims = self.shims.clone();
        let listen = match spec.socket {
            Some(addr) => match self.listeners.for_run(spec.unit.key(), addr) {
                Ok(fd) => Some(fd),
                Err(reason) => return r.spawn_failed(&spec, reason),
            },
            None => None,
        };
        tokio::spawn(async move {
            // Output starts with the spawn: remember where this run's begins.
            let log = Cursor::at_end(&r.project.log(spec.unit.key()));
            // The notify socket exists before the service can write to it.
            let notify_sock = notify_socket(&r.project, &spec, run, false);
            let s = match process::spawn(&shims, &r.project, &spec, run, listen).await {
                Ok(s) => s,
                Err(reason) => return r.spawn_failed(&spec, reason),
            };
            tracing::info!(service = %spec.unit, pid = s.pid, run = run.0, "spawned");
            let record = s.record(
                &spec.unit,
                run,
                super::wall_ms(),
                Some(Definition::of(&spec)),
            );
            r.store.send(Write::Run(record.clone()));
            r.fact(Input::Spawned {
                service,
                run,
                pid: s.pid,
            });
            until_exit(&r, &record, &spec, notify_sock, log).await;
        });
    }

    /// Watches a run the last daemon started, until it ends; with the
    /// `spec` it runs, if it is the service's run (its notify socket).
    pub(super) fn watch_shim(
        &self,
        service: ServiceId,
        run: RunId,
        spec: Option<&RunSpec>,
        record: &RunRecord,
    ) {
        let r = self.reporter(service, run);
        let (spec, record) = (spec.cloned(), record.clone());
        tokio::spawn(async move {
            let exit = watch_until_exit(&r, &record);
            // A re-attached service keeps its NOTIFY_SOCKET path: bind it
            // again so its WATCHDOG=1 and STATUS= still arrive.
            match spec.and_then(|spec| notify_socket(&r.project, &spec, run, true)) {
                Some(sock) => {
                    tokio::pin!(exit);
                    tokio::select! {
                        _ = &mut exit => {}
                        _ = notify::forward(sock, service, run, r.tx.clone()) => exit.await,
                    }
                }
                None => exit.await,
            }
        });
    }

    /// Runs probe `kind` of run `run` at `at`, on a task of its own.
    pub(super) fn probe(
        &self,
        service: ServiceId,
        run: RunId,
        kind: ProbeKind,
        at: Instant,
        spec: ProbeSpec,
    ) {
        let (project, tx) = (self.project.clone(), self.tx.clone());
        tokio::spawn(async move {
            tokio::time::sleep_until(at.into()).await;
            let outcome = probe::run(&project, &spec).await;
            if !outcome.ok && kind == ProbeKind::Live {
                tracing::warn!(service = %spec.unit, detail = %outcome.detail, "Health check failed (liveness)");
            } else if !outcome.ok {
                tracing::debug!(service = %spec.unit, ?kind, detail = %outcome.detail, "health check failed");
            }
            let input = Input::Probed {
                service,
                run,
                kind,
                ok: outcome.ok,
            };
            let _ = tx.send(Msg::Probed {
                fact: input,
                unit: spec.unit.key().to_string(),
                kind,
                took: outcome.took,
            });
        });
    }
}

/// Watches a run until it ends, passing on what it says about itself
/// meanwhile: its notify socket's messages, or the first log line that
/// matches `ready: { log }`.
async fn until_exit(
    r: &Reporter,
    record: &RunRecord,
    spec: &RunSpec,
    notify_sock: Option<tokio::net::UnixDatagram>,
    log: Cursor,
) {
    let (service, run) = (r.service, r.run);
    let exit = watch_until_exit(r, record);
    tokio::pin!(exit);
    if let Some(sock) = notify_sock {
        tokio::select! {
            _ = &mut exit => {}
            _ = notify::forward(sock, service, run, r.tx.clone()) => exit.await,
        }
        return;
    }
    if let Some(Ready::Log(pattern)) = &spec.ready
        && let Ok(re) = regex::Regex::new(pattern)
    {
        tokio::select! {
            _ = &mut exit => return,
            line = first_match(log, &re) => r.fact(Input::Notified {
                service,
                run,
                message: Notified::Ready(format!("log: {line}")),
            }),
        }
    }
    exit.await;
}

/// How run `run` of `unit` ended, once its shim is gone: what the shim
/// wrote in the exit file, or — if it died without writing it — that
/// nobody saw the end. A service still running without its shim is killed
/// with its group first, so that it never runs twice.
pub(super) fn end_of(
    project: &Project,
    unit: &UnitId,
    run: RunId,
    pid: u32,
    pid_start: u64,
) -> ProcessEnd {
    // (Removed once the run's end is on disk: `StoreWriter::run_ended`.)
    if let Some(end) = process::read_exit(&project.exit_file(unit.key(), run.0), run) {
        return end;
    }
    // A run an earlier harness started wrote one file per service.
    if let Some(end) = process::read_exit(&project.legacy_exit_file(unit.key()), run) {
        return end;
    }
    if process::same_process(pid, pid_start) {
        tracing::warn!(service = %unit, pid, "the shim is gone but the service runs; killing its group so it never runs twice");
        ProcessGroup(pid).signal(libc::SIGKILL);
    }
    ProcessEnd::Lost
}

/// How the run `record` names ended, once it is gone: an adopted
/// process's end cannot be known; a shim's run's is what the shim wrote.
pub(super) fn end_of_record(project: &Project, record: &RunRecord) -> ProcessEnd {
    match record.adopted {
        true => ProcessEnd::Unknown,
        false => end_of(
            project,
            &record.unit,
            record.run,
            record.pid,
            record.pid_start,
        ),
    }
}

/// Waits for the run's shim (or, adopted, its process) to end, then
/// reports the run's end.
async fn watch_until_exit(r: &Reporter, record: &RunRecord) {
    match record.adopted {
        true => process::wait_adopted(record.pid, record.pid_start).await,
        false => process::wait_exit(record.shim_pid).await,
    }
    let unit = &record.unit;
    let end = end_of_record(&r.project, record);
    tracing::info!(service = %unit, pid = record.pid, end = %end.describe(), "service ended");
    r.store.run_ended(&r.project, unit.clone(), r.run);
    r.fact(Input::Exited {
        service: r.service,
        run: r.run,
        end,
    });
}

/// The bound notify socket of a `ready: notify` run.
fn notify_socket(
    project: &Project,
    spec: &RunSpec,
    run: RunId,
    reattached: bool,
) -> Option<tokio::net::UnixDatagram> {
    if spec.ready != Some(Ready::Notify) {
        return None;
    }
    let mut path = project.notify_socket(spec.unit.key(), run.0);
    // A run an earlier harness started has the one socket its service
    // had (`NAME.notify`), which no build since binds.
    let legacy = project
        .run_dir()
        .join(format!("{}.notify", spec.unit.key()));
    if reattached && !path.exists() && legacy.exists() {
        path = legacy;
    }
    match notify::bind(&path) {
        Ok(sock) => Some(sock),
        Err(e) => {
            tracing::warn!(service = %spec.unit, path = %path.display(), error = %e, "cannot open the notify socket; the service cannot say it is ready");
            None
        }
    }
}

/// The first line matching `re` that the log gets: polled on the start-up
/// cadence (2 ms growing to 10 ms).
async fn first_match(mut log: Cursor, re: &regex::Regex) -> String {
    let mut pause = Duration::from_millis(2);
    loop {
        let lines = log.read_more();
        if let Some(line) = lines.iter().map(|l| l.text()).find(|l| re.is_match(l)) {
            return line.into_owned();
        }
        if !lines.is_empty() {
            pause = Duration::from_millis(2);
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 3 / 2).min(Duration::from_millis(10));
    }
}
