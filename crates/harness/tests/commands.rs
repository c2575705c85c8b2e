//! restart, health, logs -f across a restart, Ctrl-C during start.

mod common;
use common::*;
use std::process::Stdio;
use std::time::Duration;

/// How long a test waits for the next line a command prints.
const LINE: Duration = Duration::from_secs(30);

#[test]
fn restart_gives_a_new_process() {
    let s = Stack::new("services:\n  a:\n    command: sleep 1000\n");
    assert_eq!(s.harness(&["start", "a"]).code, 0);
    let before = s.pid("a").unwrap();
    let r = s.harness(&["restart", "a"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let after = s.pid("a").unwrap();
    assert_ne!(before, after);
    assert!(!alive(before));
}

#[test]
fn health_runs_the_checks_now_and_exits_3_on_failure() {
    let port = free_port();
    let s = Stack::new(&format!(
        "services:\n  up:\n    command: sleep 1000\n  down:\n    command: sleep 1000\n    health_check: {{ tcp: \"127.0.0.1:{port}\" }}\n"
    ));
    assert_eq!(s.harness(&["start", "up"]).code, 0);
    let r = s.harness(&["health", "up"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains("✓ up"), "{}", r.stdout);
    assert_eq!(s.harness(&["start", "down", "--no-wait"]).code, 0);
    let r = s.harness(&["health"]);
    assert_eq!(r.code, 3, "{}", r.all());
    assert!(
        r.stdout.contains("✗ down") && r.stdout.contains("cannot connect"),
        "{}",
        r.stdout
    );
}

#[test]
fn logs_follow_keeps_following_across_a_restart() {
    let s = Stack::new("services:\n  talker:\n    command: echo \"hello from $$\"; sleep 1000\n");
    assert_eq!(s.harness(&["start", "talker"]).code, 0);
    let first = s.pid("talker").unwrap();
    let mut follower =
        Background::start(s.command(&["logs", "talker", "-f"]).stdout(Stdio::piped()));
    assert_eq!(
        follower.next_line(LINE).unwrap(),
        format!("hello from {first}")
    );
    assert_eq!(s.harness(&["restart", "talker"]).code, 0);
    let second = s.pid("talker").unwrap();
    let next = follower.next_line(LINE).unwrap();
    drop(follower);
    assert_eq!(next, format!("hello from {second}"));
}

#[test]
fn ctrl_c_during_start_leaves_started_services_and_starts_nothing_more() {
    // slow is healthy once a file `up` exists, which the test makes only
    // after the interrupt.
    let s = Stack::new(
        "services:\n  db:\n    command: sleep 1000\n  slow:\n    command: sleep 1000\n    depends_on: [db]\n    health_check: { command: \"test -f up\", interval: 100ms }\n  after:\n    command: sleep 1000\n    depends_on: [slow]\n",
    );
    let mut cli = Background::start(
        s.command(&["start", "--all"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
    );
    while let Some(line) = cli.next_line(LINE) {
        if line.contains("slow") && line.contains("starting") {
            break;
        }
    }
    kill(cli.pid(), libc::SIGINT);
    let status = cli.wait(HARNESS_TIMEOUT);
    assert_eq!(status.code(), Some(130));
    // The daemon drops the start when the command's connection closes,
    // which it did as the command exited. A start still under way would
    // start `after` in the same step that finds slow healthy, so once
    // status shows slow healthy, `after` not running means the start is
    // over (rather than not yet come to it).
    std::fs::write(s.path().join("up"), "").unwrap();
    assert!(
        wait_for(10, || s.service("slow")["health"] == "healthy"),
        "{}",
        s.service("slow")
    );
    assert!(s.pid("db").is_some(), "started services keep running");
    assert!(
        s.pid("slow").is_some(),
        "the one being waited for keeps running"
    );
    assert_eq!(s.pid("after"), None, "nothing more is started");
    assert_eq!(s.service("after")["status"], "stopped");
}

#[test]
fn a_command_probe_that_overruns_its_timeout_is_killed_with_what_it_started() {
    let s = Stack::new(
        "services:\n  db:\n    command: sleep 1000\n    health_check: { command: \"sleep 31.123 & sleep 31.123\", timeout: 300ms }\n",
    );
    let r = s.harness(&["start", "db", "--no-wait"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let r = s.harness(&["health", "db"]);
    assert_eq!(r.code, 3, "{}", r.all());
    assert!(r.all().contains("timed out after 300ms"), "{}", r.all());
    let leftovers = || {
        std::fs::read_dir("/proc")
            .unwrap()
            .flatten()
            .filter(|e| {
                std::fs::read(e.path().join("cmdline"))
                    .map(|c| c.windows(6).any(|w| w == b"31.123"))
                    .unwrap_or(false)
            })
            .count()
    };
    // No more probes once it is stopped: whatever is left was left behind.
    assert_eq!(s.harness(&["stop", "db"]).code, 0);
    let ok = wait_for(3, || leftovers() == 0);
    if !ok {
        let out = run_within(
            std::process::Command::new("ps").args(["-eo", "pid,pgid,ppid,stat,etimes,cmd"]),
            Duration::from_secs(10),
        );
        panic!(
            "probe processes left behind:\n{}",
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .filter(|l| l.contains("31.123"))
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}

#[test]
fn a_reader_that_goes_away_ends_the_command_like_any_unix_tool() {
    use std::os::unix::process::ExitStatusExt;
    let s = Stack::new("services:\n  a:\n    command: sleep 1000\n");
    assert_eq!(s.harness(&["start", "a"]).code, 0);
    // `harness status | true`: the pipe's read end is closed before a line is written.
    let mut child = Background::start(
        s.command(&["status"])
            .stdout(reader_gone())
            .stderr(Stdio::piped()),
    );
    let status = child.wait(HARNESS_TIMEOUT);
    let stderr = child.stderr_to_end(HARNESS_TIMEOUT);
    assert_eq!(status.signal(), Some(libc::SIGPIPE), "{status:?}: {stderr}");
    assert!(stderr.is_empty(), "no panic: {stderr}");
}
