//! The few system calls the shim needs, as small safe functions.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

fn check(ret: libc::c_int) -> io::Result<libc::c_int> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// Leaves the caller's session so that the daemon's end (or its terminal's
/// hangup) never reaches the shim.
pub fn setsid() {
    // SAFETY: setsid has no memory effects; failure (already a leader) is harmless.
    unsafe { libc::setsid() };
}

/// Reads stdin until end of file, then puts `/dev/null` in its place.
/// (Through fd 0 directly: `std::io::stdin()` would keep an 8 KiB buffer
/// for the shim's whole life.)
pub fn read_stdin_to_end() -> io::Result<Vec<u8>> {
    use std::io::Read;
    // SAFETY: fd 0 is open for the process's life; ManuallyDrop keeps the
    // File from closing it.
    let mut stdin = std::mem::ManuallyDrop::new(unsafe { std::fs::File::from_raw_fd(0) });
    let mut job = Vec::new();
    stdin.read_to_end(&mut job)?;
    let null = std::fs::File::open("/dev/null")?;
    // SAFETY: dup2 onto fd 0 replaces stdin with /dev/null.
    unsafe { libc::dup2(null.as_raw_fd(), 0) };
    Ok(job)
}

/// Orphaned descendants of the service are re-parented to the shim, so it
/// can reap and stop them.
pub fn become_subreaper() -> io::Result<()> {
    // SAFETY: PR_SET_CHILD_SUBREAPER takes a plain integer argument.
    check(unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) }).map(|_| ())
}

/// A pidfd for `pid`: readable once the process has ended.
pub fn pidfd_open(pid: i32) -> io::Result<OwnedFd> {
    // SAFETY: pidfd_open takes a pid and flags and returns a new fd or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the kernel just handed us this fd; nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// Reads what `fd` has into `buf`'s spare capacity (replacing its
/// contents), without initialising the rest first: a buffer the size of a
/// pipe costs memory only for the bytes a read has ever filled, so an idle
/// service's shim stays small.
pub fn read_into(fd: RawFd, buf: &mut Vec<u8>) -> io::Result<usize> {
    buf.clear();
    // SAFETY: the pointer and length are the Vec's spare capacity, which
    // read(2) fills; `set_len` covers only the `n` bytes it wrote.
    let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.capacity()) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    unsafe { buf.set_len(n as usize) };
    Ok(n as usize)
}

/// Waits until one of `fds` is readable (or hung up), up to `timeout_ms`
/// (-1: forever). Returns, per fd, whether it is ready.
pub fn poll(fds: &[Option<RawFd>], timeout_ms: i32) -> io::Result<Vec<bool>> {
    let mut pfds: Vec<libc::pollfd> = fds
        .iter()
        .map(|fd| libc::pollfd {
            fd: fd.unwrap_or(-1),
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    loop {
        // SAFETY: pfds is a valid, correctly sized array of pollfd.
        let ret = unsafe { libc::poll(pfds.as_mut_ptr(), pfds.len() as libc::nfds_t, timeout_ms) };
        if ret >= 0 {
            return Ok(pfds.iter().map(|p| p.revents != 0).collect());
        }
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
}

/// How a child ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// Exit code.
    Exited(i32),
    /// Killing signal.
    Signaled(i32),
}

/// Reaps `pid` (or any child when `pid` is -1) without blocking.
/// `Ok(None)`: nothing to reap now. `Err` with ECHILD: no children left.
pub fn try_reap(pid: i32) -> io::Result<Option<(i32, End)>> {
    let mut status = 0;
    // SAFETY: status is a valid out-pointer.
    let got = check(unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) })?;
    if got == 0 {
        return Ok(None);
    }
    let end = if libc::WIFSIGNALED(status) {
        End::Signaled(libc::WTERMSIG(status))
    } else {
        End::Exited(libc::WEXITSTATUS(status))
    };
    Ok(Some((got, end)))
}

/// Sends `sig` to every process of group `pgid`.
pub fn kill_group(pgid: i32, sig: i32) -> bool {
    // SAFETY: kill with a negative pid signals a process group.
    unsafe { libc::kill(-pgid, sig) == 0 }
}

/// Whether any process of group `pgid` still exists.
pub fn group_alive(pgid: i32) -> bool {
    kill_group(pgid, 0)
}

/// SIGKILLs every process whose parent is the shim: descendants that left
/// the service's process group and were re-parented here. Reads the
/// kernel's child list of the shim's thread (cheap); scans `/proc` only
/// where that list is not available.
pub fn kill_my_children() -> usize {
    let me = std::process::id();
    let pids: Vec<i32> = match std::fs::read_to_string(format!("/proc/{me}/task/{me}/children")) {
        Ok(list) => list
            .split_whitespace()
            .filter_map(|p| p.parse().ok())
            .collect(),
        Err(_) => scan_children(me),
    };
    for &pid in &pids {
        // SAFETY: plain kill of a pid the kernel lists as our child.
        unsafe { libc::kill(pid, libc::SIGKILL) };
    }
    pids.len()
}

fn scan_children(me: u32) -> Vec<i32> {
    let me = me.to_string();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.flatten()
        .filter_map(|e| e.file_name().to_str().and_then(|s| s.parse::<i32>().ok()))
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .ok()
                .and_then(|stat| {
                    stat.rsplit_once(')')
                        .and_then(|(_, r)| r.split_whitespace().nth(1).map(|p| p == me))
                })
                .unwrap_or(false)
        })
        .collect()
}

/// The shim keeps running when its terminal or its parent goes away, and
/// never dies of a closed pipe.
pub fn ignore_hangups() {
    // A handler that does nothing rather than SIG_IGN: exec resets handled
    // signals to their default, so the service starts with default
    // dispositions and no code has to run between fork and exec — which
    // lets the spawn use posix_spawn (a vfork), the fastest way to start
    // it. (SIGPIPE: the Rust runtime ignores it here, and `Command` resets it
    // in the child.) SA_RESTART restarts interrupted reads; poll retries.
    extern "C" fn nothing(_: libc::c_int) {}
    for sig in [libc::SIGHUP, libc::SIGINT] {
        // SAFETY: a zeroed sigaction with a valid handler and flags.
        unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = nothing as extern "C" fn(libc::c_int) as usize;
            sa.sa_flags = libc::SA_RESTART;
            libc::sigemptyset(&mut sa.sa_mask);
            libc::sigaction(sig, &sa, std::ptr::null_mut());
        }
    }
}

/// Milliseconds on the monotonic clock.
pub fn now_ms() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: ts is a valid out-pointer.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1000 + ts.tv_nsec as u64 / 1_000_000
}

/// Whether `fd` is an open socket.
pub fn is_socket(fd: RawFd) -> bool {
    // SAFETY: fstat writes into a zeroed stat of the right size.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: as above; a closed fd only makes fstat fail.
    let ok = unsafe { libc::fstat(fd, &mut st) } == 0;
    ok && (st.st_mode & libc::S_IFMT) == libc::S_IFSOCK
}

/// Lets any process of this user read this process's fds with
/// `pidfd_getfd`. Yama (`ptrace_scope` 1, Ubuntu's default) allows that
/// only to ancestors, and a daemon started after the one that spawned
/// this shim is none: it could not take the service's socket back.
pub fn allow_any_tracer() {
    // SAFETY: prctl with these arguments only sets a flag; it fails
    // harmlessly (EINVAL) where Yama is absent.
    unsafe { libc::prctl(libc::PR_SET_PTRACER, libc::PR_SET_PTRACER_ANY, 0, 0, 0) };
}
