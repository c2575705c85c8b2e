//! The shim's life: spawn, copy output, wait, clean up, record.

use crate::args::Args;
use crate::log::{LineBuffer, LogWriter};
use crate::sys::{self, End};
use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};

/// Pipes still open this long after the group is gone belong to a process
/// that escaped; the shim stops waiting for them.
const DRAIN_GRACE_MS: u64 = 500;

/// Entry point of `harness-shim`. Returns the shim's own exit code.
///
/// Started without arguments, the shim first does everything that does not
/// depend on the service (leave the session, become a subreaper) and then
/// waits for its job on stdin: the daemon keeps one such spare shim ready,
/// so a spawn costs one process creation instead of two. A spare whose
/// stdin closes with no job (the daemon exited) exits quietly.
pub fn main() -> i32 {
    sys::setsid();
    sys::ignore_hangups();
    let _ = sys::become_subreaper();
    let parsed = if std::env::args_os().len() > 1 {
        Args::parse(std::env::args_os().skip(1))
    } else {
        match sys::read_stdin_to_end() {
            Ok(job) if job.is_empty() => return 0,
            Ok(job) => Args::decode(&job),
            Err(e) => Err(format!("cannot read the job: {e}")),
        }
    };
    let args = match parsed {
        Ok(a) => a,
        Err(e) => {
            eprintln!("harness-shim: {e}");
            announce(&format!("error {e}\n"));
            return 2;
        }
    };
    let mut log = match LogWriter::open(&args.log, args.log_max_bytes, args.log_keep) {
        Ok(l) => l,
        Err(e) => {
            return report_error(
                &args,
                &format!("cannot open log {}: {e}", args.log.display()),
            );
        }
    };
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
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            let msg = format!("cannot start {:?}: {e}", args.argv[0]);
            let _ = log.write_lines(format!("[harness] {msg}\n").as_bytes());
            return report_error(&args, &msg);
        }
    };
    let pid = child.id() as i32;
    announce(&format!("started {pid}\n"));
    let (Some(mut out), Some(mut err)) = (child.stdout.take(), child.stderr.take()) else {
        return report_error(&args, "no pipes");
    };
    let pidfd = sys::pidfd_open(pid).ok();
    let mut bufs = [LineBuffer::default(), LineBuffer::default()];
    let mut open = [true, true];
    let mut chunk = [0u8; 4096];
    let mut end: Option<End> = None;
    let mut cleanup_deadline: Option<u64> = None;
    let mut drain_deadline: Option<u64> = None;
    loop {
        if end.is_none()
            && let Ok(Some((_, e))) = sys::try_reap(pid)
        {
            end = Some(e);
            cleanup_deadline = Some(sys::now_ms() + args.stop_timeout_ms);
            if sys::group_alive(pid) {
                sys::kill_group(pid, args.stop_signal);
            }
        }
        if end.is_some() {
            reap_orphans();
            let group_gone = !sys::group_alive(pid);
            let now = sys::now_ms();
            if !group_gone && cleanup_deadline.is_some_and(|d| now >= d) {
                sys::kill_group(pid, libc::SIGKILL);
            }
            if group_gone {
                sys::kill_my_children();
                let deadline = *drain_deadline.get_or_insert(now + DRAIN_GRACE_MS);
                if !open.iter().any(|o| *o) || now >= deadline {
                    break;
                }
            }
        }
        let fds = [
            open[0].then(|| out.as_raw_fd()),
            open[1].then(|| err.as_raw_fd()),
            if end.is_none() {
                pidfd.as_ref().map(|f| f.as_raw_fd())
            } else {
                None
            },
        ];
        let wait = if end.is_some() {
            10
        } else if pidfd.is_some() {
            -1
        } else {
            50
        };
        let ready = sys::poll(&fds, wait).unwrap_or_else(|_| vec![false; 3]);
        for (k, r) in ready.iter().take(2).enumerate() {
            if !*r || !open[k] {
                continue;
            }
            let n = if k == 0 {
                out.read(&mut chunk)
            } else {
                err.read(&mut chunk)
            };
            match n {
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Ok(0) | Err(_) => open[k] = false,
                Ok(n) => {
                    if let Err(e) = bufs[k].push(&chunk[..n], &mut log) {
                        let _ = writeln!(std::io::stderr(), "harness-shim: log write failed: {e}");
                    }
                }
            }
        }
    }
    for b in &mut bufs {
        let _ = b.finish(&mut log);
    }
    let end = end.unwrap_or(End::Exited(255));
    write_exit_file(&args, end);
    0
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
    write_exit_file(args, End::Exited(127));
    0
}

fn write_exit_file(args: &Args, end: End) {
    let body = match end {
        End::Exited(c) => format!("run={}\nexit={c}\n", args.run),
        End::Signaled(s) => format!("run={}\nsignal={s}\n", args.run),
    };
    let mut tmp = args.exit_file.clone().into_os_string();
    tmp.push(".tmp");
    if std::fs::write(&tmp, body).is_ok() {
        let _ = std::fs::rename(&tmp, &args.exit_file);
    }
}
