//! The daemon can die without taking services along, and comes back to them.

mod common;
use common::*;

#[test]
fn sigkilled_daemon_stops_nothing_and_the_next_one_reattaches() {
    let s = Stack::new(
        "services:\n  steady:\n    command: while true; do echo tick; sleep 0.05; done\n  doomed:\n    command: sleep 1000\n    restart: never\n",
    );
    assert_eq!(s.harness(&["start", "--all"]).code, 0);
    let steady = s.pid("steady").unwrap();
    let doomed = s.pid("doomed").unwrap();
    let daemon = s.daemon_pid().expect("daemon pid in lock file");
    s.kill_daemon();

    // While no daemon runs: the service keeps logging, and one service dies.
    let before = s.log("steady").lines().count();
    assert!(
        wait_for(5, || s.log("steady").lines().count() > before + 5),
        "still logging without a daemon"
    );
    kill(doomed, libc::SIGKILL);
    assert!(wait_for(5, || !alive(doomed)));

    // The next command starts a new daemon, which finds both.
    let st = s.service("steady");
    assert_eq!(
        st["pid"].as_u64(),
        Some(steady as u64),
        "re-attached to the same process"
    );
    assert_eq!(st["status"], "running");
    let d = s.service("doomed");
    assert_eq!(d["status"], "exited", "{d}");
    assert_eq!(d["notes"], "exited: killed by signal 9");
    assert_ne!(s.daemon_pid(), Some(daemon));

    // And it still supervises: stop reaches the re-attached process.
    assert_eq!(s.harness(&["stop", "--all"]).code, 0);
    assert!(wait_for(5, || group_members(steady).is_empty()));
}

#[test]
fn exit_code_of_a_run_that_ended_without_a_daemon_is_reported() {
    let s = Stack::new("services:\n  short:\n    command: sleep 1.5; exit 7\n    restart: never\n");
    assert_eq!(s.harness(&["start", "short"]).code, 0);
    let pid = s.pid("short").unwrap();
    let daemon = s.daemon_pid().unwrap();
    kill(daemon, libc::SIGKILL);
    assert!(wait_for(10, || !alive(pid)), "the service ends on its own");
    let st = s.service("short");
    assert_eq!(
        (st["status"].as_str(), st["exit_code"].as_i64()),
        (Some("exited"), Some(7)),
        "{st}"
    );
}

#[test]
fn a_second_daemon_for_the_same_project_refuses_to_start() {
    let s = Stack::new("services:\n  a:\n    command: sleep 1000\n");
    s.status(); // starts the daemon
    // A second daemon that did not refuse would run until its deadline.
    let out = s.harness(&["daemon", "run"]);
    assert_ne!(out.code, 0);
    let err = out.stderr;
    assert!(err.contains("another harness daemon"), "{err}");
}

#[test]
fn socket_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let s = Stack::new("services:\n  a:\n    command: sleep 1000\n");
    s.status();
    let mode = std::fs::metadata(s.path().join(".harness/harness.sock"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let folder = std::fs::metadata(s.path().join(".harness"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(folder & 0o777, 0o700, "logs and state are the user's alone");
}

/// The shims among `daemon`'s children: the spare one waits for a job.
fn shims_of(daemon: u32) -> Vec<u32> {
    children_of(daemon)
        .into_iter()
        .filter(|p| {
            std::fs::read(format!("/proc/{p}/cmdline"))
                .is_ok_and(|c| c.windows(12).any(|w| w == b"harness-shim"))
        })
        .collect()
}

#[test]
fn the_spare_shim_starts_the_next_service_and_leaves_with_the_daemon() {
    let s = Stack::new("services:\n  a:\n    command: sleep 1000\n  b:\n    command: sleep 1000\n");
    assert_eq!(s.harness(&["status"]).code, 0);
    let daemon = s.daemon_pid().unwrap();
    assert!(
        wait_for(5, || shims_of(daemon).len() == 1),
        "one spare waits"
    );
    let spare = shims_of(daemon)[0];

    // The spare runs the first service started; a new spare takes its place.
    assert_eq!(s.harness(&["start", "a"]).code, 0);
    let a = s.pid("a").unwrap();
    assert_eq!(children_of(spare), vec![a], "the spare became a's shim");
    assert!(wait_for(5, || shims_of(daemon).len() == 2));
    let next = *shims_of(daemon).iter().find(|p| **p != spare).unwrap();
    assert!(children_of(next).is_empty(), "the new spare waits");

    // A spare that died is replaced: b still starts.
    kill(next, libc::SIGKILL);
    assert!(wait_for(5, || !alive(next)));
    assert_eq!(
        s.harness(&["start", "b"]).code,
        0,
        "b starts without the spare"
    );
    assert_eq!(s.service("b")["status"], "running");

    // The daemon's spare leaves with it, whether it is asked to go or killed;
    // the services' shims stay.
    let spare = *shims_of(daemon)
        .iter()
        .find(|p| children_of(**p).is_empty())
        .unwrap();
    assert_eq!(s.harness(&["daemon", "stop"]).code, 0);
    assert!(
        wait_for(5, || !alive(spare)),
        "the spare exits with the daemon"
    );
    assert!(alive(a));
    assert_eq!(s.harness(&["status"]).code, 0);
    let daemon = s.daemon_pid().unwrap();
    assert!(wait_for(5, || shims_of(daemon).len() == 1));
    let spare = shims_of(daemon)[0];
    kill(daemon, libc::SIGKILL);
    assert!(
        wait_for(5, || !alive(spare)),
        "the spare exits when the daemon is killed"
    );
    assert!(alive(a));
}

#[test]
fn a_service_environment_stays_out_of_command_lines() {
    let s = Stack::new(
        "services:\n  app:\n    command: echo \"got $SECRET $PLAIN $NOTIFY_SOCKET\"; sleep 1000\n    env_file: app.env\n    env:\n      PLAIN: visible-too\n",
    );
    std::fs::write(s.path().join("app.env"), "SECRET=hunter2-s3cr3t\n").unwrap();
    assert_eq!(s.harness(&["start", "app"]).code, 0);
    assert!(
        wait_for(5, || s
            .log("app")
            .contains("got hunter2-s3cr3t visible-too")),
        "{}",
        s.log("app")
    );
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        if let Ok(cmdline) = std::fs::read(e.path().join("cmdline")) {
            assert!(
                !cmdline.windows(7).any(|w| w == b"hunter2"),
                "{:?} shows the secret: {}",
                e.path(),
                String::from_utf8_lossy(&cmdline)
            );
        }
    }
}

/// A run whose shim vanished with no daemon watching ended in a way nobody
/// saw: status says so instead of inventing an exit code or a signal.
#[test]
fn a_run_whose_shim_vanished_unseen_is_reported_as_lost_not_as_a_signal() {
    let s = Stack::new("services:\n  orphan:\n    command: sleep 1000\n    restart: never\n");
    assert_eq!(s.harness(&["start", "orphan"]).code, 0);
    let pid = s.pid("orphan").unwrap();
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let shim: u32 = stat
        .rsplit_once(')')
        .unwrap()
        .1
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    s.kill_daemon();
    kill(shim, libc::SIGKILL);
    assert!(wait_for(5, || !alive(shim)));
    // The next daemon finds the service without its shim: it stops it
    // (so it never runs twice) and knows only that the run is over.
    let st = s.service("orphan");
    assert_eq!(st["status"], "exited", "{st}");
    assert_eq!(
        st["notes"], "exited: ended unseen (exit status lost)",
        "{st}"
    );
    assert_eq!(st["exit_code"], serde_json::Value::Null, "{st}");
    assert!(
        wait_for(5, || !alive(pid)),
        "the service does not run twice"
    );
}
