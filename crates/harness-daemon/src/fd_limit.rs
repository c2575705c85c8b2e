//! The daemon's limit on open files. Each `logs -f` holds a log's files
//! open, each connection a socket, each run a pidfd: the usual soft limit
//! of 1024 is soon reached on a large stack. So the daemon raises its own
//! soft limit to the hard one when it starts, as systemd and Go's runtime
//! do, and gives every process it starts (shims and so services, probes,
//! job steps' cleanups, state checks) the limit it was started with, as
//! they do too: a service sees the limit its user set, and an old
//! program that still uses `select` (fds below 1024 only) is not broken.

use std::sync::atomic::{AtomicU64, Ordering};

/// The soft and hard limits the daemon was started with; `u64::MAX` until
/// it raised its own.
static STARTED_SOFT: AtomicU64 = AtomicU64::new(u64::MAX);
static STARTED_HARD: AtomicU64 = AtomicU64::new(u64::MAX);

/// Past this the daemon does not raise its soft limit (a hard limit of
/// "unlimited" is not a reason to ask for billions).
const MOST: u64 = 1 << 20;

/// Raises the daemon's soft limit on open files to its hard limit; the
/// limits before and after, if it changed.
pub fn raise() -> Option<(u64, u64)> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit with a valid pointer.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return None;
    }
    let want = lim.rlim_max.min(MOST);
    if want <= lim.rlim_cur {
        return None;
    }
    let raised = libc::rlimit {
        rlim_cur: want,
        rlim_max: lim.rlim_max,
    };
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } != 0 {
        return None;
    }
    STARTED_HARD.store(lim.rlim_max, Ordering::Relaxed);
    STARTED_SOFT.store(lim.rlim_cur, Ordering::Relaxed);
    Some((lim.rlim_cur, want))
}

/// Gives the calling process the limits the daemon was started with. For
/// `pre_exec`: between fork and exec only an atomic load and one
/// system call run, both async-signal-safe.
pub fn restore() -> std::io::Result<()> {
    let soft = STARTED_SOFT.load(Ordering::Relaxed);
    if soft == u64::MAX {
        return Ok(());
    }
    let lim = libc::rlimit {
        rlim_cur: soft,
        rlim_max: STARTED_HARD.load(Ordering::Relaxed),
    };
    // SAFETY: setrlimit with a valid pointer.
    match unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) } {
        0 => Ok(()),
        _ => Err(std::io::Error::last_os_error()),
    }
}
