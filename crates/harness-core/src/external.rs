//! Services harness did not start: what the state check concludes from
//! what the daemon saw on the machine (`/proc`), before it starts one.
//! A postgres started by systemd, by hand or by another project must not
//! get a second one beside it (which dies on the port in use), nor have
//! its health check taken for harness's own instance.
//!
//! The daemon gathers the facts; this decides, without touching anything.

use crate::config::{Probe, Service};
use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::PathBuf;

/// A process, as `/proc/PID` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessFacts {
    pub pid: u32,
    /// Its parent's pid.
    pub ppid: u32,
    /// Clock ticks since boot: with the pid, names this process for good.
    pub start_time: u64,
    pub uid: u32,
    /// `/proc/PID/comm` (the kernel keeps 15 bytes of it).
    pub name: String,
    pub argv: Vec<String>,
}

/// A TCP socket listening on this machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listening {
    pub addr: SocketAddr,
    /// Whose socket it is.
    pub uid: u32,
    /// The process holding it, when its descriptors could be read
    /// (another user's cannot, unless harness runs as root).
    pub owner: Option<u32>,
}

/// What the daemon saw, for one look at the machine.
#[derive(Debug, Clone, Default)]
pub struct Sightings {
    /// The listening sockets on the ports services are known by.
    pub listening: Vec<Listening>,
    /// The processes: every one, when anything was worth a look (a
    /// socket on a wanted port, a name, a pidfile), else none.
    pub processes: Vec<ProcessFacts>,
    /// The pid each `attach.pidfile` holds, by the path as written.
    pub pidfiles: Vec<(PathBuf, u32)>,
    /// Processes that are harness's own: the daemon, its shims and
    /// everything under them. Never external.
    pub ours: HashSet<u32>,
}

/// Why a process is taken for the service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Evidence {
    /// Something listens on a port the service is known by.
    Port(u16),
    /// A process of the name `attach.process_name` gives.
    ProcessName(String),
    /// The pid in `attach.pidfile`.
    Pidfile(PathBuf),
}

/// An instance of a service that harness did not start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct External {
    /// Its process, when it could be named; with its start time, so a
    /// later look knows it is the same one.
    pub process: Option<ProcessFacts>,
    /// Whose it is, when known (a socket's owner is, even when its
    /// process cannot be read).
    pub uid: Option<u32>,
    pub evidence: Evidence,
    /// The ports it listens on, of those the service is known by.
    pub ports: Vec<u16>,
}

impl External {
    pub fn pid(&self) -> Option<u32> {
        self.process.as_ref().map(|p| p.pid)
    }
}

/// The TCP ports on this machine a service is known by: `attach.port`,
/// `socket:`, and what its readiness and startup checks reach on this
/// machine (a check of another host says nothing about this one).
pub fn ports_of(svc: &Service) -> Vec<u16> {
    let mut ports = Vec::new();
    if let Some(p) = svc.attach.as_ref().and_then(|a| a.port) {
        ports.push(p);
    }
    if let Some((addr, _)) = &svc.socket {
        ports.push(addr.port());
    }
    for check in [&svc.health_check, &svc.startup].into_iter().flatten() {
        let target = match &check.probe {
            Probe::Tcp(t) => t.as_str(),
            Probe::Http(url) => crate::config::validate::authority(url),
            Probe::Command(_) => continue,
        };
        if let Some(p) = local_port(target) {
            ports.push(p);
        }
    }
    ports.sort_unstable();
    ports.dedup();
    ports
}

/// The port of `host:port` (or `[v6]:port`, or a host alone: 80) when the
/// host is this machine.
fn local_port(target: &str) -> Option<u16> {
    let (host, port) = crate::config::validate::host_port(target)?;
    let local = match host.parse::<std::net::IpAddr>() {
        Ok(ip) => ip.is_loopback() || ip.is_unspecified(),
        Err(_) => host == "localhost",
    };
    local.then(|| port.parse().ok()).flatten()
}

/// Whether process `p` may be taken for a service: never PID 1, nor
/// harness's own (the daemon, a shim, a managed run and its children).
fn eligible(p: &ProcessFacts, seen: &Sightings) -> bool {
    p.pid != 1 && !seen.ours.contains(&p.pid)
}

/// Why harness must not adopt or stop process `p`, if it must not: PID 1
/// (the machine's init), a harness daemon or shim (this project's or
/// another's), or, unless harness runs as root (`my_uid` 0), another
/// user's process.
pub fn untouchable(p: &ProcessFacts, my_uid: u32) -> Option<String> {
    let pid = p.pid;
    if pid == 1 {
        return Some("PID 1 is the machine's init: harness never adopts or stops it".into());
    }
    if matches!(p.name.as_str(), "harness" | "harness-shim") {
        return Some(format!(
            "PID {pid} is harness's own ({}): harness never adopts or stops it",
            p.name
        ));
    }
    if my_uid != 0 && p.uid != my_uid {
        return Some(format!(
            "PID {pid} belongs to another user (uid {}): harness adopts and stops only its              user's processes, unless it runs as root",
            p.uid
        ));
    }
    None
}

/// An instance of `svc` that harness did not start, if `seen` shows one:
/// the pid in its pidfile (alive), else a process of its name, else what
/// listens on one of its ports. A port held by harness itself (a
/// `socket:` the daemon keeps open, or another managed run) is not one.
pub fn find(svc: &Service, seen: &Sightings) -> Option<External> {
    let ports = ports_of(svc);
    let process = |pid: u32| seen.processes.iter().find(|p| p.pid == pid);
    let listening_on = |pid: Option<u32>| -> Vec<u16> {
        let mut on: Vec<u16> = seen
            .listening
            .iter()
            .filter(|l| ports.contains(&l.addr.port()) && (pid.is_none() || l.owner == pid))
            .map(|l| l.addr.port())
            .collect();
        on.sort_unstable();
        on.dedup();
        on
    };
    let found = |p: &ProcessFacts, evidence: Evidence| External {
        process: Some(p.clone()),
        uid: Some(p.uid),
        evidence,
        ports: listening_on(Some(p.pid)),
    };
    if let Some(attach) = &svc.attach {
        if let Some((path, _)) = &attach.pidfile
            && let Some((_, pid)) = seen.pidfiles.iter().find(|(p, _)| p == path)
            && let Some(p) = process(*pid).filter(|p| eligible(p, seen))
        {
            return Some(found(p, Evidence::Pidfile(path.clone())));
        }
        if let Some(name) = &attach.process_name {
            let named = |p: &ProcessFacts| eligible(p, seen) && is_named(p, name);
            // The one at the top: postgres's backends are postgres too,
            // children of the one that is the service.
            let top = seen
                .processes
                .iter()
                .filter(|p| named(p) && !process(p.ppid).is_some_and(named))
                .min_by_key(|p| (p.start_time, p.pid));
            if let Some(p) = top {
                return Some(found(p, Evidence::ProcessName(name.clone())));
            }
        }
    }
    // Every socket on its ports: one harness holds (the daemon's
    // `socket:`) says nothing, another may still be an instance outside.
    let on_ports = || {
        seen.listening
            .iter()
            .filter(|l| ports.contains(&l.addr.port()))
    };
    let owned = on_ports().find_map(|l| {
        let p = process(l.owner?).filter(|p| eligible(p, seen))?;
        Some(found(p, Evidence::Port(l.addr.port())))
    });
    owned.or_else(|| {
        let unseen = on_ports().find(|l| l.owner.is_none())?;
        Some(External {
            process: None,
            uid: Some(unseen.uid),
            evidence: Evidence::Port(unseen.addr.port()),
            ports: listening_on(None),
        })
    })
}

/// Whether `p` goes by `name`: its `comm` (cut to 15 bytes by the
/// kernel) or the file name of its argv\[0\].
fn is_named(p: &ProcessFacts, name: &str) -> bool {
    let comm_of_name = &name.as_bytes()[..name.len().min(15)];
    p.name.as_bytes() == comm_of_name
        || p.argv.first().is_some_and(|a0| {
            std::path::Path::new(a0)
                .file_name()
                .is_some_and(|f| f == name)
        })
}

#[cfg(test)]
mod tests;
