//! Commands that race: two starts of the same stack at once converge
//! (the second waits on the first's runs, never starting a service twice);
//! a stop while a start is under way wins; a stop while a deploy runs
//! cancels it, then stops what it left.

mod common;
use common::*;
use std::process::Stdio;

/// db ← api ← web, each a little slow to count as up.
const CHAIN: &str = "services:\n  db: { command: sleep 1000 }\n  api: { command: sleep 1000, depends_on: [db] }\n  web: { command: sleep 1000, depends_on: [api] }\n";

/// How many times the history says `service` was started.
fn starts(s: &Stack, service: &str) -> usize {
    s.history()
        .iter()
        .filter(|h| h["service"] == service && h["to"] == "starting")
        .count()
}

#[test]
fn two_starts_of_the_whole_stack_at_once_start_each_service_once() {
    let s = Stack::new(CHAIN);
    assert_eq!(s.harness(&["status"]).code, 0); // the daemon is up
    let mut a = Background::start(s.command(&["start", "--all"]).stdout(Stdio::null()));
    let mut b = Background::start(s.command(&["start", "--all"]).stdout(Stdio::null()));
    assert_eq!(a.wait(HARNESS_TIMEOUT).code(), Some(0));
    assert_eq!(b.wait(HARNESS_TIMEOUT).code(), Some(0));
    for name in ["db", "api", "web"] {
        assert_eq!(starts(&s, name), 1, "{name}: {:?}", s.history());
        assert_eq!(s.service(name)["status"], "running");
    }
}

#[test]
fn a_stop_during_a_start_wins_and_the_start_says_it_was_stopped() {
    let s = Stack::new(
        "services:\n  db: { command: sleep 1000 }\n  slow:\n    command: sleep 1000\n    depends_on: [db]\n    health_check: { command: \"test -f up\", interval: 100ms }\n",
    );
    assert_eq!(s.harness(&["status"]).code, 0);
    let mut start = Background::start(
        s.command(&["start", "--all"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
    );
    assert!(wait_for(10, || s.service("slow")["status"] == "starting"));
    let stop = s.harness(&["stop", "--all"]);
    assert_eq!(stop.code, 0, "{}", stop.all());
    let code = start.wait(HARNESS_TIMEOUT).code();
    let said = start.rest_of_stdout(HARNESS_TIMEOUT) + &start.stderr_to_end(HARNESS_TIMEOUT);
    assert_eq!(code, Some(3), "{said}");
    // The start tells the truth about it: nothing it started runs on.
    assert!(
        said.contains("Error: Startup cut short by a stop"),
        "{said}"
    );
    assert!(said.contains("Stopped meanwhile: db"), "{said}");
    assert!(!said.contains("still running"), "{said}");
    for name in ["db", "slow"] {
        assert_eq!(s.service(name)["status"], "stopped", "{name}");
    }
    // Nothing was started after the stop.
    assert_eq!(starts(&s, "db"), 1);
}

#[test]
fn a_stop_while_a_deploy_runs_cancels_it_and_stops_what_it_left() {
    let yaml = "services:\n  a:\n    command: sleep 1000\n    update: { min_healthy: 1500ms }\n  b:\n    command: sleep 1001\n    depends_on: [a]\n";
    let s = Stack::new(yaml);
    assert_eq!(s.harness(&["start", "--all"]).code, 0);
    std::fs::write(
        s.path().join("services.yaml"),
        yaml.replace("sleep 1000", "sleep 2000")
            .replace("sleep 1001", "sleep 2001"),
    )
    .unwrap();
    // a's new version runs inside its 1.5 s gate; b waits for a.
    let mut deploy = deploy_until(&s, "  a: starting the new version");
    let asked = std::time::Instant::now();
    let mut stop = Background::start(
        s.command(&["stop", "--all"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
    );
    // The deploy ends first: a finishes its gate, b never begins.
    let rest = deploy.rest_of_stdout(HARNESS_TIMEOUT);
    assert_eq!(deploy.wait(HARNESS_TIMEOUT).code(), Some(3), "{rest}");
    assert!(rest.contains("  a: healthy"), "{rest}");
    assert!(
        rest.contains("  b: not deployed: the deploy was cancelled before it began"),
        "{rest}"
    );
    // Then the stop: everything, as the deploy left it.
    let out = stop.rest_of_stdout(HARNESS_TIMEOUT);
    assert_eq!(stop.wait(HARNESS_TIMEOUT).code(), Some(0), "{out}");
    assert!(
        asked.elapsed() >= std::time::Duration::from_millis(500),
        "the stop waited for a's gate"
    );
    for name in ["a", "b"] {
        assert_eq!(s.service(name)["status"], "stopped", "{name}");
    }
    let d: serde_json::Value =
        serde_json::from_str(&s.harness(&["deploy", "status", "--json"]).stdout).unwrap();
    assert_eq!(d["status"], "cancelled", "{d}");
    // a's new version was committed, then stopped; b ran the old one to
    // the end, untouched by the deploy.
    let history = s.history();
    let last_rows = |name: &str| -> Vec<String> {
        let rows: Vec<String> = history
            .iter()
            .filter(|h| h["service"] == name)
            .map(|h| {
                format!(
                    "{}: {}",
                    h["to"].as_str().unwrap(),
                    h["reason"].as_str().unwrap()
                )
            })
            .collect();
        rows[rows.len() - 3..].to_vec()
    };
    assert!(
        last_rows("a")[0].starts_with("running: deployed ")
            && last_rows("a")[0].ends_with("(deploy 1)"),
        "{:?}",
        last_rows("a")
    );
    assert_eq!(
        last_rows("a")[1..],
        [
            "stopping: stop requested",
            "stopped: stop requested; ended by SIGTERM"
        ]
    );
    assert_eq!(
        last_rows("b")[1..],
        [
            "stopping: stop requested",
            "stopped: stop requested; ended by SIGTERM"
        ]
    );
    assert!(!history.iter().any(|h| h["service"] == "b"
        && h["reason"].as_str().unwrap_or("").contains("deploy 1")));
    let log = std::fs::read_to_string(s.path().join(".harness/daemon.log")).unwrap();
    assert!(
        log.contains("a stop was asked for: the deploy is cancelled"),
        "{log}"
    );
}

#[test]
fn a_stop_of_a_service_the_deploy_removes_meanwhile_finds_it_stopped() {
    // `old` takes 2 s to stop (it ignores SIGTERM): the stop is asked for
    // while the deploy is removing it.
    let yaml = "services:\n  a:\n    command: sleep 1000\n  old:\n    command: \"trap '' TERM; sleep 1777 & wait\"\n    stop_timeout: 2\n";
    let s = Stack::new(yaml);
    assert_eq!(s.harness(&["start", "--all"]).code, 0);
    let daemon = s.daemon_pid().unwrap();
    // The new file changes a and no longer has `old`: the deploy removes it.
    std::fs::write(
        s.path().join("services.yaml"),
        "services:\n  a:\n    command: sleep 2000\n",
    )
    .unwrap();
    let mut deploy = deploy_until(&s, "  old: stopping: removed from the file");
    // Asked for by name while `old` is still known; carried out once the
    // deploy has dropped it.
    let stop = s.harness(&["stop", "old", "a"]);
    assert_eq!(stop.code, 0, "{}", stop.all());
    let _ = deploy.wait(HARNESS_TIMEOUT);
    assert_eq!(s.daemon_pid(), Some(daemon), "the same daemon");
    assert_eq!(s.service("a")["status"], "stopped");
    assert!(s.status()["services"].as_array().unwrap().len() == 1);
    assert!(!cmdline_has("sleep 1777"), "old was stopped by the deploy");
}

/// `harness deploy` in the background, once it has printed `line`.
fn deploy_until(s: &Stack, line: &str) -> Background {
    let mut deploy = Background::start(
        s.command(&["deploy"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null()),
    );
    while deploy
        .next_line(HARNESS_TIMEOUT)
        .expect("the deploy's lines")
        != line
    {}
    deploy
}

/// Whether a process whose command line is `text` runs.
fn cmdline_has(text: &str) -> bool {
    std::fs::read_dir("/proc").unwrap().flatten().any(|e| {
        std::fs::read(e.path().join("cmdline"))
            .is_ok_and(|c| String::from_utf8_lossy(&c).replace('\0', " ").trim() == text)
    })
}
