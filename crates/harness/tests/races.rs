//! Commands that race: two starts of the same stack at once converge
//! (the second waits on the first's runs, never starting a service twice);
//! a stop while a start is under way wins; a deploy or a step is no
//! exception.

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
fn a_stop_while_a_deploy_runs_is_refused_naming_the_deploy() {
    let yaml = |v: u32| {
        format!(
            "services:\n  api:\n    command: sleep 1000\n    env: {{ V: \"{v}\" }}\n    health_check: {{ command: \"test -f up\", interval: 100ms }}\n    startup_timeout: 60\n"
        )
    };
    let s = Stack::new(&yaml(1));
    std::fs::write(s.path().join("up"), "").unwrap();
    assert_eq!(s.harness(&["start", "api"]).code, 0);
    // The new version is not healthy until `up` is back.
    std::fs::remove_file(s.path().join("up")).unwrap();
    std::fs::write(s.path().join("services.yaml"), yaml(2)).unwrap();
    let mut deploy = Background::start(
        s.command(&["deploy"])
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    );
    // The deploy has its new version up and waits for it to be healthy.
    assert!(wait_for(10, || s.service("api")["status"] == "starting"));
    let r = s.harness(&["stop", "--all"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        r.stderr
            .contains("is in progress; follow it with GET /v1/deploys/"),
        "{}",
        r.stderr
    );
    assert_eq!(
        s.service("api")["status"],
        "starting",
        "nothing was stopped"
    );
    std::fs::write(s.path().join("up"), "").unwrap();
    assert_eq!(deploy.wait(HARNESS_TIMEOUT).code(), Some(0));
    assert_eq!(s.harness(&["stop", "--all"]).code, 0);
}
