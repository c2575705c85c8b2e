//! Processes: spawning a service under its shim, learning of its end from
//! the kernel (pidfd), and stopping its process group.

use harness_core::config::{Command, StopSignal};
use harness_core::engine::{ProcessEnd, RunId, RunSpec};
use harness_store::Project;
use std::ffi::OsString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::io::unix::AsyncFd;
use tokio::io::{AsyncBufReadExt, BufReader};

/// A process group, addressed by its leader's pid. Signals go to `-pgid`,
/// so grandchildren are reached too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcessGroup(pub u32);

impl ProcessGroup {
    /// Sends `sig` to every member. False when none is left.
    pub fn signal(self, sig: i32) -> bool {
        // SAFETY: kill with a negative pid targets the process group.
        unsafe { libc::kill(-(self.0 as i32), sig) == 0 }
    }

    /// Whether any member is left.
    pub fn alive(self) -> bool {
        self.signal(0)
    }
}

/// The number of a stop signal.
pub fn signal_number(s: StopSignal) -> i32 {
    match s {
        StopSignal::Term => libc::SIGTERM,
        StopSignal::Int => libc::SIGINT,
        StopSignal::Quit => libc::SIGQUIT,
        StopSignal::Hup => libc::SIGHUP,
        StopSignal::Kill => libc::SIGKILL,
        StopSignal::Usr1 => libc::SIGUSR1,
        StopSignal::Usr2 => libc::SIGUSR2,
    }
}

pub use harness_store::{same_process, start_time};

/// What a spawn produced.
#[derive(Debug, Clone, Copy)]
pub struct Spawned {
    /// The service's main pid (= its process group).
    pub pid: u32,
    /// Its start time.
    pub pid_start: u64,
    /// The shim's pid.
    pub shim_pid: u32,
    /// The shim's start time.
    pub shim_start: u64,
}

impl Spawned {
    /// The record of run `run` of `unit` it started (now), kept so that a
    /// new daemon re-attaches to it.
    pub fn record(
        &self,
        unit: &harness_core::engine::UnitId,
        run: RunId,
        started_at_ms: i64,
        definition: Option<harness_core::engine::Definition>,
    ) -> harness_store::RunRecord {
        harness_store::RunRecord {
            unit: unit.clone(),
            run,
            shim_pid: self.shim_pid,
            shim_start: self.shim_start,
            pid: self.pid,
            pid_start: self.pid_start,
            started_at_ms,
            definition,
            adopted: false,
        }
    }
}

/// Finds `harness-shim` beside the running executable (or on `PATH`).
pub fn shim_path() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|d| d.join("harness-shim")))
        .filter(|p| p.is_file())
        .unwrap_or_else(|| PathBuf::from("harness-shim"))
}

/// A shim that has been started and waits for its job on stdin.
struct Shim {
    child: tokio::process::Child,
    pid: u32,
    start: u64,
}

impl Shim {
    fn start() -> Result<Shim, String> {
        Shim::start_with(None)
    }

    /// A shim with `listen` (a service's socket) as its fd 3, which it and
    /// the service inherit.
    fn start_with(listen: Option<&OwnedFd>) -> Result<Shim, String> {
        let mut cmd = tokio::process::Command::new(shim_path());
        // The shim's own stderr is the daemon's (`daemon.log`): what it
        // has to say (the log's disk full, and room again) lands there.
        cmd.stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::inherit())
            .kill_on_drop(false);
        // SAFETY: `restore` is async-signal-safe.
        unsafe { cmd.pre_exec(crate::fd_limit::restore) };
        if let Some(fd) = listen {
            let raw = fd.as_raw_fd();
            // SAFETY: between fork and exec only dup2 and fcntl run, both
            // async-signal-safe; `fd` outlives the spawn.
            unsafe {
                cmd.pre_exec(move || {
                    // dup2 clears close-on-exec on fd 3; when the socket is
                    // fd 3 already, clear it by hand.
                    let ok = if raw == 3 {
                        libc::fcntl(3, libc::F_SETFD, 0)
                    } else {
                        libc::dup2(raw, 3)
                    };
                    if ok < 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    Ok(())
                })
            };
        }
        let child = cmd
            .spawn()
            .map_err(|e| format!("cannot run harness-shim: {e}"))?;
        let pid = child.id().ok_or("harness-shim exited at once")?;
        Ok(Shim {
            child,
            pid,
            start: start_time(pid).unwrap_or(0),
        })
    }

    /// Hands the shim its job and waits for it to say whether the
    /// service's exec succeeded. `Err(None)`: the job could not be written
    /// (the shim was gone), so nothing was started. Once the job is written
    /// the shim may have started the service, so any later trouble is an
    /// error, never a reason to hand the job to another shim.
    async fn launch(mut self, job: &[u8]) -> Result<Spawned, Option<String>> {
        use tokio::io::AsyncWriteExt;
        let mut stdin = self.child.stdin.take().ok_or(None)?;
        stdin.write_all(job).await.map_err(|_| None)?;
        drop(stdin);
        let stdout = self
            .child
            .stdout
            .take()
            .ok_or(Some("shim has no stdout".to_string()))?;
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .await
            .map_err(|e| Some(format!("shim: {e}")))?;
        match line.trim().split_once(' ') {
            Some(("started", pid)) => {
                let pid: u32 = pid.parse().map_err(|_| format!("shim said {line:?}"))?;
                Ok(Spawned {
                    pid,
                    pid_start: start_time(pid).unwrap_or(0),
                    shim_pid: self.pid,
                    shim_start: self.start,
                })
            }
            Some(("error", msg)) => Err(Some(msg.to_string())),
            _ if line.is_empty() => Err(Some("harness-shim exited without a word".into())),
            _ => Err(Some(format!(
                "shim ended without starting the service ({:?})",
                line.trim()
            ))),
        }
    }
}

/// Keeps one shim started ahead of need (it has done its exec, its loader
/// and its `setsid`, and blocks reading stdin), so that starting a service
/// costs one process creation — the service's — instead of two. That is
/// most of the time between a dependency's `READY=1` or a crash and the
/// new process. The spare exits by itself when the daemon does (its stdin
/// closes with no job).
#[derive(Clone, Default)]
pub struct ShimPool {
    spare: std::sync::Arc<std::sync::Mutex<Option<Shim>>>,
}

impl ShimPool {
    /// Starts a spare shim unless one is waiting already.
    pub fn refill(&self) {
        let Ok(mut spare) = self.spare.lock() else {
            return;
        };
        if spare.is_none() {
            match Shim::start() {
                Ok(s) => *spare = Some(s),
                Err(e) => tracing::warn!(error = %e, "cannot start a spare shim"),
            }
        }
    }

    fn take(&self) -> Option<Shim> {
        self.spare.lock().ok()?.take()
    }
}

/// Spawns run `run` of `spec` under a shim (the spare one when there is
/// one) and waits for it to say whether the service's exec succeeded.
/// A service with a socket gets a shim of its own, started with the
/// socket as its fd 3 (`listen`); the spare has none.
pub async fn spawn(
    pool: &ShimPool,
    project: &Project,
    spec: &RunSpec,
    run: RunId,
    listen: Option<OwnedFd>,
) -> Result<Spawned, String> {
    let job = job(project, spec, run)?.encode();
    if let Some(fd) = listen {
        let shim = Shim::start_with(Some(&fd))?;
        drop(fd); // the shim has its copy
        return shim
            .launch(&job)
            .await
            .map_err(|e| e.unwrap_or_else(|| "harness-shim exited before it read its job".into()));
    }
    let mut spawned = Err(None);
    if let Some(spare) = pool.take() {
        spawned = spare.launch(&job).await;
    }
    if matches!(spawned, Err(None)) {
        // No spare, or it died while it waited: a new shim takes the job.
        spawned = Shim::start()?.launch(&job).await;
    }
    pool.refill();
    spawned.map_err(|e| e.unwrap_or_else(|| "harness-shim exited before it read its job".into()))
}

/// What the shim is to do for run `run` of `spec`.
fn job(project: &Project, spec: &RunSpec, run: RunId) -> Result<harness_shim::Args, String> {
    let cwd = match &spec.working_dir {
        Some(dir) => project.root.join(dir),
        None => project.root.clone(),
    };
    let mut argv: Vec<OsString> = match &spec.command {
        Command::Shell(s) => vec!["sh".into(), "-c".into(), s.into()],
        Command::Argv(a) => a.iter().map(Into::into).collect(),
    };
    if spec.socket.is_some() {
        // Socket activation: fd 3 is the socket; `LISTEN_PID` is set by the
        // shim itself, in the service's process, before its exec.
        let mut with_pid = vec![shim_path().into(), harness_shim::WITH_LISTEN_PID.into()];
        with_pid.append(&mut argv);
        argv = with_pid;
    }
    let mut env: Vec<(OsString, OsString)> = Vec::new();
    if let Some(file) = &spec.env_file {
        let iter = dotenvy::from_path_iter(project.root.join(file))
            .map_err(|e| format!("env_file: {e}"))?;
        for item in iter {
            let (k, v) = item.map_err(|e| format!("env_file: {e}"))?;
            env.push((k.into(), v.into()));
        }
    }
    env.extend(spec.env.iter().map(|(k, v)| (k.into(), v.into())));
    if spec.socket.is_some() {
        env.push(("LISTEN_FDS".into(), "1".into()));
        env.push(("LISTEN_FDNAMES".into(), spec.unit.key().into()));
    }
    if spec.ready == Some(harness_core::config::Ready::Notify) {
        env.push((
            "NOTIFY_SOCKET".into(),
            project.notify_socket(spec.unit.key(), run.0).into(),
        ));
        if let Some(w) = spec.watchdog {
            env.push(("WATCHDOG_USEC".into(), w.as_micros().to_string().into()));
        }
    }
    Ok(harness_shim::Args {
        run: run.0,
        log: project.run_log(&spec.unit, run.0),
        log_max_bytes: spec.logs.max_size,
        log_keep: spec.logs.keep,
        exit_file: project.exit_file(spec.unit.key(), run.0),
        stop_signal: signal_number(spec.stop_signal),
        stop_timeout_ms: spec.stop_timeout.as_millis() as u64,
        cwd: Some(cwd),
        env,
        argv,
    })
}

/// Resolves when process `pid` has ended, as the kernel reports it.
pub async fn wait_exit(pid: u32) {
    // SAFETY: pidfd_open takes a pid and flags; returns a new fd or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid as libc::pid_t, 0) };
    if fd < 0 {
        return; // already gone
    }
    // SAFETY: the fd was just created for us.
    let fd = unsafe { OwnedFd::from_raw_fd(fd as i32) };
    // SAFETY: the OwnedFd moves into the AsyncFd and stays open, unchanged,
    // for the AsyncFd's whole life.
    match unsafe { AsyncFd::register_with_interest(fd, tokio::io::Interest::READABLE) } {
        Ok(afd) => {
            let _ = afd.readable().await;
        }
        Err(_) => {
            while start_time(pid).is_some() {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }
}

/// Waits for process `pid`, which started at `start` and which harness
/// did not start (it was adopted), to end. A pidfd tells a process that
/// is not the daemon's child at once, with no polling; it is opened
/// before the identity is checked, so a pid reused meanwhile is never
/// watched in its place.
pub async fn wait_adopted(pid: u32, start: u64) {
    // SAFETY: pidfd_open takes a pid and flags; returns a new fd or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid as libc::pid_t, 0) };
    if fd < 0 {
        return; // already gone
    }
    // SAFETY: the fd was just created for us.
    let fd = unsafe { OwnedFd::from_raw_fd(fd as i32) };
    if !same_process(pid, start) {
        return; // the pid is another process's now: it ended
    }
    // SAFETY: as in `wait_exit`.
    match unsafe { AsyncFd::register_with_interest(fd, tokio::io::Interest::READABLE) } {
        Ok(afd) => {
            let _ = afd.readable().await;
        }
        Err(_) => {
            while same_process(pid, start) {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }
}

/// Stops an adopted process: `signal`, then SIGKILL after `grace` if it
/// is still there. To its process group when it leads one (as a daemon
/// that called `setsid` does), else to the process and its descendants:
/// a process harness adopted may share its group with whatever started
/// it (a shell), which harness must not touch. The caller aborts this
/// task once the process has ended.
pub async fn stop_adopted(pid: u32, signal: StopSignal, grace: Duration) {
    // SAFETY: getpgid only reads.
    let leads_group = unsafe { libc::getpgid(pid as libc::pid_t) } == pid as libc::pid_t;
    let send = |sig: i32| {
        if leads_group {
            ProcessGroup(pid).signal(sig);
            return;
        }
        for p in crate::external_scan::tree_of(pid) {
            // SAFETY: kill with a positive pid targets that process.
            unsafe { libc::kill(p as libc::pid_t, sig) };
        }
    };
    send(signal_number(signal));
    tokio::time::sleep(grace).await;
    tracing::warn!(
        pid,
        "stop timeout passed; sending SIGKILL to the adopted process"
    );
    send(libc::SIGKILL);
}

/// Stops process `pid` (started at `start`), which harness did not start
/// and does not run (`harness start --replace`), as [`stop_adopted`]
/// would, and waits for it to end and for `ports` to be free: what it
/// ended by (`SIGTERM`, `SIGKILL after SIGTERM`), or why it is still
/// there.
pub async fn stop_outside(
    pid: u32,
    start: u64,
    signal: StopSignal,
    grace: Duration,
    ports: &[u16],
) -> Result<String, String> {
    let name = signal.name();
    let ended = wait_adopted(pid, start);
    tokio::pin!(ended);
    let how = tokio::select! {
        _ = &mut ended => name.to_string(),
        // Its stop signal, `grace`, then SIGKILL: it had its chance.
        _ = stop_adopted(pid, signal, grace) => {
            match tokio::time::timeout(KILL_WAIT, &mut ended).await {
                Ok(()) => format!("SIGKILL after {name}"),
                Err(_) => return Err(format!(
                    "PID {pid} did not end after {name}, {} and SIGKILL; nothing else was stopped",
                    harness_core::duration::compact(grace.as_secs().max(1))
                )),
            }
        }
    };
    // A socket can outlive its process for a moment (a child that kept
    // it): the port is free once nothing listens on it.
    let deadline = tokio::time::Instant::now() + KILL_WAIT;
    loop {
        let listening: Vec<u16> = crate::sock_diag::listening_tcp()
            .unwrap_or_default()
            .iter()
            .map(|l| l.addr.port())
            .filter(|p| ports.contains(p))
            .collect();
        if listening.is_empty() {
            return Ok(how);
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(format!(
                "PID {pid} ended ({how}), but port {} is still listening; nothing else was stopped",
                listening[0]
            ));
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// How long a process is given to go once SIGKILL was sent, and a port to
/// be let go of once its process ended.
const KILL_WAIT: Duration = Duration::from_secs(5);

/// How run `run` ended, from the shim's exit file, or from its `.tmp`
/// when the shim could write the end but not rename it (a full disk can
/// refuse a rename that must grow the folder); the placeholder there
/// before the end holds no run and is no end.
pub fn read_exit(exit_file: &Path, run: RunId) -> Option<ProcessEnd> {
    let text = std::fs::read_to_string(exit_file)
        .or_else(|_| std::fs::read_to_string(harness_shim::exit_file::tmp_of(exit_file)))
        .ok()?;
    match harness_shim::parse_exit_file(&text)? {
        (r, Ok(code)) if r == run.0 => Some(ProcessEnd::Exited(code)),
        (r, Err(sig)) if r == run.0 => Some(ProcessEnd::Signaled(sig)),
        _ => None,
    }
}

/// Stops a group: `signal`, then SIGKILL after `grace` if anything is left.
/// The caller aborts this task once the run has ended, so SIGKILL can never
/// reach a group whose id was reused.
pub async fn stop_group(group: ProcessGroup, signal: StopSignal, grace: Duration) {
    group.signal(signal_number(signal));
    tokio::time::sleep(grace).await;
    if group.alive() {
        tracing::warn!(
            pgid = group.0,
            "stop timeout passed; sending SIGKILL to the process group"
        );
        group.signal(libc::SIGKILL);
    }
}
