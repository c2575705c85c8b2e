//! `harness adopt`: what the daemon shows of an instance outside harness
//! (`GET /v1/external/NAME`), and making it the service's run
//! (`POST /v1/adopt`). The engine decides what an adoption is
//! ([`Engine::may_adopt`](harness_core::engine::Engine::may_adopt)); the
//! core says which processes are never touched
//! ([`untouchable`](harness_core::external::untouchable)); this looks
//! again, checks the process is the one the person was shown, and
//! watches it.

use super::Supervisor;
use crate::adopted_output::AdoptedProcess;
use harness_api::{Adopted, ApiError, ApiErrorKind, ExternalInstance, ExternalRequest, Replaced};
use harness_core::engine::{Input, RunId, ServiceId};
use harness_core::external::{Evidence, External};
use harness_store::{RunRecord, Write};

impl Supervisor {
    /// The instance of service `name` outside harness, as a look made now
    /// finds it.
    pub(super) fn external_instance(&mut self, name: &str) -> Result<ExternalInstance, ApiError> {
        let i = self
            .engine
            .resolve(&[name.to_string()])
            .map_err(|e| ApiError::new(ApiErrorKind::Usage, e.to_string()))?[0];
        self.look_outside();
        let Some(found) = self.outside.get(name) else {
            let why = match self.engine.phase(i).run() {
                Some(_) => format!("harness runs {name} itself: there is nothing to adopt"),
                None => format!(
                    "no instance of {name} was found outside harness (nothing of it listens \
                     on its ports, and no attach: rule matches a process)"
                ),
            };
            return Err(ApiError::new(ApiErrorKind::Usage, why));
        };
        let healthy = self.engine.external(i).is_some_and(|e| e.healthy);
        let mut shown = shown(name, found, healthy);
        if let Some(pid) = shown.pid {
            shown.ports.extend(crate::external_scan::ports_held_by(pid));
            shown.ports.sort_unstable();
            shown.ports.dedup();
        }
        Ok(shown)
    }

    /// [`Self::external_instance`] for a person to decide on: answered
    /// once its readiness check has been run again now, so what they are
    /// shown of its health is what it is, never an answer not yet come.
    pub(super) fn show_external(
        &mut self,
        name: &str,
        reply: tokio::sync::oneshot::Sender<Result<ExternalInstance, ApiError>>,
    ) {
        let shown = match self.external_instance(name) {
            Ok(shown) => shown,
            Err(e) => {
                let _ = reply.send(Err(e));
                return;
            }
        };
        let i = self.engine.graph().index(name).unwrap_or_default();
        let Some(check) = self.engine.external_check(i) else {
            let _ = reply.send(Ok(shown));
            return;
        };
        let (project, tx) = (self.project.clone(), self.tx.clone());
        tokio::spawn(async move {
            let healthy = crate::probe::run(&project, &check).await.ok;
            let _ = tx.send(super::Msg::ExternalChecked {
                service: shown.service.clone(),
                pid: shown.pid,
                healthy,
            });
            let _ = reply.send(Ok(ExternalInstance { healthy, ..shown }));
        });
    }

    /// The instance `req` names, if it is still the one a look finds now
    /// and harness may touch it.
    fn the_instance(&mut self, req: &ExternalRequest) -> Result<ExternalInstance, ApiError> {
        self.not_deploying()?;
        let shown = self.external_instance(&req.service)?;
        if shown.pid != Some(req.pid) || shown.start_time != Some(req.start_time) {
            let now = match shown.pid {
                Some(pid) => format!(" (it is PID {pid} now)"),
                None => String::new(),
            };
            return Err(ApiError::new(
                ApiErrorKind::Changed,
                format!(
                    "process {} is no longer the instance of {} outside harness{now}; \
                     nothing was adopted",
                    req.pid, req.service
                ),
            ));
        }
        if let Some(why) = &shown.refused {
            return Err(ApiError::new(ApiErrorKind::Refused, why.clone()));
        }
        Ok(shown)
    }

    /// Adopts the instance `req` names (see [`Self::the_instance`]).
    pub(super) fn adopt(&mut self, req: ExternalRequest) -> Result<Adopted, ApiError> {
        self.the_instance(&req)?;
        let i = self.engine.graph().index(&req.service).unwrap_or_default();
        self.engine
            .may_adopt(i, req.pid, req.start_time)
            .map_err(|e| ApiError::new(ApiErrorKind::Changed, e))?;
        tracing::info!(service = %req.service, pid = req.pid, "adopted: harness manages it now");
        self.feed(Input::Adopt {
            service: ServiceId(i),
            pid: req.pid,
            start_time: req.start_time,
        });
        Ok(Adopted {
            service: req.service,
            pid: req.pid,
        })
    }

    /// Stops the instance `req` names (see [`Self::the_instance`]) as its
    /// service would be stopped (its stop signal, `stop_timeout`, then
    /// SIGKILL), and answers once it has ended and its ports are free, so
    /// that a start after it runs harness's own. One that outlives SIGKILL
    /// is refused; nothing else is touched either way.
    pub(super) fn replace(
        &mut self,
        req: ExternalRequest,
        reply: tokio::sync::oneshot::Sender<Result<Replaced, ApiError>>,
    ) {
        let shown = match self.the_instance(&req) {
            Ok(shown) => shown,
            Err(e) => {
                let _ = reply.send(Err(e));
                return;
            }
        };
        let svc = &self.engine.config().services
            [self.engine.graph().index(&req.service).unwrap_or_default()];
        let (signal, grace) = (svc.stop_signal, svc.stop_timeout);
        tracing::info!(service = %req.service, pid = req.pid, "replacing the instance outside harness: stopping it");
        tokio::spawn(async move {
            let answer =
                crate::process::stop_outside(req.pid, req.start_time, signal, grace, &shown.ports)
                    .await
                    .map(|ended_by| Replaced {
                        service: req.service.clone(),
                        pid: req.pid,
                        ended_by,
                    })
                    .map_err(|why| ApiError::new(ApiErrorKind::Refused, why));
            match &answer {
                Ok(r) => {
                    tracing::info!(service = %r.service, pid = r.pid, ended_by = %r.ended_by, "the instance outside harness ended")
                }
                Err(e) => {
                    tracing::warn!(service = %req.service, pid = req.pid, error = %e.error, "the instance outside harness was not stopped")
                }
            }
            let _ = reply.send(answer);
        });
    }

    /// Records adopted process `pid` as run `run`, so that a new daemon
    /// takes it over, and watches it until it ends.
    pub(super) fn watch_adopted(&mut self, service: ServiceId, run: RunId, pid: u32, start: u64) {
        self.store.send(Write::ReserveRuns { up_to: run.0 + 1 });
        let name = self.engine.graph().name(service.index()).to_string();
        // No shim: the process watched is the service itself.
        let record = RunRecord {
            unit: harness_core::engine::UnitId::Service(name.clone()),
            run,
            shim_pid: pid,
            shim_start: start,
            pid,
            pid_start: start,
            started_at_ms: started_at_ms(start).unwrap_or_else(super::wall_ms),
            definition: None,
            adopted: true,
        };
        self.store.send(Write::Run(record.clone()));
        self.adopted.insert(
            run,
            AdoptedProcess {
                service: name.clone(),
                pid,
                start,
            },
        );
        self.mark_log(
            &name,
            &format!(
                "adopted (PID {pid}): started outside harness, its output is not captured here"
            ),
        );
        self.watch_shim(service, run, None, &record);
    }
}

/// What `harness adopt` shows of `found`.
fn shown(name: &str, found: &External, healthy: bool) -> ExternalInstance {
    let p = found.process.as_ref();
    let my_uid = nix::unistd::getuid().as_raw();
    ExternalInstance {
        service: name.to_string(),
        pid: p.map(|p| p.pid),
        start_time: p.map(|p| p.start_time),
        started_at_ms: p.and_then(|p| started_at_ms(p.start_time)),
        command: p.map(|p| p.argv.clone()).unwrap_or_default(),
        user: found.uid.map(user_name),
        ports: found.ports.clone(),
        evidence: match &found.evidence {
            Evidence::Port(port) => format!("port {port}"),
            Evidence::ProcessName(n) => format!("process name {n}"),
            Evidence::Pidfile(path) => format!("pidfile {}", path.display()),
        },
        healthy,
        refused: match p {
            Some(p) => harness_core::external::untouchable(p, my_uid),
            None => Some(format!(
                "the process behind {name} could not be named (another user's, or on another \
                 host): harness cannot adopt or stop it"
            )),
        },
    }
}

/// A process's start, ms since the Unix epoch, from its start time in
/// clock ticks since boot.
fn started_at_ms(ticks: u64) -> Option<i64> {
    let boot_s = procfs::boot_time_secs().ok()?;
    let tps = procfs::ticks_per_second().max(1);
    Some((boot_s * 1000 + ticks * 1000 / tps) as i64)
}

/// The name of user `uid`, or the uid when it has none.
fn user_name(uid: u32) -> String {
    match nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid)) {
        Ok(Some(user)) => user.name,
        _ => uid.to_string(),
    }
}
