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
