//! What harness prints says what happened: the history's chain of states,
//! who ended a run, what a start did, what the stack is in.

mod common;
use common::*;

#[test]
fn a_service_stopped_while_starting_was_never_running_and_its_stop_was_requested() {
    let port = free_port();
    let s = Stack::new(&format!(
        "services:\n  slow:\n    command: sleep 1000\n    health_check: {{ tcp: \"127.0.0.1:{port}\" }}\n"
    ));
    let r = s.harness(&["start", "slow", "--no-wait"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(s.service("slow")["status"], "starting");
    let r = s.harness(&["stop", "slow"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let rows: Vec<(String, String, String)> = s
        .history()
        .iter()
        .filter(|h| h["service"] == "slow")
        .map(|h| {
            let f = |k: &str| h[k].as_str().unwrap_or_default().to_string();
            (f("from"), f("to"), f("reason"))
        })
        .collect();
    let row = |a: &str, b: &str, c: &str| (a.to_string(), b.to_string(), c.to_string());
    assert_eq!(
        rows,
        [
            row("stopped", "starting", "start requested"),
            row("starting", "stopping", "stop requested"),
            row("stopping", "stopped", "stop requested; ended by SIGTERM"),
        ]
    );
    let text = s.harness(&["status", "--history"]).stdout;
    assert!(
        text.contains("stopped → starting → stopping → stopped (stop requested; ended by SIGTERM)"),
        "{text}"
    );
}

#[test]
fn a_start_says_what_waits_and_a_start_that_found_everything_up_says_so() {
    let s = Stack::new(
        "services:\n  db:\n    command: sleep 1000\n  api:\n    command: sleep 1000\n    depends_on: [db]\n",
    );
    let r = s.harness(&["start", "--all"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert!(
        !lines.iter().any(|l| l.starts_with("  · db")),
        "db waits for nothing:\n{}",
        r.stdout
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("api") && l.contains("waiting for db")),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("All 2 services started in"),
        "{}",
        r.stdout
    );

    let again = s.harness(&["start", "--all"]);
    assert_eq!(again.code, 0, "{}", again.all());
    assert!(
        again
            .stdout
            .contains("All 2 services are already running; nothing to start"),
        "{}",
        again.stdout
    );
    assert!(!again.stdout.contains("started in"), "{}", again.stdout);
    let no_wait = s.harness(&["start", "--all", "--no-wait"]);
    assert_eq!(no_wait.code, 0, "{}", no_wait.all());
    assert!(
        no_wait
            .stdout
            .contains("All 2 services are already running; nothing to start"),
        "{}",
        no_wait.stdout
    );
    assert!(
        !no_wait.stdout.contains("Services started"),
        "{}",
        no_wait.stdout
    );
}

#[test]
fn help_says_what_harness_does() {
    let s = Stack::new("services:\n  a:\n    command: sleep 1000\n");
    let r = s.harness(&["--help"]);
    assert_eq!(r.code, 0);
    assert!(
        r.stdout
            .starts_with("Bring up a stack of services in dependency order"),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains("argument parsing"), "{}", r.stdout);
}

#[test]
fn a_stack_down_because_of_a_failure_is_failed_not_stopped() {
    let s =
        Stack::new("services:\n  bad:\n    command: exit 1\n  idle:\n    command: sleep 1000\n");
    assert_eq!(s.harness(&["start", "bad"]).code, 3);
    assert_eq!(s.status()["system_state"], "FAILED");
    let text = s.harness(&["status"]).stdout;
    assert!(text.contains("System state: FAILED"), "{text}");
    assert!(text.contains("harness start bad"), "a way out: {text}");
    // Stopped on request, the failure is history: the stack is stopped.
    assert_eq!(s.harness(&["stop", "--all"]).code, 0);
    assert_eq!(s.status()["system_state"], "STOPPED");
}

#[test]
fn a_forced_start_says_why_each_warning() {
    let port = free_port();
    let s = Stack::new(&format!(
        "services:\n  db:\n    command: sleep 1000\n    health_check: {{ tcp: \"127.0.0.1:{port}\" }}\n  api:\n    command: sleep 1000\n    depends_on: [db]\n"
    ));
    let r = s.harness(&["start", "--all", "--force", "--timeout", "1"]);
    assert_eq!(r.code, 0, "timeouts only warn under --force: {}", r.all());
    for line in [
        "Warning: Service 'db' started but is not healthy",
        "Warning: Service 'api' started although its dependencies are not healthy",
    ] {
        assert!(r.stdout.contains(line), "{line}: {}", r.all());
    }
}
