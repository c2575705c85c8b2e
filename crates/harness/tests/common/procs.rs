//! The processes of the machine, as `/proc` shows them.

use std::time::{Duration, Instant};

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
