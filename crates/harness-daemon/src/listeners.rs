//! The listening sockets of services with `socket:`. The daemon binds each
//! once and hands a copy to every run of its service as fd 3, so the port
//! stays open — connections wait in its queue, none is refused — while a
//! run restarts or a deploy replaces one version with the next. Each
//! run's shim holds its copy for the run's life: a new daemon takes the
//! socket back from a running shim (`pidfd_getfd`) instead of binding a
//! second one it could not. A socket is closed once its service has no
//! process and none is due (see [`Listeners::release`]).

use socket2::{Domain, Socket, Type};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// Room for connections that arrive while no run accepts (a restart, the
/// moment between two versions).
const BACKLOG: i32 = 1024;

/// Each service's listening socket, by service name.
#[derive(Default)]
pub struct Listeners {
    open: HashMap<String, (SocketAddr, OwnedFd)>,
}

impl Listeners {
    /// A copy of `service`'s socket on `addr` for a new run, bound now if
    /// it has none (or one on another address: the file changed).
    pub fn for_run(&mut self, service: &str, addr: SocketAddr) -> Result<OwnedFd, String> {
        if let Some((a, fd)) = self.open.get(service)
            && *a == addr
        {
            return fd.try_clone().map_err(|e| format!("socket {addr}: {e}"));
        }
        let fd = bind(addr).map_err(|e| format!("cannot listen on {addr}: {e}"))?;
        let copy = fd.try_clone().map_err(|e| format!("socket {addr}: {e}"))?;
        tracing::info!(service, %addr, "listening for the service");
        self.open.insert(service.to_string(), (addr, fd));
        Ok(copy)
    }

    /// Takes `service`'s socket back from the shim (pid `shim_pid`, start
    /// time `shim_start`) of a run a previous daemon started: its fd 3, if
    /// that is a TCP listener.
    pub fn adopt(&mut self, service: &str, shim_pid: u32, shim_start: u64) {
        match take_from(shim_pid, shim_start) {
            Ok((addr, fd)) => {
                tracing::info!(service, %addr, shim = shim_pid, "took the service's socket back from its shim");
                self.open.insert(service.to_string(), (addr, fd));
            }
            Err(e) => {
                tracing::warn!(service, shim = shim_pid, error = %e, "cannot take the service's socket back from its shim; a new run can bind it only once this run has let go of it (stop-first)");
            }
        }
    }

    /// Closes each socket no run needs any more (`needed(service, addr)`
    /// false): a stopped service's port is closed, as it would be without
    /// harness in between, and so is one its new version does not use.
    pub fn release(&mut self, needed: impl Fn(&str, SocketAddr) -> bool) {
        self.open.retain(|service, (addr, _)| {
            let keep = needed(service, *addr);
            if !keep {
                tracing::info!(service = %service, %addr, "closed the service's socket");
            }
            keep
        });
    }

    /// Whether any socket is open.
    pub fn is_empty(&self) -> bool {
        self.open.is_empty()
    }
}

/// A TCP listener on `addr`, close-on-exec (a copy goes to fd 3 of a
/// shim explicitly), with address reuse so a port a stopped run left in
/// TIME_WAIT can be bound again at once.
fn bind(addr: SocketAddr) -> std::io::Result<OwnedFd> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    socket.set_reuse_address(true)?;
    socket.bind(&addr.into())?;
    socket.listen(BACKLOG)?;
    Ok(socket.into())
}

/// fd 3 of process `pid` (started at `start`), if it is a listening TCP
/// socket, with its address. The shim allows this (see the shim's
/// `allow_any_tracer`).
fn take_from(pid: u32, start: u64) -> Result<(SocketAddr, OwnedFd), String> {
    // SAFETY: pidfd_open takes a pid and flags; returns a new fd or -1.
    let pidfd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid as libc::pid_t, 0) };
    if pidfd < 0 {
        return Err(format!("pidfd_open: {}", std::io::Error::last_os_error()));
    }
    // SAFETY: the fd was just created for us.
    let pidfd = unsafe { OwnedFd::from_raw_fd(pidfd as i32) };
    // The pidfd holds the process: if it is still the shim recorded, it
    // stays that one (a reused pid is never read from).
    if !harness_store::same_process(pid, start) {
        return Err("the shim is gone".into());
    }
    // SAFETY: pidfd_getfd takes a pidfd, a target fd number and flags;
    // returns a new fd (close-on-exec) or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_getfd, pidfd.as_raw_fd(), 3, 0) };
    if fd < 0 {
        return Err(format!("pidfd_getfd: {}", std::io::Error::last_os_error()));
    }
    // SAFETY: a new fd, ours alone.
    let socket = Socket::from(unsafe { OwnedFd::from_raw_fd(fd as i32) });
    let listening = socket.is_listener().map_err(|e| format!("fd 3: {e}"))?;
    let addr = socket
        .local_addr()
        .ok()
        .and_then(|a| a.as_socket())
        .filter(|_| listening)
        .ok_or("its fd 3 is not a listening TCP socket")?;
    Ok((addr, socket.into()))
}
