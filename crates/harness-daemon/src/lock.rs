//! One daemon per project: an exclusive `flock` on `.harness/daemon.lock`.

use std::fs::File;
use std::io::{Read, Seek, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// Held for the daemon's whole life; released by the kernel when it exits.
pub struct DaemonLock {
    _file: File,
}

impl DaemonLock {
    /// Takes the lock or says which daemon holds it.
    pub fn acquire(path: &Path) -> anyhow::Result<DaemonLock> {
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(harness_store::private::FILE_MODE)
            .open(path)?;
        // SAFETY: flock on an fd we own.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
            let mut pid = String::new();
            let _ = file.read_to_string(&mut pid);
            anyhow::bail!(
                "another harness daemon (pid {}) already serves this project",
                pid.trim()
            );
        }
        file.set_len(0)?;
        file.rewind()?;
        write!(file, "{}", std::process::id())?;
        Ok(DaemonLock { _file: file })
    }
}
