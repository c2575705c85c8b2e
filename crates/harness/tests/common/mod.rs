//! A project in a temporary folder, driven through the real `harness`
//! binary. Dropping it stops every service and the daemon, and kills any
//! process group the test saw, so no test leaves processes behind.
//!
//! Every command a test runs goes through [`Background`]: it leads a
//! process group of its own and has a deadline, and when the deadline
//! passes the whole group is SIGKILLed and the test fails saying what the
//! command had printed. A hung `harness` fails one test instead of hanging
//! the suite.

#![allow(dead_code, reason = "each test binary uses a different part")]

use std::io::Read;
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::OnceLock;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

/// How long one `harness` command may take by default. Generous: the
/// slowest commands in these tests wait a few seconds for a health check;
/// this is for a command that would otherwise never return.
pub const HARNESS_TIMEOUT: Duration = Duration::from_secs(60);

/// db ← api ← worker, and cache on its own. api fails until a file `ok`
/// exists in the project folder.
pub const FLAKY_API: &str = r#"
services:
  db:
    command: sleep 1000
  api:
    command: test -f ok || { echo api is broken >&2; exit 1; }; exec sleep 1000
    depends_on: [db]
  worker:
    command: sleep 1000
    depends_on: [api]
  cache:
    command: sleep 1000
"#;

/// Creates the file that makes [`FLAKY_API`]'s api come up.
pub fn fix_api(s: &Stack) {
    std::fs::write(s.path().join("ok"), "").unwrap();
}

pub struct Stack {
    pub dir: tempfile::TempDir,
    /// How long each `harness` command of [`Stack::harness`] may run before
    /// its process group is killed and the test fails;
    /// [`HARNESS_TIMEOUT`] unless a test that legitimately waits longer
    /// raises it.
    pub harness_timeout: Duration,
    seen_pids: std::cell::RefCell<Vec<u32>>,
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn from(o: Output) -> Run {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
    pub fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

impl Stack {
    pub fn new(yaml: &str) -> Stack {
        let dir = tempfile::Builder::new()
            .prefix("harness-test-")
            .tempdir()
            .unwrap();
        std::fs::write(dir.path().join("services.yaml"), yaml).unwrap();
        Stack {
            dir,
            harness_timeout: HARNESS_TIMEOUT,
            seen_pids: Default::default(),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `harness ARGS` in the project folder, not started yet: for a test
    /// that runs it in the [`Background`] or on a terminal.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_harness"));
        cmd.args(args)
            .current_dir(self.path())
            .env_remove("HARNESS_FILE");
        cmd
    }

    /// Runs `harness ARGS` to the end, within [`Stack::harness_timeout`].
    pub fn harness(&self, args: &[&str]) -> Run {
        self.harness_within(args, self.harness_timeout)
    }

    /// Runs `harness ARGS` to the end; past `limit` its process group is
    /// killed and the test fails with what it had printed.
    pub fn harness_within(&self, args: &[&str], limit: Duration) -> Run {
        Run::from(run_within(&mut self.command(args), limit))
    }

    pub fn status(&self) -> serde_json::Value {
        let r = self.harness(&["status", "--json"]);
        assert_eq!(r.code, 0, "status failed: {}", r.all());
        let v: serde_json::Value = serde_json::from_str(&r.stdout).expect("status json");
        for s in v["services"].as_array().unwrap() {
            if let Some(pid) = s["pid"].as_u64() {
                self.seen_pids.borrow_mut().push(pid as u32);
            }
        }
        v
    }

    pub fn service(&self, name: &str) -> serde_json::Value {
        self.status()["services"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == name)
            .cloned()
            .expect("service in status")
    }

    pub fn pid(&self, name: &str) -> Option<u32> {
        self.service(name)["pid"].as_u64().map(|p| p as u32)
    }

    pub fn history(&self) -> Vec<serde_json::Value> {
        let r = self.harness(&["status", "--history", "--json"]);
        assert_eq!(r.code, 0, "{}", r.all());
        serde_json::from_str(&r.stdout).unwrap()
    }

    pub fn daemon_pid(&self) -> Option<u32> {
        std::fs::read_to_string(self.path().join(".harness/daemon.lock"))
            .ok()?
            .trim()
            .parse()
            .ok()
    }

    /// A connection to the daemon's socket that gives up on an answer
    /// after [`Stack::harness_timeout`] instead of waiting forever.
    pub fn socket(&self) -> UnixStream {
        let sock = self.path().join(".harness/harness.sock");
        let u = UnixStream::connect(&sock)
            .unwrap_or_else(|e| panic!("cannot connect to {}: {e}", sock.display()));
        u.set_read_timeout(Some(self.harness_timeout)).unwrap();
        u.set_write_timeout(Some(self.harness_timeout)).unwrap();
        u
    }

    pub fn log(&self, name: &str) -> String {
        std::fs::read_to_string(self.path().join(format!(".harness/logs/{name}.log")))
            .unwrap_or_default()
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        // No panics here: this also runs while a failed test unwinds, and a
        // command past its deadline has had its group killed already.
        let _ = try_run(&mut self.command(&["stop", "--all"]), self.harness_timeout);
        let daemon = self.daemon_pid();
        let _ = try_run(&mut self.command(&["daemon", "stop"]), self.harness_timeout);
        if let Some(pid) = daemon {
            kill(pid, libc::SIGKILL);
        }
        for pid in self.seen_pids.borrow().iter() {
            // SAFETY: SIGKILL to a process group this test started.
            unsafe { libc::kill(-(*pid as i32), libc::SIGKILL) };
        }
    }
}

pub fn kill(pid: u32, sig: i32) {
    // SAFETY: plain kill(2).
    unsafe { libc::kill(pid as i32, sig) };
}

pub fn alive(pid: u32) -> bool {
    // A zombie is dead for our purposes.
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(')')
            .map(|(_, r)| !r.trim_start().starts_with('Z'))
            .unwrap_or(false),
        Err(_) => false,
    }
}

/// `(pid, ppid, pgrp)` of every live (non-zombie) process.
fn processes() -> Vec<(u32, u32, u32)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        let Some((_, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let f: Vec<&str> = rest.split_whitespace().collect();
        let num = |i: usize| f.get(i).and_then(|v| v.parse::<u32>().ok());
        if let (Some(&state), Some(ppid), Some(pgrp)) = (f.first(), num(1), num(2))
            && state != "Z"
        {
            out.push((pid, ppid, pgrp));
        }
    }
    out
}

/// Every live process whose process group is `pgid`.
pub fn group_members(pgid: u32) -> Vec<u32> {
    processes()
        .into_iter()
        .filter(|p| p.2 == pgid)
        .map(|p| p.0)
        .collect()
}

/// Live processes whose parent is `ppid`.
pub fn children_of(ppid: u32) -> Vec<u32> {
    processes()
        .into_iter()
        .filter(|p| p.1 == ppid)
        .map(|p| p.0)
        .collect()
}

/// Polls `cond` until it holds or `secs` pass.
pub fn wait_for(secs: u64, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    cond()
}

/// A free TCP port on loopback.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A shell command for a service that listens on 127.0.0.1:`port` after
/// `delay_ms` and then prints `listening on PORT` (`hk listen`).
pub fn listener(port: u16, delay_ms: u64) -> String {
    format!("{} listen {port} --after {delay_ms}", sh_quote(hk()))
}

/// `path` as one word for `sh -c`.
pub fn sh_quote(path: &Path) -> String {
    format!("'{}'", path.display().to_string().replace('\'', r"'\''"))
}

/// The `hk` fixture program (crates/harness-testkit), built on first use.
///
/// Cargo builds a package's own binaries for its integration tests, never
/// another package's, so under `cargo test -p harness` alone `hk` would be
/// missing from the target folder, or left there by an older build. So the
/// first test of each test binary that asks for it runs `cargo build -p
/// harness-testkit --bin hk` (already up to date, and so nearly free, under
/// `cargo test --workspace`) and uses the path cargo reports. `cargo test`
/// lets go of the target folder's lock before it runs the tests, so this
/// does not wait on the `cargo test` that runs it.
pub fn hk() -> &'static Path {
    static HK: OnceLock<PathBuf> = OnceLock::new();
    HK.get_or_init(|| {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| env!("CARGO").into());
        let out = run_within(
            Command::new(cargo)
                .args(["build", "--locked", "-p", "harness-testkit", "--bin", "hk"])
                .arg("--message-format=json-render-diagnostics")
                .current_dir(env!("CARGO_MANIFEST_DIR")),
            // A cold build of hk and libc takes seconds; this also covers
            // waiting for another cargo that holds the target folder.
            Duration::from_secs(300),
        );
        assert!(
            out.status.success(),
            "cannot build hk:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == "hk")
            .find_map(|m| m["executable"].as_str().map(PathBuf::from))
            .expect("cargo reports where it put hk")
    })
}

/// A plain HTTP/1.1 exchange over any stream: `(status code, body)`.
pub fn http(
    stream: impl std::io::Read + std::io::Write,
    method: &str,
    path: &str,
) -> (u16, String) {
    http_with_body(stream, method, path, "")
}

/// [`http`] with a JSON request body.
pub fn http_with_body(
    mut stream: impl std::io::Read + std::io::Write,
    method: &str,
    path: &str,
    json: &str,
) -> (u16, String) {
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: harness\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{json}",
        json.len()
    )
    .expect("send the HTTP request");
    let mut raw = String::new();
    stream
        .read_to_string(&mut raw)
        .expect("read the HTTP response");
    let code = raw
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = raw
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (code, body)
}

/// Runs `cmd` to the end like [`Command::output`] (stdin empty, stdout and
/// stderr captured) but in a process group of its own and within `limit`:
/// past it, the group is SIGKILLed and the test fails with what the
/// command had printed.
pub fn run_within(cmd: &mut Command, limit: Duration) -> Output {
    try_run(cmd, limit).unwrap_or_else(|overran| panic!("{overran}"))
}

/// [`run_within`], returning the overrun instead of failing the test.
pub fn try_run(cmd: &mut Command, limit: Duration) -> Result<Output, Overran> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    Background::start(cmd).finish(limit)
}

/// The write end of a pipe whose read end is already closed, as in
/// `cmd | true`: the first write to it raises SIGPIPE.
pub fn reader_gone() -> Stdio {
    use std::os::fd::{FromRawFd, OwnedFd};
    let mut fds = [0; 2];
    // SAFETY: pipe2 fills `fds` with two new descriptors.
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
    // SAFETY: both descriptors are new and owned by nothing else.
    let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    drop(read);
    Stdio::from(write)
}

/// A command that ran past its deadline, and what it had printed by then.
#[derive(Debug)]
pub struct Overran {
    pub what: String,
    pub limit: Duration,
    pub waiting_for: &'static str,
    pub stdout: String,
    pub stderr: String,
}

impl std::fmt::Display for Overran {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} ran past its deadline of {:?} (waiting for {}); its process group was SIGKILLed.\n\
             --- stdout so far ---\n{}\n--- stderr so far ---\n{}",
            self.what, self.limit, self.waiting_for, self.stdout, self.stderr
        )
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Pipe {
    Out,
    Err,
}

/// A command running in a process group of its own (it is the leader, so
/// its pid is the group's id). Threads drain whatever of its stdout and
/// stderr is piped, so it never blocks on a full pipe and what it printed
/// is at hand when a deadline passes. Every wait has a deadline, and a
/// deadline that passes SIGKILLs the group. Dropped, it SIGKILLs the group
/// too: whatever the command left in it goes with it.
pub struct Background {
    child: Child,
    what: String,
    status: Option<ExitStatus>,
    chunks: Receiver<(Pipe, Option<Vec<u8>>)>,
    out_open: bool,
    err_open: bool,
    out: Vec<u8>,
    /// How much of `out` [`Background::next_line`] has handed out.
    read: usize,
    err: Vec<u8>,
}

impl Background {
    /// Spawns `cmd` with the stdio it was given.
    pub fn start(cmd: &mut Command) -> Background {
        let what = format!("{cmd:?}");
        let mut child = cmd
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
        let (tx, chunks) = mpsc::channel();
        let out_open = child
            .stdout
            .take()
            .map(|p| drain(p, Pipe::Out, tx.clone()))
            .is_some();
        let err_open = child
            .stderr
            .take()
            .map(|p| drain(p, Pipe::Err, tx.clone()))
            .is_some();
        Background {
            child,
            what,
            status: None,
            chunks,
            out_open,
            err_open,
            out: Vec::new(),
            read: 0,
            err: Vec::new(),
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The next line of its stdout without the newline, or `None` once
    /// stdout has ended. Past `within`, the group is killed and the test
    /// fails.
    pub fn next_line(&mut self, within: Duration) -> Option<String> {
        let deadline = Instant::now() + within;
        loop {
            let rest = &self.out[self.read..];
            if let Some(n) = rest.iter().position(|&b| b == b'\n') {
                let line = String::from_utf8_lossy(&rest[..n]).into_owned();
                self.read += n + 1;
                return Some(line);
            }
            if !self.out_open {
                if rest.is_empty() {
                    return None;
                }
                let line = String::from_utf8_lossy(rest).into_owned();
                self.read = self.out.len();
                return Some(line);
            }
            if !self.pump(deadline) {
                panic!("{}", self.give_up(within, "a line of output"));
            }
        }
    }

    /// What its stdout holds after the last line [`Background::next_line`]
    /// returned, up to its end. Past `within`, the group is killed and the
    /// test fails.
    pub fn rest_of_stdout(&mut self, within: Duration) -> String {
        let deadline = Instant::now() + within;
        while self.out_open {
            if !self.pump(deadline) {
                panic!("{}", self.give_up(within, "the end of its output"));
            }
        }
        let rest = String::from_utf8_lossy(&self.out[self.read..]).into_owned();
        self.read = self.out.len();
        rest
    }

    /// All its stderr, once stderr has ended. Past `within`, the group is
    /// killed and the test fails.
    pub fn stderr_to_end(&mut self, within: Duration) -> String {
        let deadline = Instant::now() + within;
        while self.err_open {
            if !self.pump(deadline) {
                panic!("{}", self.give_up(within, "the end of its stderr"));
            }
        }
        String::from_utf8_lossy(&self.err).into_owned()
    }

    /// Its exit status, once it has exited; `None` if it is still running
    /// after `within`, and then its group has been killed.
    pub fn wait_within(&mut self, within: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + within;
        let mut pause = Duration::from_millis(1);
        loop {
            if self.status.is_none() {
                self.status = self.child.try_wait().ok().flatten();
            }
            if self.status.is_some() {
                return self.status;
            }
            let now = Instant::now();
            if now >= deadline {
                self.kill_group();
                return None;
            }
            std::thread::sleep(pause.min(deadline - now));
            pause = (pause * 2).min(Duration::from_millis(20));
        }
    }

    /// [`Background::wait_within`], failing the test if it overruns.
    pub fn wait(&mut self, within: Duration) -> ExitStatus {
        match self.wait_within(within) {
            Some(status) => status,
            None => panic!("{}", self.give_up(within, "it to exit")),
        }
    }

    /// Waits for the end of its output and its exit, within `limit`.
    fn finish(mut self, limit: Duration) -> Result<Output, Overran> {
        let deadline = Instant::now() + limit;
        while self.out_open || self.err_open {
            if !self.pump(deadline) {
                return Err(self.give_up(limit, "the end of its output"));
            }
        }
        match self.wait_within(deadline.saturating_duration_since(Instant::now())) {
            Some(status) => Ok(Output {
                status,
                stdout: std::mem::take(&mut self.out),
                stderr: std::mem::take(&mut self.err),
            }),
            None => Err(self.give_up(limit, "it to exit")),
        }
    }

    /// Takes one chunk of output, waiting for it until `deadline`; false
    /// if none came by then.
    fn pump(&mut self, deadline: Instant) -> bool {
        match self
            .chunks
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
        {
            Ok((pipe, chunk)) => {
                let (buf, open) = match pipe {
                    Pipe::Out => (&mut self.out, &mut self.out_open),
                    Pipe::Err => (&mut self.err, &mut self.err_open),
                };
                match chunk {
                    Some(bytes) => buf.extend_from_slice(&bytes),
                    None => *open = false,
                }
                true
            }
            Err(RecvTimeoutError::Timeout) => false,
            Err(RecvTimeoutError::Disconnected) => {
                (self.out_open, self.err_open) = (false, false);
                true
            }
        }
    }

    /// SIGKILLs the group and reaps the command if it has not exited.
    fn kill_group(&mut self) {
        // SAFETY: SIGKILL to the process group this command leads.
        unsafe { libc::kill(-(self.child.id() as i32), libc::SIGKILL) };
        if self.status.is_none() {
            self.status = self.child.wait().ok();
        }
    }

    /// Kills the group, then collects what the pipes still hold.
    fn give_up(&mut self, limit: Duration, waiting_for: &'static str) -> Overran {
        self.kill_group();
        // Killed, the group closes its ends of the pipes at once; a process
        // that left the group may still hold them, so do not wait long.
        let grace = Instant::now() + Duration::from_secs(2);
        while (self.out_open || self.err_open) && self.pump(grace) {}
        Overran {
            what: self.what.clone(),
            limit,
            waiting_for,
            stdout: String::from_utf8_lossy(&self.out).into_owned(),
            stderr: String::from_utf8_lossy(&self.err).into_owned(),
        }
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        self.kill_group();
    }
}

/// Reads `pipe` to its end on a thread, sending what arrives and then
/// `None`. It goes on reading after the receiver is gone, so the writer
/// never blocks on a full pipe.
fn drain(
    mut pipe: impl Read + Send + 'static,
    which: Pipe,
    tx: mpsc::Sender<(Pipe, Option<Vec<u8>>)>,
) {
    std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        loop {
            match pipe.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    let _ = tx.send((which, Some(buf[..n].to_vec())));
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(_) => break,
            }
        }
        let _ = tx.send((which, None));
    });
}
