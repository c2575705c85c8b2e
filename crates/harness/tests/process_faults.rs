//! Services that behave badly as processes: one that forks 200 children
//! and exits, one that closes its stdout and runs on, one that writes
//! 200 MB at once. Nothing is left behind, nothing is mistaken for an end,
//! and memory stays bounded while rotation keeps up.

mod common;
use common::*;

/// The pids of the processes whose command line holds `marker`.
fn with_marker(marker: &str) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|c| String::from_utf8_lossy(&c).contains(marker))
        })
        .collect()
}

/// A process's peak resident memory, KiB.
fn peak_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
        .unwrap_or(0)
}

#[test]
fn a_service_that_forks_200_children_and_exits_leaves_none_behind() {
    // Each child sleeps for a length no other process uses, to be found.
    let s = Stack::new(
        "services:\n  forker:\n    command: \"for i in $(seq 1 200); do sleep 4242.$i & done; exit 0\"\n    restart: never\n",
    );
    let _ = s.harness(&["start", "forker", "--no-wait"]);
    // Its end is recorded with the code it exited with.
    let ended = || {
        s.history().iter().any(|h| {
            h["service"] == "forker" && h["reason"].as_str().unwrap_or("").contains("exit code 0")
        })
    };
    assert!(wait_for(20, ended), "{:?}", s.history());
    assert!(
        wait_for(10, || with_marker("sleep 4242.").is_empty()),
        "left behind: {:?}",
        with_marker("sleep 4242.")
    );
}

#[test]
fn a_service_that_closes_its_output_runs_on_and_stops_as_any_other() {
    let s = Stack::new(
        "services:\n  quiet:\n    command: \"echo bye; exec >&- 2>&-; exec sleep 1000\"\n",
    );
    assert_eq!(s.harness(&["start", "quiet"]).code, 0);
    let pid = s.pid("quiet").unwrap();
    std::thread::sleep(std::time::Duration::from_millis(500));
    let v = s.service("quiet");
    assert_eq!(v["status"], "running", "{v}");
    assert_eq!(s.pid("quiet"), Some(pid), "not restarted");
    assert_eq!(s.log("quiet"), "bye\n");
    assert_eq!(s.harness(&["stop", "quiet"]).code, 0);
    assert!(wait_for(5, || !alive(pid)));
}

#[test]
fn a_service_that_writes_200_mb_at_once_keeps_its_log_path_bounded() {
    let s = Stack::new(
        "services:\n  burst:\n    command: \"head -c 200000000 /dev/zero | tr '\\\\0' x | fold -w 99; echo done; exec sleep 1000\"\n    logs: { max_size: 10MiB, keep: 2 }\n",
    );
    assert_eq!(s.harness(&["start", "burst", "--no-wait"]).code, 0);
    s.status();
    assert!(
        wait_for(60, || s.log("burst").ends_with("done\n")),
        "the burst did not get through"
    );
    // Rotation kept up: never more than keep + 1 files, none past the
    // limit, and what is kept is whole lines.
    let logs = s.path().join(".harness/logs");
    let mut files: Vec<(String, u64)> = std::fs::read_dir(&logs)
        .unwrap()
        .map(|e| e.unwrap())
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                e.metadata().unwrap().len(),
            )
        })
        .filter(|(n, _)| n.starts_with("burst.log") && !n.ends_with(".idx"))
        .collect();
    files.sort();
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["burst.log", "burst.log.1", "burst.log.2"]);
    assert!(files.iter().all(|(_, len)| *len <= 10 << 20), "{files:?}");
    let last = std::fs::read_to_string(logs.join("burst.log.1")).unwrap();
    assert!(last.lines().all(|l| l.len() == 99), "whole lines only");
    // The shim's buffer is one pipe read at a time; the daemon never
    // holds the output.
    let pid = s.pid("burst").unwrap();
    let shim = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|st| {
            st.rsplit(')')
                .next()?
                .split_whitespace()
                .nth(1)?
                .parse::<u32>()
                .ok()
        })
        .unwrap();
    assert!(peak_kib(shim) < 8 << 10, "shim peak {} KiB", peak_kib(shim));
    let daemon = s.daemon_pid().unwrap();
    assert!(
        peak_kib(daemon) < 64 << 10,
        "daemon peak {} KiB",
        peak_kib(daemon)
    );
}

/// A process's soft and hard limits on open files, from
/// `/proc/PID/limits` ("Max open files  SOFT  HARD  files").
fn nofile(pid: u32) -> (u64, u64) {
    let text = std::fs::read_to_string(format!("/proc/{pid}/limits")).unwrap_or_default();
    let line = text.lines().find(|l| l.starts_with("Max open files"));
    let field = |k: usize| {
        line.and_then(|l| l.split_whitespace().nth(k)?.parse().ok())
            .unwrap_or(0)
    };
    (field(3), field(4))
}

#[test]
fn the_daemon_raises_its_open_file_limit_and_its_services_keep_the_users() {
    let s = Stack::new(
        "services:\n  api: { command: sleep 1000 }\n  counter:\n    command: \"ulimit -Sn; exec sleep 1000\"\n    health_check: { command: \"ulimit -Sn > probe.txt\", interval: 100ms }\n",
    );
    // The daemon is started by this command, with a soft limit of 512
    // under a higher hard one.
    let mut start = s.command(&["start", "--all"]);
    // SAFETY: setrlimit between fork and exec, with a valid pointer.
    unsafe {
        use std::os::unix::process::CommandExt;
        start.pre_exec(|| {
            let mut lim = libc::rlimit {
                rlim_cur: 0,
                rlim_max: 0,
            };
            libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim);
            lim.rlim_cur = 512.min(lim.rlim_max);
            libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
            Ok(())
        });
    }
    let out = run_within(&mut start, HARNESS_TIMEOUT);
    assert!(out.status.success(), "{out:?}");
    let daemon = s.daemon_pid().unwrap();
    let (soft, hard) = nofile(daemon);
    if hard <= 512 {
        eprintln!("the hard limit is {hard}: nothing to raise here");
        return;
    }
    assert_eq!(soft, hard.min(1 << 20), "raised to the hard limit");
    // The services, their shims and their probes see the user's 512.
    let api = s.pid("api").unwrap();
    assert_eq!(nofile(api).0, 512);
    assert!(
        wait_for(10, || s.log("counter").contains("512")),
        "{}",
        s.log("counter")
    );
    assert!(wait_for(10, || std::fs::read_to_string(
        s.path().join("probe.txt")
    )
    .is_ok_and(|t| t.trim() == "512")));
    assert_eq!(s.harness(&["stop", "--all"]).code, 0);
}
