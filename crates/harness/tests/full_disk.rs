//! A full log disk: the service's output waits (its pipe fills and it
//! blocks) rather than lines being dropped; `status` and `daemon.log` say
//! so; once there is room, capture goes on with nothing lost or torn.
//! The logs folder is a 5 MB tmpfs, so this needs root (CI runs as root).

mod common;
use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A tmpfs mounted for the test, unmounted when it ends.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(at: &Path, size: &str) -> Option<Tmpfs> {
        std::fs::create_dir_all(at).unwrap();
        let ok = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0700"),
                "tmpfs",
            ])
            .arg(at)
            .status()
            .is_ok_and(|s| s.success());
        ok.then(|| Tmpfs(at.to_path_buf()))
    }
}

impl Drop for Tmpfs {
    /// Stops the stack's services and daemon while their state is still
    /// mounted (the stack's own cleanup runs after this, and would find
    /// none), then unmounts.
    fn drop(&mut self) {
        let state = [self.0.clone(), self.0.join(".harness")]
            .into_iter()
            .find(|p| p.join("daemon.lock").exists());
        if let Some(state) = state {
            let root = state.parent().unwrap_or(&state).to_path_buf();
            for args in [&["stop", "--all"][..], &["daemon", "stop"][..]] {
                let _ = Command::new(env!("CARGO_BIN_EXE_harness"))
                    .args(args)
                    .current_dir(&root)
                    .output();
            }
            let pid = std::fs::read_to_string(state.join("daemon.lock"))
                .ok()
                .and_then(|t| t.trim().parse::<i32>().ok());
            if let Some(pid) = pid {
                // SAFETY: SIGKILL to the daemon this test started.
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
        }
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

#[test]
fn a_full_log_disk_holds_the_service_back_and_loses_nothing() {
    let s = Stack::new(
        "services:\n  talker:\n    command: \"seq 1 500000; echo end; exec sleep 1000\"\n    logs: { keep: 0 }\n",
    );
    let logs = s.path().join(".harness/logs");
    let Some(_tmpfs) = Tmpfs::mount(&logs, "5m") else {
        eprintln!("mounting a tmpfs needs root: not run here");
        return;
    };
    // Leave about half a megabyte: the 3.4 MB the service prints do not fit.
    let filler = logs.join("filler");
    std::fs::write(&filler, vec![0u8; 4_500_000]).unwrap();
    assert_eq!(s.harness(&["start", "talker", "--no-wait"]).code, 0);
    let notes = || {
        s.service("talker")["notes"]
            .as_str()
            .unwrap_or("")
            .to_string()
    };
    assert!(
        wait_for(15, || notes().contains("log disk full")),
        "{}",
        s.service("talker")
    );
    let daemon_log = || std::fs::read_to_string(s.path().join(".harness/daemon.log")).unwrap();
    assert!(
        daemon_log().contains("the log's disk is full"),
        "{}",
        daemon_log()
    );
    // Held back, not dead, and not done.
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert_eq!(s.service("talker")["status"], "running");
    assert!(!s.log("talker").contains("end\n"));
    // Room again: everything arrives, in order, whole.
    std::fs::remove_file(&filler).unwrap();
    assert!(
        wait_for(30, || s.log("talker").ends_with("end\n")),
        "the output did not go on"
    );
    let log = s.log("talker");
    let lines: Vec<&str> = log.lines().collect();
    assert_eq!(lines.len(), 500_001);
    for (k, line) in lines[..500_000].iter().enumerate() {
        assert_eq!(*line, (k + 1).to_string(), "line {k}");
    }
    let index = std::fs::metadata(logs.join("talker.log.idx"))
        .unwrap()
        .len();
    assert_eq!(index % 16, 0, "the index holds whole records");
    assert!(
        wait_for(5, || !notes().contains("log disk full")),
        "{}",
        notes()
    );
    assert!(daemon_log().contains("room on the log's disk again"));
    assert_eq!(s.harness(&["stop", "talker"]).code, 0);
}

/// Fills the filesystem of `dir` to the last byte with a file there.
fn fill(dir: &Path) -> PathBuf {
    use std::io::Write;
    let path = dir.join("filler");
    let mut f = std::fs::File::create(&path).unwrap();
    let chunk = vec![0u8; 4096];
    while f.write_all(&chunk).is_ok() {}
    while f.write_all(&chunk[..1]).is_ok() {}
    let _ = f.sync_all();
    path
}

#[test]
fn a_full_state_disk_keeps_the_daemon_going_and_loses_no_history() {
    let s = Stack::new("services:\n  api: { command: sleep 1000 }\n");
    let Some(_tmpfs) = Tmpfs::mount(&s.path().join(".harness"), "5m") else {
        eprintln!("mounting a tmpfs needs root: not run here");
        return;
    };
    assert_eq!(s.harness(&["start", "api"]).code, 0);
    let daemon = s.daemon_pid().unwrap();
    let filler = fill(&s.path().join(".harness"));
    // Stops and starts until a write finds no room (the database's log
    // may have room for the first few).
    let warning = || s.status()["warning"].as_str().map(String::from);
    let mut cycles = 0;
    while warning().is_none() && cycles < 20 {
        assert_eq!(s.harness(&["stop", "api"]).code, 0);
        assert_eq!(s.harness(&["start", "api"]).code, 0);
        cycles += 1;
    }
    let said = warning().expect("status says there is no room");
    assert!(said.starts_with("no room for the state database"), "{said}");
    let r = s.harness(&["status"]);
    assert!(
        r.stdout.contains("Warning: no room for the state database"),
        "{}",
        r.stdout
    );
    assert_eq!(s.daemon_pid(), Some(daemon), "the daemon goes on");
    // Room again: what waited is written, and the warning goes.
    std::fs::remove_file(&filler).unwrap();
    assert!(wait_for(10, || warning().is_none()), "{:?}", warning());
    let log = std::fs::read_to_string(s.path().join(".harness/daemon.log")).unwrap();
    assert!(log.contains("room for the state database again"), "{log}");
    // Every stop and start is in the history.
    let history = s.history();
    let rows = |to: &str| {
        history
            .iter()
            .filter(|h| h["service"] == "api" && h["to"] == to)
            .count()
    };
    assert_eq!(rows("stopped"), cycles, "{history:?}");
    assert_eq!(rows("starting"), cycles + 1, "{history:?}");
}

#[test]
fn output_left_when_a_service_ends_on_a_full_disk_waits_and_keeps_its_stream() {
    let s = Stack::new(
        "services:\n  talker:\n    command: \"seq 1 2000; printf 'last words' >&2; exit 3\"\n    restart: never\n",
    );
    let logs = s.path().join(".harness/logs");
    let Some(_tmpfs) = Tmpfs::mount(&logs, "5m") else {
        eprintln!("mounting a tmpfs needs root: not run here");
        return;
    };
    // No room at all: not even the first index record is taken. The
    // service's 9 KB fit in its pipes, so it ends while they are unread.
    let filler = fill(&logs);
    assert_eq!(s.harness(&["start", "talker", "--no-wait"]).code, 0);
    let daemon_log = || std::fs::read_to_string(s.path().join(".harness/daemon.log")).unwrap();
    assert!(
        wait_for(15, || daemon_log().contains("the log's disk is full")),
        "{}",
        daemon_log()
    );
    // Past the shim's half-second drain of the pipes after the service's
    // end: the rest must have been read then, not left in the pipe.
    std::thread::sleep(std::time::Duration::from_millis(800));
    std::fs::remove_file(&filler).unwrap();
    assert!(
        wait_for(10, || s.service("talker")["status"] != "running"
            && s.log("talker").contains("last words")),
        "{} / {:?}",
        s.service("talker"),
        s.log("talker")
    );
    let log = s.log("talker");
    let lines: Vec<&str> = log.lines().collect();
    assert_eq!(lines.len(), 2001, "{log}");
    for (k, line) in lines[..2000].iter().enumerate() {
        assert_eq!(*line, (k + 1).to_string(), "line {k}");
    }
    assert_eq!(lines[2000], "last words");
    let index = std::fs::metadata(logs.join("talker.log.idx"))
        .unwrap()
        .len();
    assert_eq!(index % 16, 0, "the index holds whole records");
    // The unfinished stderr line was kept with its own record: stderr.
    let r = s.harness(&["logs", "talker", "--json"]);
    let last: serde_json::Value =
        serde_json::from_str(r.stdout.lines().last().unwrap_or("null")).unwrap();
    assert_eq!(last["line"], "last words", "{}", r.stdout);
    assert_eq!(last["stream"], "stderr", "{last}");
    let first: serde_json::Value =
        serde_json::from_str(r.stdout.lines().next().unwrap_or("null")).unwrap();
    assert_eq!(first["stream"], "stdout", "{first}");
    assert!(!daemon_log().contains("are lost"), "{}", daemon_log());
}

#[test]
fn a_run_that_ends_on_a_full_state_disk_still_leaves_its_exit_code() {
    let s =
        Stack::new("services:\n  brief:\n    command: \"sleep 2; exit 7\"\n    restart: never\n");
    let Some(_tmpfs) = Tmpfs::mount(&s.path().join(".harness"), "5m") else {
        eprintln!("mounting a tmpfs needs root: not run here");
        return;
    };
    assert_eq!(s.harness(&["start", "brief"]).code, 0);
    // No room for an exit file when it ends: its room was taken at start.
    let filler = fill(&s.path().join(".harness"));
    assert!(
        wait_for(15, || s.service("brief")["status"] != "running"),
        "{}",
        s.service("brief")
    );
    let notes = s.service("brief")["notes"]
        .as_str()
        .unwrap_or("")
        .to_string();
    assert!(notes.contains("exit code 7"), "{notes}");
    assert!(!notes.contains("lost"), "{notes}");
    std::fs::remove_file(&filler).unwrap();
}
