//! Commands with a deadline that kills their process group.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

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
