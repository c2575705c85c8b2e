//! A project in a temporary folder, driven through the real `harness`
//! binary. Dropping it stops every service and the daemon, and kills any
//! process group the test saw, so no test leaves processes behind.

#![allow(dead_code, reason = "each test binary uses a different part")]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

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
            seen_pids: Default::default(),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn harness(&self, args: &[&str]) -> Run {
        let out = Command::new(env!("CARGO_BIN_EXE_harness"))
            .args(args)
            .current_dir(self.path())
            .env_remove("HARNESS_FILE")
            .output()
            .expect("run harness");
        Run::from(out)
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

    pub fn log(&self, name: &str) -> String {
        std::fs::read_to_string(self.path().join(format!(".harness/logs/{name}.log")))
            .unwrap_or_default()
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        let _ = self.harness(&["stop", "--all"]);
        let daemon = self.daemon_pid();
        let _ = self.harness(&["daemon", "stop"]);
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

/// A python one-liner that listens on `port` after `delay_ms`.
pub fn listener(port: u16, delay_ms: u64) -> String {
    format!(
        "python3 -c \"import socket,time; time.sleep({}); s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('127.0.0.1', {port})); s.listen(); print('listening on {port}', flush=True); time.sleep(100000)\"",
        delay_ms as f64 / 1000.0
    )
}

pub fn bin_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_harness"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// A plain HTTP/1.1 exchange over any stream: `(status code, body)`.
pub fn http(
    mut stream: impl std::io::Read + std::io::Write,
    method: &str,
    path: &str,
) -> (u16, String) {
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: harness\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = String::new();
    stream.read_to_string(&mut raw).unwrap();
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
