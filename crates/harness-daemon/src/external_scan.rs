//! One look at the machine for services harness did not start: the TCP
//! sockets listening on the ports they are known by (`sock_diag`), the
//! process holding each (its socket's inode among
//! `/proc/PID/fd`), the processes `attach.process_name` names, and the
//! pids `attach.pidfile`s hold. `harness_core::external::find` decides
//! from that; this only reads.
//!
//! Cheap when nothing is there: one netlink question per address family,
//! and no process is looked at unless a socket listens on a wanted port,
//! a service names a process, or a pidfile holds a pid.

use harness_core::config::Service;
use harness_core::external::{Listening, ProcessFacts, Sightings};
use procfs::process::{FDTarget, Process};
use std::collections::{HashMap, HashSet};
use std::path::Path;

/// What `/proc` shows of `services` now (pidfiles are read from `root`,
/// the config's folder). `ours`: the daemon and the main process of each
/// of its runs; they and everything under them are harness's own.
pub fn look(root: &Path, services: &[&Service], ours: &[u32]) -> Sightings {
    let mut seen = Sightings::default();
    let ports: HashSet<u16> = services
        .iter()
        .flat_map(|s| harness_core::external::ports_of(s))
        .collect();
    let mut inodes = Vec::new();
    if !ports.is_empty() {
        let listening = crate::sock_diag::listening_tcp().unwrap_or_else(|e| {
            tracing::warn!(error = %e, "cannot ask the kernel for listening sockets over netlink; reading /proc/net/tcp instead");
            from_proc_net()
        });
        for l in listening {
            if ports.contains(&l.addr.port()) {
                seen.listening.push(Listening {
                    addr: l.addr,
                    uid: l.uid,
                    owner: None, // from the inode, below
                });
                inodes.push(l.inode);
            }
        }
    }
    for svc in services {
        let Some((path, _)) = svc.attach.as_ref().and_then(|a| a.pidfile.as_ref()) else {
            continue;
        };
        let pid = std::fs::read_to_string(root.join(path))
            .ok()
            .and_then(|t| t.lines().next()?.trim().parse::<u32>().ok());
        if let Some(pid) = pid {
            seen.pidfiles.push((path.clone(), pid));
        }
    }
    let names = services
        .iter()
        .any(|s| s.attach.as_ref().is_some_and(|a| a.process_name.is_some()));
    if inodes.is_empty() && !names && seen.pidfiles.is_empty() {
        return seen;
    }
    // Every process: who is whose child (to know harness's own), who
    // holds the sockets, and the facts of each.
    let mut holders: HashMap<u64, Vec<u32>> = HashMap::new();
    if let Ok(all) = procfs::process::all_processes() {
        for p in all.flatten() {
            let Some(facts) = facts_of(&p) else { continue };
            if !inodes.is_empty()
                && let Ok(fds) = p.fd()
            {
                for fd in fds.flatten() {
                    if let FDTarget::Socket(inode) = fd.target
                        && inodes.contains(&inode)
                    {
                        holders.entry(inode).or_default().push(facts.pid);
                    }
                }
            }
            seen.processes.push(facts);
        }
    }
    // A server that forks its workers shares its socket with them: the
    // owner is the holder whose parent does not hold it too.
    for (l, inode) in seen.listening.iter_mut().zip(&inodes) {
        let held = holders.get(inode).map(Vec::as_slice).unwrap_or_default();
        let parent = |pid: u32| seen.processes.iter().find(|p| p.pid == pid).map(|p| p.ppid);
        l.owner = held
            .iter()
            .copied()
            .find(|&pid| parent(pid).is_none_or(|pp| !held.contains(&pp)));
    }
    seen.ours = descendants(&seen.processes, ours);
    seen
}

/// The listening TCP sockets from `/proc/net/tcp` and `tcp6`: slower
/// (the kernel walks every connection), for a kernel without
/// `sock_diag`.
fn from_proc_net() -> Vec<crate::sock_diag::Listener> {
    [procfs::net::tcp(), procfs::net::tcp6()]
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.state == procfs::net::TcpState::Listen)
        .map(|e| crate::sock_diag::Listener {
            addr: e.local_address,
            uid: e.uid,
            inode: e.inode,
        })
        .collect()
}

/// A process's facts; none if it is gone, or is a kernel thread (no
/// command line, a child of kthreadd, pid 2).
fn facts_of(p: &Process) -> Option<ProcessFacts> {
    let stat = p.stat().ok()?;
    if stat.pid == 2 || stat.ppid == 2 {
        return None;
    }
    let argv = p.cmdline().unwrap_or_default();
    Some(ProcessFacts {
        pid: u32::try_from(stat.pid).ok()?,
        ppid: u32::try_from(stat.ppid).unwrap_or(0),
        start_time: stat.starttime,
        uid: p.uid().ok()?,
        name: stat.comm,
        argv,
    })
}

/// The TCP ports process `pid` listens on itself (its sockets among the
/// listening ones), all of them, not only those its service is known by:
/// what `harness adopt` shows, and what a replace waits to be free.
pub(crate) fn ports_held_by(pid: u32) -> Vec<u16> {
    let Ok(fds) = Process::new(pid as i32).and_then(|p| p.fd()) else {
        return Vec::new();
    };
    let held: HashSet<u64> = fds
        .flatten()
        .filter_map(|fd| match fd.target {
            FDTarget::Socket(inode) => Some(inode),
            _ => None,
        })
        .collect();
    if held.is_empty() {
        return Vec::new();
    }
    let listening = crate::sock_diag::listening_tcp().unwrap_or_else(|_| from_proc_net());
    let mut ports: Vec<u16> = listening
        .iter()
        .filter(|l| held.contains(&l.inode))
        .map(|l| l.addr.port())
        .collect();
    ports.sort_unstable();
    ports.dedup();
    ports
}

/// `pid` and every process under it now: what an adopted process that
/// leads no group of its own is stopped as.
pub(crate) fn tree_of(pid: u32) -> HashSet<u32> {
    let all: Vec<ProcessFacts> = procfs::process::all_processes()
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|p| facts_of(&p))
        .collect();
    descendants(&all, &[pid])
}

/// `roots` and every process under them, by parent links.
fn descendants(processes: &[ProcessFacts], roots: &[u32]) -> HashSet<u32> {
    let mut children: HashMap<u32, Vec<u32>> = HashMap::new();
    for p in processes {
        children.entry(p.ppid).or_default().push(p.pid);
    }
    let mut ours: HashSet<u32> = HashSet::new();
    let mut todo: Vec<u32> = roots.to_vec();
    while let Some(pid) = todo.pop() {
        if ours.insert(pid) {
            todo.extend(children.get(&pid).into_iter().flatten());
        }
    }
    ours
}

#[cfg(test)]
mod tests {
    use super::*;
    use harness_core::external::{Evidence, find};
    use std::os::unix::process::CommandExt;
    use std::process::{Child, Command, Stdio};

    /// A process started outside harness (its own session), killed when
    /// dropped.
    struct Outside(Child);

    impl Outside {
        fn start(cmd: &mut Command) -> Outside {
            // SAFETY: setsid between fork and exec.
            unsafe {
                cmd.pre_exec(|| {
                    libc::setsid();
                    Ok(())
                });
            }
            Outside(cmd.stdin(Stdio::null()).spawn().unwrap())
        }

        fn pid(&self) -> u32 {
            self.0.id()
        }
    }

    impl Drop for Outside {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }

    fn service(body: &str) -> Service {
        let yaml = format!("services:\n  db:\n    command: x\n{body}");
        harness_core::config::parse(&yaml, "services.yaml")
            .unwrap()
            .services
            .remove(0)
    }

    /// A listener on a free loopback port, ready once this returns.
    fn listener() -> (Outside, u16) {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let script = format!(
            "import socket,sys,time\ns=socket.socket()\ns.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\ns.bind(('127.0.0.1',{port}))\ns.listen()\nprint('up',flush=True)\ntime.sleep(60)\n"
        );
        let mut out = Outside::start(
            Command::new("python3")
                .args(["-c", &script])
                .stdout(Stdio::piped()),
        );
        let mut line = String::new();
        let stdout = out.0.stdout.take().unwrap();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line).unwrap();
        assert_eq!(line, "up\n");
        (out, port)
    }

    #[test]
    fn a_listener_started_outside_is_found_by_its_port_with_its_process() {
        let (outside, port) = listener();
        let svc = service(&format!(
            "    health_check: {{ tcp: \"127.0.0.1:{port}\" }}\n"
        ));
        let dir = tempfile::tempdir().unwrap();
        // (This test started it, so this test is not among harness's own
        // here; the daemon, which did not, is.)
        let seen = look(dir.path(), &[&svc], &[]);
        let found = find(&svc, &seen).expect("found");
        assert_eq!(found.pid(), Some(outside.pid()));
        assert_eq!(found.evidence, Evidence::Port(port));
        assert_eq!(found.ports, [port]);
        let p = found.process.unwrap();
        assert_eq!(
            Some(p.start_time),
            harness_store::start_time(p.pid),
            "the same clock as a run's identity"
        );
        assert!(p.argv[0].ends_with("python3"), "{:?}", p.argv);
        // Started by this process (as a shim starts a run): ours.
        drop(outside);
        let (outside, port) = listener();
        let svc = service(&format!("    attach: {{ port: {port} }}\n"));
        let seen = look(dir.path(), &[&svc], &[outside.pid()]);
        assert_eq!(find(&svc, &seen), None, "harness's own run is not external");
    }

    #[test]
    fn a_process_is_found_by_its_name_or_its_pidfile() {
        let outside =
            Outside::start(Command::new("bash").args(["-c", "exec -a hk-external-test sleep 60"]));
        let dir = tempfile::tempdir().unwrap();
        let svc = service("    attach: { process_name: hk-external-test }\n");
        // Found once bash has become it (exec with that argv[0]).
        let started = std::time::Instant::now();
        let found = loop {
            let found = find(&svc, &look(dir.path(), &[&svc], &[]));
            match found {
                Some(f) if f.pid() == Some(outside.pid()) => break f,
                _ if started.elapsed().as_secs() < 5 => {
                    std::thread::sleep(std::time::Duration::from_millis(10))
                }
                other => panic!("not found: {other:?}"),
            }
        };
        assert_eq!(
            found.evidence,
            Evidence::ProcessName("hk-external-test".into())
        );
        std::fs::write(dir.path().join("x.pid"), format!("{}\n", outside.pid())).unwrap();
        let svc = service("    attach: { pidfile: x.pid }\n");
        let found = find(&svc, &look(dir.path(), &[&svc], &[])).unwrap();
        assert_eq!(found.pid(), Some(outside.pid()));
        assert_eq!(found.evidence, Evidence::Pidfile("x.pid".into()));
    }

    #[test]
    fn nothing_listening_is_nothing_found() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let svc = service(&format!(
            "    health_check: {{ tcp: \"127.0.0.1:{port}\" }}\n"
        ));
        let dir = tempfile::tempdir().unwrap();
        let seen = look(dir.path(), &[&svc], &[]);
        assert!(seen.listening.is_empty() && seen.processes.is_empty());
        assert_eq!(find(&svc, &seen), None);
    }
}
