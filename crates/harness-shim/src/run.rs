//! The shim's life: spawn, copy output, wait, clean up, record.

use crate::args::Args;
use crate::exit_file::ExitFile;
use crate::log::{LineBuffer, LogWriter, Stream};
use crate::sys::{self, End};
use std::io::Write;
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::process::{ChildStderr, ChildStdout, Command, Stdio};

/// Pipes still open this long after the group is gone belong to a process
/// that escaped; the shim stops waiting for them.
const DRAIN_GRACE_MS: u64 = 500;

/// The most output read into memory, in all, once the group is gone,
/// while the disk refuses it: the largest pipe buffer an unprivileged
/// service can ask for (`/proc/sys/fs/pipe-max-size`'s default). Pipes of
/// the usual 64 KiB are read to their end; what is left past it (two
/// pipes grown to 1 MiB, or a writer from outside the group) is not
/// read, and is lost with the pipes.
const DRAIN_HELD_MAX: usize = 1 << 20;

/// Entry point of `harness-shim`. Returns the shim's own exit code.
///
/// Started without arguments, the shim first does everything that does not
/// depend on the service (leave the session, become a subreaper) and then
/// waits for its job on stdin: the daemon keeps one such spare shim ready,
/// so a spawn costs one process creation instead of two. A spare whose
/// stdin closes with no job (the daemon exited) exits quietly.
pub fn main() -> i32 {
    let mut argv = std::env::args_os().skip(1);
    if argv.next().is_some_and(|a| a == crate::WITH_LISTEN_PID) {
        return exec_with_listen_pid(argv.collect());
    }
    sys::setsid();
    sys::ignore_hangups();
    let _ = sys::become_subreaper();
    let args = match read_job() {
        Ok(Some(a)) => a,
        Ok(None) => return 0,
        Err(e) => {
            eprintln!("harness-shim: {e}");
            announce(&format!("error {e}\n"));
            return 2;
        }
    };
    // A service's socket, put at fd 3 by the daemon: a later daemon must
    // be able to take it back from this shim.
    if sys::is_socket(3) {
        sys::allow_any_tracer();
    }
    let mut log = match LogWriter::open(&args.log, args.log_max_bytes, args.log_keep) {
        Ok(l) => l,
        Err(e) => {
            return report_error(
                &args,
                &format!("cannot open log {}: {e}", args.log.display()),
            );
        }
    };
    // Before the service runs, while there may still be room for it.
    let exit_file = ExitFile::reserve(args.exit_file.clone());
    let mut child = match command(&args).spawn() {
        Ok(c) => c,
        Err(e) => {
            let msg = format!("cannot start {:?}: {e}", args.argv[0]);
            let _ = log.write_lines(format!("[harness] {msg}\n").as_bytes(), Stream::Err);
            return report_error(&args, &msg);
        }
    };
    let pid = child.id() as i32;
    announce(&format!("started {pid}\n"));
    let (Some(out), Some(err)) = (child.stdout.take(), child.stderr.take()) else {
        return report_error(&args, "no pipes");
    };
    let end = Watch::new(&args, pid, out, err).run(&mut log);
    exit_file.write(args.run, end);
    0
}

/// Sets `LISTEN_PID` to this process's pid and becomes `argv`: the
/// service's side of socket activation, as systemd does between its fork
/// and exec (the shim spawns with posix_spawn, where no code runs in the
/// child). Only returns when the exec failed: 127, as a shell says.
fn exec_with_listen_pid(argv: Vec<std::ffi::OsString>) -> i32 {
    let Some((program, rest)) = argv.split_first() else {
        eprintln!("harness-shim: {} needs a command", crate::WITH_LISTEN_PID);
        return 2;
    };
    let e = Command::new(program)
        .args(rest)
        .env("LISTEN_PID", std::process::id().to_string())
        .exec();
    eprintln!("[harness] cannot start {program:?}: {e}");
    127
}

/// The job: from the command line, or else from stdin (a spare shim);
/// `None` for a spare whose stdin closed with no job.
fn read_job() -> Result<Option<Args>, String> {
    if std::env::args_os().len() > 1 {
        return Args::parse(std::env::args_os().skip(1)).map(Some);
    }
    match sys::read_stdin_to_end() {
        Ok(job) if job.is_empty() => Ok(None),
        Ok(job) => Args::decode(&job).map(Some),
        Err(e) => Err(format!("cannot read the job: {e}")),
    }
}

/// The service's command: its own process group, output piped to the
/// shim, no stdin.
fn command(args: &Args) -> Command {
    let mut cmd = Command::new(&args.argv[0]);
    cmd.args(&args.argv[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .envs(args.env.iter().map(|(k, v)| (k, v)));
    if let Some(dir) = &args.cwd {
        cmd.current_dir(dir);
    }
    cmd
}

/// One running service: its output copied to the log until the main
/// process has ended, what is left of its group is gone (the stop signal,
/// then SIGKILL after `stop_timeout`) and its pipes are drained.
/// The most one read of a pipe takes: Linux's default pipe buffer.
const PIPE_CHUNK: usize = 64 << 10;

/// How often output the disk refused is tried again.
const FULL_RETRY_MS: i32 = 200;

/// How long, at the end, output the disk refused is still tried.
const FULL_LAST_TRIES_MS: u64 = 2000;

struct Watch<'a> {
    args: &'a Args,
    pid: i32,
    pipes: [ChildPipe; 2],
    pidfd: Option<std::os::fd::OwnedFd>,
    bufs: [LineBuffer; 2],
    open: [bool; 2],
    end: Option<End>,
    cleanup_deadline: Option<u64>,
    drain_deadline: Option<u64>,
}

/// The service's stdout or stderr.
enum ChildPipe {
    Out(ChildStdout),
    Err(ChildStderr),
}

impl ChildPipe {
    fn fd(&self) -> i32 {
        match self {
            ChildPipe::Out(p) => p.as_raw_fd(),
            ChildPipe::Err(p) => p.as_raw_fd(),
        }
    }
}

impl<'a> Watch<'a> {
    fn new(args: &'a Args, pid: i32, out: ChildStdout, err: ChildStderr) -> Self {
        Watch {
            args,
            pid,
            pipes: [ChildPipe::Out(out), ChildPipe::Err(err)],
            pidfd: sys::pidfd_open(pid).ok(),
            bufs: [LineBuffer::of(Stream::Out), LineBuffer::of(Stream::Err)],
            open: [true, true],
            end: None,
            cleanup_deadline: None,
            drain_deadline: None,
        }
    }

    /// Watches until done; how the main process ended.
    fn run(mut self, log: &mut LogWriter) -> End {
        // As large as a pipe's buffer: a service that writes fast is copied
        // in few reads and writes. It is allocated at the first output,
        // and its pages are touched only as reads fill them
        // (`sys::read_into`): an idle service's shim stays small.
        let mut chunk = Vec::new();
        loop {
            self.reap_main();
            if self.end.is_some() && self.clean_up() {
                break;
            }
            // While the disk refuses output, the pipes are not read: the
            // service blocks on a full pipe instead of its lines being lost.
            // Once its group is gone nothing writes to them any more, and
            // what is left in them (a pipe's buffer at most) is read into
            // memory, to wait with the rest for the last tries below; the
            // message there counts whatever is still lost.
            if log.blocked() {
                self.try_again(log);
            }
            let blocked = log.blocked();
            let hold =
                blocked && (self.drain_deadline.is_none() || log.waiting() >= DRAIN_HELD_MAX);
            let wait = match blocked {
                true => FULL_RETRY_MS,
                false => self.wait_ms(),
            };
            let ready = sys::poll(&self.fds(hold), wait).unwrap_or_else(|_| vec![false; 3]);
            for (k, r) in ready.iter().take(2).enumerate() {
                if *r && self.open[k] {
                    self.copy(k, &mut chunk, log);
                    if log.blocked() {
                        self.disk_full(log);
                        if self.drain_deadline.is_none() {
                            break;
                        }
                    }
                }
            }
        }
        for b in &mut self.bufs {
            let _ = b.finish(log);
        }
        let deadline = sys::now_ms() + FULL_LAST_TRIES_MS;
        while log.blocked() && sys::now_ms() < deadline {
            self.try_again(log);
            std::thread::sleep(std::time::Duration::from_millis(FULL_RETRY_MS as u64));
        }
        if log.blocked() {
            let _ = writeln!(
                std::io::stderr(),
                "harness-shim: run {}: the log's disk is still full; its last {} bytes of output are lost",
                self.args.run,
                log.waiting()
            );
        }
        self.end.unwrap_or(End::Exited(255))
    }

    /// The disk refused output: said once on stderr (the daemon's log) and
    /// by a flag file beside the exit file, which `status` shows.
    fn disk_full(&self, log: &LogWriter) {
        let flag = self.args.exit_file.with_extension("logfull");
        if flag.exists() {
            return;
        }
        let _ = std::fs::File::create(&flag);
        let _ = writeln!(
            std::io::stderr(),
            "harness-shim: run {}: the log's disk is full ({} bytes wait); the service's output waits, and so does the service once its pipe is full",
            self.args.run,
            log.waiting()
        );
    }

    /// Writes what the disk refused, if it takes it now; once all is
    /// written, output flows again, and that is said.
    fn try_again(&self, log: &mut LogWriter) {
        if let Ok(true) = log.retry() {
            let _ = std::fs::remove_file(self.args.exit_file.with_extension("logfull"));
            let _ = writeln!(
                std::io::stderr(),
                "harness-shim: run {}: room on the log's disk again; output goes on",
                self.args.run
            );
        }
    }

    /// Notes the main process's end once it has one, and sends the stop
    /// signal to what is left of its group.
    fn reap_main(&mut self) {
        if self.end.is_none()
            && let Ok(Some((_, e))) = sys::try_reap(self.pid)
        {
            self.end = Some(e);
            self.cleanup_deadline = Some(sys::now_ms() + self.args.stop_timeout_ms);
            if sys::group_alive(self.pid) {
                sys::kill_group(self.pid, self.args.stop_signal);
            }
        }
    }

    /// After the main process ended: reaps orphans, SIGKILLs the group past
    /// its deadline, and once the group is gone kills escaped descendants
    /// and drains the pipes (for at most [`DRAIN_GRACE_MS`]). True when
    /// done.
    fn clean_up(&mut self) -> bool {
        reap_orphans();
        let group_gone = !sys::group_alive(self.pid);
        let now = sys::now_ms();
        if !group_gone && self.cleanup_deadline.is_some_and(|d| now >= d) {
            sys::kill_group(self.pid, libc::SIGKILL);
        }
        if !group_gone {
            return false;
        }
        sys::kill_my_children();
        let deadline = *self.drain_deadline.get_or_insert(now + DRAIN_GRACE_MS);
        !self.open.iter().any(|o| *o) || now >= deadline
    }

    /// The open pipes (none while output is held back), and the pidfd
    /// until the main process has ended.
    fn fds(&self, hold: bool) -> [Option<i32>; 3] {
        [
            (self.open[0] && !hold).then(|| self.pipes[0].fd()),
            (self.open[1] && !hold).then(|| self.pipes[1].fd()),
            if self.end.is_none() {
                self.pidfd.as_ref().map(|f| f.as_raw_fd())
            } else {
                None
            },
        ]
    }

    /// How long to poll: until something happens while the service runs
    /// (the pidfd wakes us), in short steps while cleaning up, and in
    /// 50 ms steps on a kernel without pidfds.
    fn wait_ms(&self) -> i32 {
        if self.end.is_some() {
            10
        } else if self.pidfd.is_some() {
            -1
        } else {
            50
        }
    }

    /// Copies what pipe `k` has into the log, whole lines only.
    fn copy(&mut self, k: usize, chunk: &mut Vec<u8>, log: &mut LogWriter) {
        if chunk.capacity() == 0 {
            chunk.reserve_exact(PIPE_CHUNK);
        }
        match sys::read_into(self.pipes[k].fd(), chunk) {
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Ok(0) | Err(_) => self.open[k] = false,
            Ok(n) => {
                if let Err(e) = self.bufs[k].push(&chunk[..n], log) {
                    let _ = writeln!(std::io::stderr(), "harness-shim: log write failed: {e}");
                }
            }
        }
    }
}

/// Reaps every exited descendant (the shim is their subreaper).
fn reap_orphans() {
    while let Ok(Some(_)) = sys::try_reap(-1) {}
}

/// Tells the daemon, on the shim's stdout, whether the service started;
/// then lets go of that pipe so the daemon sees EOF.
fn announce(line: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(line.as_bytes());
    let _ = stdout.flush();
    if let Ok(devnull) = std::fs::OpenOptions::new().write(true).open("/dev/null") {
        // SAFETY: dup2 onto fd 1 replaces our stdout with /dev/null.
        unsafe { libc::dup2(devnull.as_raw_fd(), 1) };
    }
}

fn report_error(args: &Args, msg: &str) -> i32 {
    announce(&format!("error {msg}\n"));
    ExitFile::reserve(args.exit_file.clone()).write(args.run, End::Exited(127));
    0
}
