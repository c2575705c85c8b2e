//! Processes: spawning a service under its shim, learning of its end from
//! the kernel (pidfd), and stopping its process group.

use harness_core::config::{Command, Service, StopSignal};
use harness_core::engine::ProcessEnd;
use harness_store::Project;
use std::os::fd::{FromRawFd, OwnedFd};
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

/// Start time of a process in clock ticks since boot (field 22 of
/// `/proc/PID/stat`): with the pid, it names one process for good.
pub fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, rest) = stat.rsplit_once(')')?;
    rest.split_whitespace().nth(19)?.parse().ok()
}

/// Whether `pid` is still the process that started at `start`.
pub fn same_process(pid: u32, start: u64) -> bool {
    start_time(pid) == Some(start)
}

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

/// Finds `harness-shim` beside the running executable (or on `PATH`).
pub fn shim_path() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|d| d.join("harness-shim")))
        .filter(|p| p.is_file())
        .unwrap_or_else(|| PathBuf::from("harness-shim"))
}

/// Spawns run `run` of `svc` under a shim and waits for it to say whether
/// the service's exec succeeded.
pub async fn spawn(project: &Project, svc: &Service, run: u64) -> Result<Spawned, String> {
    let cwd = match &svc.working_dir {
        Some((dir, _)) => project.root.join(dir),
        None => project.root.clone(),
    };
    let argv = match &svc.command {
        Command::Shell(s) => vec!["sh".to_string(), "-c".to_string(), s.clone()],
        Command::Argv(a) => a.clone(),
    };
    let mut cmd = tokio::process::Command::new(shim_path());
    cmd.arg("--run")
        .arg(run.to_string())
        .arg("--log")
        .arg(project.log(&svc.name))
        .arg("--exit-file")
        .arg(project.exit_file(&svc.name))
        .arg("--stop-signal")
        .arg(signal_number(svc.stop_signal).to_string())
        .arg("--stop-timeout-ms")
        .arg(svc.stop_timeout.as_millis().to_string())
        .arg("--cwd")
        .arg(&cwd)
        .arg("--")
        .args(&argv)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(false);
    if let Some((file, _)) = &svc.env_file {
        let iter = dotenvy::from_path_iter(project.root.join(file))
            .map_err(|e| format!("env_file: {e}"))?;
        for item in iter {
            let (k, v) = item.map_err(|e| format!("env_file: {e}"))?;
            cmd.env(k, v);
        }
    }
    cmd.envs(svc.env.iter().map(|(k, v)| (k, v)));
    if svc.ready == Some(harness_core::config::Ready::Notify) {
        cmd.env("NOTIFY_SOCKET", project.notify_socket(&svc.name));
        if let Some(w) = svc.watchdog {
            cmd.env("WATCHDOG_USEC", w.as_micros().to_string());
        }
    }
    let _ = std::fs::remove_file(project.exit_file(&svc.name));
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot run harness-shim: {e}"))?;
    let shim_pid = child.id().ok_or("shim exited at once")?;
    let shim_start = start_time(shim_pid).unwrap_or(0);
    let stdout = child.stdout.take().ok_or("shim has no stdout")?;
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .await
        .map_err(|e| format!("shim: {e}"))?;
    drop(child);
    match line.trim().split_once(' ') {
        Some(("started", pid)) => {
            let pid: u32 = pid.parse().map_err(|_| format!("shim said {line:?}"))?;
            Ok(Spawned {
                pid,
                pid_start: start_time(pid).unwrap_or(0),
                shim_pid,
                shim_start,
            })
        }
        Some(("error", msg)) => Err(msg.to_string()),
        _ => Err(format!(
            "shim ended without starting the service ({:?})",
            line.trim()
        )),
    }
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

/// How run `run` ended, from the shim's exit file.
pub fn read_exit(exit_file: &Path, run: u64) -> Option<ProcessEnd> {
    let text = std::fs::read_to_string(exit_file).ok()?;
    match harness_shim::parse_exit_file(&text)? {
        (r, Ok(code)) if r == run => Some(ProcessEnd::Exited(code)),
        (r, Err(sig)) if r == run => Some(ProcessEnd::Signaled(sig)),
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
