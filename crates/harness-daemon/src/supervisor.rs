//! The supervisor task: the only owner of the engine. It turns requests and
//! facts into [`Input`]s, steps the engine, and carries out the actions.

use crate::metrics;
use crate::notify;
use crate::probe;
use crate::process::{self, ProcessGroup};
use crate::store_writer::StoreWriter;
use crate::wire;
use harness_api::{
    ApiError, ApiErrorKind, CHOICE_SUBJECT, Choice, HealthResult, OpEvent, Plan, PlanRequest,
    StartRequest, StopRequest,
};
use harness_core::config::{Config, Ready};
use harness_core::engine::{
    Action, Engine, HealthEvent, HistoryState, Input, Notified, OpId, Outcome, ProbeKind,
    ProcessEnd, RunId, Severity, StartOptions, StopOptions,
};
use harness_core::report::{Health, StatusView};
use harness_store::{HistoryRow, Project, RunRecord, Store, Write};
use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::AbortHandle;

/// Buffer of each client's event channel; a client this far behind is cut
/// off rather than allowed to slow the supervisor.
const CLIENT_BUFFER: usize = 4096;

/// The answer to a start or stop: its id and its event stream.
pub type OpReply = oneshot::Sender<Result<(OpId, mpsc::Receiver<OpEvent>), ApiError>>;

/// Messages to the supervisor.
pub enum Msg {
    /// `POST /v1/start`.
    Start(StartRequest, OpReply),
    /// `POST /v1/stop`.
    Stop(StopRequest, OpReply),
    /// The client of an operation went away.
    Cancel(OpId),
    /// `POST /v1/plan`.
    Plan(PlanRequest, oneshot::Sender<Result<Plan, ApiError>>),
    /// `POST /v1/choice`.
    Choice(Choice),
    /// `GET /v1/status`.
    Status(oneshot::Sender<StatusView>),
    /// `GET /metrics`.
    Metrics(oneshot::Sender<String>),
    /// A probe answered, and how long it took.
    Probed(Input, String, ProbeKind, Duration),
    /// `POST /v1/health`.
    Health(
        Vec<String>,
        oneshot::Sender<Result<Vec<HealthResult>, ApiError>>,
    ),
    /// A fact from a process, probe or timer task.
    Fact(Input),
    /// Stop supervising (services keep running).
    Shutdown,
}

/// A cheap, clonable way to talk to the supervisor.
#[derive(Clone)]
pub struct Handle {
    tx: mpsc::UnboundedSender<Msg>,
    shutdown: watch::Sender<bool>,
    /// The project served.
    pub project: Project,
    /// `settings.listen`: a TCP address for the read-only routes.
    pub listen: Option<String>,
}

impl Handle {
    /// Sends a message; false if the supervisor is gone.
    pub fn send(&self, msg: Msg) -> bool {
        self.tx.send(msg).is_ok()
    }

    /// Asks the daemon to exit, leaving services running.
    pub fn shutdown(&self) {
        let _ = self.shutdown.send(true);
        let _ = self.tx.send(Msg::Shutdown);
    }

    /// Resolves once shutdown has been asked for.
    pub fn shutdown_requested(&self) -> impl std::future::Future<Output = ()> + use<> {
        let mut rx = self.shutdown.subscribe();
        async move {
            let _ = rx.wait_for(|v| *v).await;
        }
    }
}

/// The supervisor's state.
pub struct Supervisor {
    project: Project,
    engine: Engine,
    rx: mpsc::UnboundedReceiver<Msg>,
    tx: mpsc::UnboundedSender<Msg>,
    store: StoreWriter,
    clients: HashMap<OpId, mpsc::Sender<OpEvent>>,
    stops: HashMap<(usize, RunId), AbortHandle>,
    next_op: OpId,
    /// Each service's outcome as last written to the store.
    saved: HashMap<String, Outcome>,
    /// Last probe latencies, for `/metrics`.
    latencies: metrics::Latencies,
    /// The spare shim new runs start under.
    shims: process::ShimPool,
}

/// Whether a log line is one the daemon put there (and not the service's
/// own output).
pub(crate) fn is_restart_mark(line: &str) -> bool {
    line.strip_prefix("[harness] ")
        .is_some_and(HealthEvent::is_line)
}

fn wall_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

impl Supervisor {
    /// Opens the store, re-attaches to the runs it records, and returns the
    /// handle and the supervisor ready to [`Supervisor::run`].
    pub fn boot(project: Project, config: Config) -> anyhow::Result<(Handle, Supervisor)> {
        let store = Store::open(&project.database())?;
        let runs = store.runs()?;
        let saved: HashMap<String, Outcome> = store.outcomes()?.into_iter().collect();
        let first_run = store.reserve_runs(1)?;
        let (tx, rx) = mpsc::unbounded_channel();
        let (shutdown, _) = watch::channel(false);
        let handle = Handle {
            tx: tx.clone(),
            shutdown,
            project: project.clone(),
            listen: config.settings.listen.clone(),
        };
        let mut engine = Engine::new(config, first_run);
        for (name, outcome) in &saved {
            if let Some(i) = engine.graph().index(name) {
                engine.restore(i, outcome.clone(), Instant::now());
            }
        }
        for (name, state) in store.last_states()? {
            if let (Some(i), Some(state)) =
                (engine.graph().index(&name), HistoryState::parse(&state))
            {
                engine.restore_recorded(i, state);
            }
        }
        let mut sup = Supervisor {
            engine,
            store: StoreWriter::spawn(store),
            project,
            rx,
            tx,
            clients: HashMap::new(),
            stops: HashMap::new(),
            next_op: 1,
            saved,
            latencies: metrics::Latencies::new(),
            shims: process::ShimPool::default(),
        };
        for record in runs {
            sup.reattach(record);
        }
        Ok((handle, sup))
    }

    fn reattach(&mut self, r: RunRecord) {
        let Some(service) = self.engine.graph().index(&r.service) else {
            tracing::warn!(service = %r.service, pid = r.pid, "a recorded run belongs to a service no longer in the config; leaving it alone");
            return;
        };
        let age = Duration::from_millis((wall_ms() - r.started_at_ms).max(0) as u64);
        let since = Instant::now().checked_sub(age).unwrap_or_else(Instant::now);
        // Not wanted up with a live run: the last daemon died while
        // stopping it. Finish that stop rather than supervise it again.
        let wanted = self.saved.get(&r.service).is_none_or(|o| o.wanted);
        self.feed(Input::Attached {
            service,
            run: r.run,
            pid: r.pid,
            since,
            wanted,
        });
        if process::same_process(r.shim_pid, r.shim_start) {
            tracing::info!(service = %r.service, pid = r.pid, shim = r.shim_pid, "re-attached to running service");
            self.watch_shim(service, r.run, r.shim_pid, r.pid, r.pid_start);
            if !wanted {
                let op = self.next_op;
                self.next_op += 1;
                self.feed(Input::Stop {
                    op,
                    targets: vec![service],
                    options: StopOptions {
                        exact: true,
                        cause: Some("finishing a stop the previous daemon began".into()),
                    },
                });
            }
            return;
        }
        let end = match process::read_exit(&self.project.exit_file(&r.service), r.run) {
            Some(end) => end,
            None => {
                if process::same_process(r.pid, r.pid_start) {
                    tracing::warn!(service = %r.service, pid = r.pid, "shim is gone but the service runs; killing its group so it never runs twice");
                    ProcessGroup(r.pid).signal(libc::SIGKILL);
                }
                ProcessEnd::Lost
            }
        };
        tracing::info!(service = %r.service, end = %end.describe(), "service ended while no daemon ran");
        self.store.send(Write::RunEnded {
            service: r.service,
            run: r.run,
        });
        self.feed(Input::Exited {
            service,
            run: r.run,
            end,
        });
    }

    /// Runs until shutdown.
    pub async fn run(mut self) {
        self.shims.refill();
        loop {
            let deadline = self.engine.next_deadline();
            let msg = tokio::select! {
                m = self.rx.recv() => match m { Some(m) => m, None => break },
                _ = sleep_until(deadline) => Msg::Fact(Input::Tick),
            };
            match msg {
                Msg::Start(req, reply) => {
                    let result = self.start(req);
                    let _ = reply.send(result);
                }
                Msg::Stop(req, reply) => {
                    let result = self.stop(req);
                    let _ = reply.send(result);
                }
                Msg::Cancel(op) => {
                    self.clients.remove(&op);
                    self.feed(Input::Cancel { op });
                }
                Msg::Plan(req, reply) => {
                    let _ = reply.send(self.plan(req));
                }
                Msg::Choice(c) => {
                    tracing::info!(prompt = %c.prompt, answer = %c.answer, detail = %c.detail, "choice at a prompt");
                    self.store.send(Write::History(HistoryRow {
                        ts_ms: wall_ms(),
                        service: CHOICE_SUBJECT.into(),
                        from: c.prompt,
                        to: c.answer,
                        reason: c.detail,
                        cause: None,
                    }));
                }
                Msg::Status(reply) => {
                    let _ = reply.send(self.engine.report(Instant::now()));
                }
                Msg::Metrics(reply) => {
                    let report = self.engine.report(Instant::now());
                    let _ = reply.send(metrics::render(&report, &self.latencies));
                }
                Msg::Probed(input, name, kind, took) => {
                    self.latencies.insert((name, kind), took);
                    self.feed(input);
                }
                Msg::Health(names, reply) => self.health(names, reply),
                Msg::Fact(input) => {
                    if let Input::Exited { service, run, .. } = &input
                        && let Some(h) = self.stops.remove(&(*service, *run))
                    {
                        h.abort();
                    }
                    self.feed(input);
                }
                Msg::Shutdown => break,
            }
        }
    }

    fn resolve(&self, names: &[String], all: bool) -> Result<Vec<usize>, ApiError> {
        resolve(&self.engine, names, all)
    }

    /// The engine with the config as it is on disk: a start reloads it
    /// when the file changed (refused while an operation runs).
    fn reload(&mut self) -> Result<(), ApiError> {
        if self.engine.busy() {
            return Ok(());
        }
        let config = self.project.load().map_err(|e| ApiError {
            error: e.to_string(),
            kind: ApiErrorKind::Config,
        })?;
        if &config != self.engine.config() {
            self.engine.reload(config).map_err(|e| ApiError {
                error: e,
                kind: ApiErrorKind::Usage,
            })?;
        }
        Ok(())
    }

    fn start(&mut self, req: StartRequest) -> Result<(OpId, mpsc::Receiver<OpEvent>), ApiError> {
        self.reload()?;
        let (targets, options) = start_targets(&self.engine, &req)?;
        let (op, rx) = self.open_client();
        self.feed(Input::Start {
            op,
            targets,
            options,
        });
        Ok((op, rx))
    }

    /// What a start would do; changes nothing (a changed config is planned
    /// on a copy of the engine).
    fn plan(&self, req: PlanRequest) -> Result<Plan, ApiError> {
        let config = self.project.load().map_err(|e| ApiError {
            error: e.to_string(),
            kind: ApiErrorKind::Config,
        })?;
        let mut copy;
        let engine = if &config != self.engine.config() && !self.engine.busy() {
            copy = self.engine.clone();
            copy.reload(config).map_err(|e| ApiError {
                error: e,
                kind: ApiErrorKind::Usage,
            })?;
            &copy
        } else {
            &self.engine
        };
        let (targets, options) = start_targets(engine, &req.start)?;
        Ok(wire::plan(engine.plan(
            &targets,
            &options,
            req.restart,
            Instant::now(),
        )))
    }

    fn stop(&mut self, req: StopRequest) -> Result<(OpId, mpsc::Receiver<OpEvent>), ApiError> {
        let targets = self.resolve(&req.services, req.all)?;
        let (op, rx) = self.open_client();
        self.feed(Input::Stop {
            op,
            targets,
            options: StopOptions {
                exact: req.exact,
                cause: req.cause,
            },
        });
        Ok((op, rx))
    }

    fn open_client(&mut self) -> (OpId, mpsc::Receiver<OpEvent>) {
        let op = self.next_op;
        self.next_op += 1;
        let (tx, rx) = mpsc::channel(CLIENT_BUFFER);
        self.clients.insert(op, tx);
        (op, rx)
    }

    fn health(
        &self,
        names: Vec<String>,
        reply: oneshot::Sender<Result<Vec<HealthResult>, ApiError>>,
    ) {
        let targets = match self.resolve(&names, names.is_empty()) {
            Ok(t) => t,
            Err(e) => {
                let _ = reply.send(Err(e));
                return;
            }
        };
        let report = self.engine.report(Instant::now());
        let project = self.project.clone();
        let jobs: Vec<_> = targets
            .into_iter()
            .map(|i| {
                (
                    self.engine.config().services[i].clone(),
                    report.services[i].pid.is_some(),
                )
            })
            .collect();
        tokio::spawn(async move {
            let checks = jobs.into_iter().map(|(svc, running)| {
                let project = project.clone();
                async move {
                    let (healthy, detail, took) = match (&svc.health_check, running) {
                        (_, false) => (false, "not running".to_string(), Duration::ZERO),
                        (None, true) => (
                            true,
                            "running (no health check)".to_string(),
                            Duration::ZERO,
                        ),
                        (Some(check), true) => {
                            let o = probe::run(&project, &svc, check).await;
                            (o.ok, o.detail, o.took)
                        }
                    };
                    HealthResult {
                        service: svc.name.clone(),
                        healthy,
                        detail,
                        took_ms: took.as_millis() as u64,
                    }
                }
            });
            let _ = reply.send(Ok(futures_util::future::join_all(checks).await));
        });
    }

    fn feed(&mut self, input: Input) {
        let actions = self.engine.step(input, Instant::now());
        for action in actions {
            self.execute(action);
        }
        self.save_outcomes();
    }

    /// Writes the outcomes that changed, so a new daemon knows them.
    fn save_outcomes(&mut self) {
        for i in 0..self.engine.graph().len() {
            let name = self.engine.graph().name(i);
            // Compared in place: this runs after every step (each probe).
            if self
                .saved
                .get(name)
                .is_some_and(|saved| self.engine.outcome_is(i, saved))
            {
                continue;
            }
            let outcome = self.engine.outcome(i);
            self.saved.insert(name.to_string(), outcome.clone());
            self.store.send(Write::Outcome {
                service: name.to_string(),
                outcome,
            });
        }
    }

    fn execute(&mut self, action: Action) {
        match action {
            Action::Spawn { service, run } => {
                self.store.send(Write::ReserveRuns { up_to: run + 1 });
                self.spawn(service, run);
            }
            Action::Stop {
                service,
                run,
                pid,
                signal,
                grace,
            } => {
                let task = tokio::spawn(process::stop_group(ProcessGroup(pid), signal, grace));
                self.stops.insert((service, run), task.abort_handle());
            }
            Action::Probe {
                service,
                run,
                kind,
                at,
            } => {
                let svc = &self.engine.config().services[service];
                let check = match kind {
                    ProbeKind::Ready => &svc.health_check,
                    ProbeKind::Live => &svc.liveness,
                    ProbeKind::Startup => &svc.startup,
                };
                let Some(check) = check.clone() else {
                    return;
                };
                let svc = svc.clone();
                let (project, tx) = (self.project.clone(), self.tx.clone());
                tokio::spawn(async move {
                    tokio::time::sleep_until(at.into()).await;
                    let outcome = probe::run(&project, &svc, &check).await;
                    if !outcome.ok && kind == ProbeKind::Live {
                        tracing::warn!(service = %svc.name, detail = %outcome.detail, "Health check failed (liveness)");
                    } else if !outcome.ok {
                        tracing::debug!(service = %svc.name, ?kind, detail = %outcome.detail, "health check failed");
                    }
                    let input = Input::Probed {
                        service,
                        run,
                        kind,
                        ok: outcome.ok,
                    };
                    let _ = tx.send(Msg::Probed(input, svc.name.clone(), kind, outcome.took));
                });
            }
            Action::Transition {
                service,
                from,
                to,
                reason,
                cause,
            } => {
                let name = self.engine.graph().name(service).to_string();
                tracing::info!(service = %name, %from, %to, reason = %reason, "transition");
                self.store.send(Write::History(HistoryRow {
                    ts_ms: wall_ms(),
                    service: name,
                    from: from.as_str().into(),
                    to: to.as_str().into(),
                    reason,
                    cause,
                }));
            }
            Action::Health { service, event } => {
                let name = self.engine.graph().name(service).to_string();
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
            Action::Done { op, summary } => {
                self.tell(op, OpEvent::Done(wire::summary(summary)));
                self.clients.remove(&op);
            }
        }
    }

    /// Puts a `[harness] …` line (see [`is_restart_mark`]) among the
    /// service's own output, so that `harness logs` shows where a run ended
    /// and the next began. One append of a whole line: it never splits a
    /// line the shim writes. Written here rather than on the store thread
    /// so that a mark always precedes the output of the run it announces;
    /// it happens only on health events, never on a probe or a plain start.
    fn mark_log(&self, service: &str, line: &str) {
        use std::io::Write as _;
        let path = self.project.log(service);
        let written = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .and_then(|mut f| f.write_all(format!("[harness] {line}\n").as_bytes()));
        if let Err(e) = written {
            tracing::warn!(service, path = %path.display(), error = %e, "cannot write to the service's log");
        }
    }

    fn tell(&mut self, op: OpId, event: OpEvent) {
        if let Some(client) = self.clients.get(&op)
            && client.try_send(event).is_err()
        {
            tracing::warn!(op, "client too slow or gone; dropping it");
            self.clients.remove(&op);
        }
    }

    fn spawn(&mut self, service: usize, run: RunId) {
        let svc = self.engine.config().services[service].clone();
        let (project, tx, store) = (self.project.clone(), self.tx.clone(), self.store.clone());
        let shims = self.shims.clone();
        tokio::spawn(async move {
            // Output starts with the spawn: remember where this run's begins.
            let log = project.log(&svc.name);
            let offset = std::fs::metadata(&log).map(|m| m.len()).unwrap_or(0);
            // The notify socket exists before the service can write to it.
            let notify_sock = notify_socket(&project, &svc);
            match process::spawn(&shims, &project, &svc, run).await {
                Ok(s) => {
                    tracing::info!(service = %svc.name, pid = s.pid, run, "spawned");
                    store.send(Write::Run(RunRecord {
                        service: svc.name.clone(),
                        run,
                        shim_pid: s.shim_pid,
                        shim_start: s.shim_start,
                        pid: s.pid,
                        pid_start: s.pid_start,
                        started_at_ms: wall_ms(),
                    }));
                    let _ = tx.send(Msg::Fact(Input::Spawned {
                        service,
                        run,
                        pid: s.pid,
                    }));
                    let exit = watch_until_exit(
                        &project,
                        &svc.name,
                        service,
                        run,
                        s.shim_pid,
                        s.pid,
                        s.pid_start,
                        &tx,
                        &store,
                    );
                    tokio::pin!(exit);
                    if let Some(sock) = notify_sock {
                        tokio::select! {
                            _ = &mut exit => {}
                            _ = notify::forward(sock, service, run, tx.clone()) => exit.await,
                        }
                        return;
                    }
                    if let Some(Ready::Log(pattern)) = &svc.ready
                        && let Ok(re) = regex::Regex::new(pattern)
                    {
                        tokio::select! {
                            _ = &mut exit => return,
                            line = first_match(&log, offset, &re) => {
                                let _ = tx.send(Msg::Fact(Input::Notified {
                                    service,
                                    run,
                                    message: Notified::Ready(format!("log: {line}")),
                                }));
                            }
                        }
                    }
                    exit.await;
                }
                Err(reason) => {
                    tracing::warn!(service = %svc.name, reason = %reason, "spawn failed");
                    let _ = tx.send(Msg::Fact(Input::SpawnFailed {
                        service,
                        run,
                        reason,
                    }));
                }
            }
        });
    }

    fn watch_shim(&self, service: usize, run: RunId, shim_pid: u32, pid: u32, pid_start: u64) {
        let svc = self.engine.config().services[service].clone();
        let (project, tx, store) = (self.project.clone(), self.tx.clone(), self.store.clone());
        tokio::spawn(async move {
            let name = &svc.name;
            let exit = watch_until_exit(
                &project, name, service, run, shim_pid, pid, pid_start, &tx, &store,
            );
            // A re-attached service keeps its NOTIFY_SOCKET path: bind it
            // again so its WATCHDOG=1 and STATUS= still arrive.
            match notify_socket(&project, &svc) {
                Some(sock) => {
                    tokio::pin!(exit);
                    tokio::select! {
                        _ = &mut exit => {}
                        _ = notify::forward(sock, service, run, tx.clone()) => exit.await,
                    }
                }
                None => exit.await,
            }
        });
    }
}

/// Service indices for names (all of them for `all` or no names).
fn resolve(engine: &Engine, names: &[String], all: bool) -> Result<Vec<usize>, ApiError> {
    if all || names.is_empty() {
        return Ok((0..engine.graph().len()).collect());
    }
    names
        .iter()
        .map(|n| {
            engine.graph().index(n).ok_or_else(|| ApiError {
                error: format!(
                    "unknown service `{n}`; services are: {}",
                    engine.config().names().collect::<Vec<_>>().join(", ")
                ),
                kind: ApiErrorKind::Usage,
            })
        })
        .collect()
}

/// The targets and options of a start request. `failed` and `blocked`
/// pick the services whose last start ended that way.
fn start_targets(
    engine: &Engine,
    req: &StartRequest,
) -> Result<(Vec<usize>, StartOptions), ApiError> {
    let picked = |health: Health| -> Vec<usize> {
        let report = engine.report(Instant::now());
        (0..report.services.len())
            .filter(|&i| report.services[i].health == health)
            .collect()
    };
    let targets = match (req.failed, req.blocked) {
        (true, true) => {
            return Err(ApiError {
                error: "`failed` and `blocked` cannot be combined".into(),
                kind: ApiErrorKind::Usage,
            });
        }
        (true, false) => picked(Health::Failed),
        (false, true) => {
            // Named: those of them that are blocked (a prompt's Force
            // continue names the blocked services of its own start).
            let blocked = picked(Health::Blocked);
            if req.services.is_empty() {
                blocked
            } else {
                resolve(engine, &req.services, false)?
                    .into_iter()
                    .filter(|i| blocked.contains(i))
                    .collect()
            }
        }
        (false, false) => resolve(engine, &req.services, req.all)?,
    };
    let options = StartOptions {
        timeout: req.timeout_secs.map(Duration::from_secs_f64),
        force: req.force,
        no_wait: req.no_wait,
        no_deps: req.blocked,
        cause: req.cause.clone(),
    };
    Ok((targets, options))
}

#[expect(
    clippy::too_many_arguments,
    reason = "one call site each; a struct would only rename these"
)]
async fn watch_until_exit(
    project: &Project,
    name: &str,
    service: usize,
    run: RunId,
    shim_pid: u32,
    pid: u32,
    pid_start: u64,
    tx: &mpsc::UnboundedSender<Msg>,
    store: &StoreWriter,
) {
    process::wait_exit(shim_pid).await;
    let end = process::read_exit(&project.exit_file(name), run).unwrap_or_else(|| {
        if process::same_process(pid, pid_start) {
            tracing::warn!(service = %name, pid, "shim died without recording an exit; killing the service group");
            ProcessGroup(pid).signal(libc::SIGKILL);
        }
        ProcessEnd::Lost
    });
    tracing::info!(service = %name, pid, end = %end.describe(), "service ended");
    store.send(Write::RunEnded {
        service: name.to_string(),
        run,
    });
    let _ = tx.send(Msg::Fact(Input::Exited { service, run, end }));
}

/// The bound notify socket of a `ready: notify` service.
fn notify_socket(
    project: &Project,
    svc: &harness_core::config::Service,
) -> Option<tokio::net::UnixDatagram> {
    if svc.ready != Some(Ready::Notify) {
        return None;
    }
    let path = project.notify_socket(&svc.name);
    match notify::bind(&path) {
        Ok(sock) => Some(sock),
        Err(e) => {
            tracing::warn!(service = %svc.name, path = %path.display(), error = %e, "cannot open the notify socket; the service cannot say it is ready");
            None
        }
    }
}

/// The first line matching `re` written to `log` after `offset`: polled
/// on the start-up cadence (2 ms growing to 10 ms), following a rotation.
async fn first_match(log: &std::path::Path, mut offset: u64, re: &regex::Regex) -> String {
    use std::io::{Read, Seek, SeekFrom};
    let mut pending = String::new();
    let mut pause = Duration::from_millis(2);
    loop {
        if let Ok(mut f) = std::fs::File::open(log) {
            let len = f.metadata().map(|m| m.len()).unwrap_or(0);
            if len < offset {
                offset = 0; // rotated: the new file holds what follows
            }
            let mut chunk = Vec::new();
            if len > offset
                && f.seek(SeekFrom::Start(offset)).is_ok()
                && f.read_to_end(&mut chunk).is_ok()
            {
                offset += chunk.len() as u64;
                pending.push_str(&String::from_utf8_lossy(&chunk));
                while let Some(end) = pending.find('\n') {
                    let line: String = pending.drain(..=end).collect();
                    let line = line.trim_end();
                    if re.is_match(line) {
                        return line.to_string();
                    }
                }
                pause = Duration::from_millis(2);
            }
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 3 / 2).min(Duration::from_millis(10));
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d.into()).await,
        None => std::future::pending().await,
    }
}
