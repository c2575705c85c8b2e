//! Readiness pushed by the service: `ready: notify` (sd_notify) and
//! `ready: { log: … }` gate a dependent, with real processes.

mod common;
use common::*;

fn position(hist: &[serde_json::Value], service: &str, to: &str) -> usize {
    hist.iter()
        .position(|h| h["service"] == service && h["to"] == to)
        .unwrap_or_else(|| panic!("{service} → {to} in {hist:#?}"))
}

#[test]
fn ready_notify_gates_the_dependent() {
    let s = Stack::new(&format!(
        "services:\n  db:\n    command: [\"{}\", \"notify\", \"300\"]\n    ready: notify\n  api:\n    command: sleep 1000\n    depends_on: [db]\n",
        hk().display()
    ));
    let r = s.harness(&["start", "api"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let hist = s.history();
    let ready = position(&hist, "db", "running");
    assert_eq!(hist[ready]["reason"], "ready (READY=1)");
    assert!(ready < position(&hist, "api", "starting"), "{hist:#?}");
    let db = s.service("db");
    assert_eq!(
        (db["health"].as_str(), db["notes"].as_str()),
        (Some("healthy"), Some("serving"))
    );
}

#[test]
fn ready_log_gates_the_dependent_on_the_first_matching_line() {
    let s = Stack::new(
        "services:\n  db:\n    command: echo booting; sleep 0.3; echo listening on 5432; exec sleep 1000\n    ready: { log: \"listening on [0-9]+\" }\n  api:\n    command: sleep 1000\n    depends_on: [db]\n",
    );
    let r = s.harness(&["start", "api"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let hist = s.history();
    let ready = position(&hist, "db", "running");
    assert_eq!(hist[ready]["reason"], "ready (log: listening on 5432)");
    assert!(ready < position(&hist, "api", "starting"), "{hist:#?}");
}

#[test]
fn a_service_that_never_says_ready_times_out() {
    let s = Stack::new(&format!(
        "services:\n  db:\n    command: [\"{}\", \"notify\", \"100000\"]\n    ready: notify\n",
        hk().display()
    ));
    let r = s.harness(&["start", "db", "--timeout", "1"]);
    assert_eq!(r.code, 3, "{}", r.all());
    assert!(r.all().contains("timeout after 1s"), "{}", r.all());
}

#[test]
fn a_helper_that_says_ready_and_exits_at_once_counts() {
    // Like `systemd-notify --ready` in a wrapper script: the sender is gone
    // by the time the message is read.
    let s = Stack::new(&format!(
        "services:\n  db:\n    command: {}\n    ready: notify\n",
        serde_json::to_string(&format!(
            "{} notify 0 --exit; exec sleep 1000",
            sh_quote(hk())
        ))
        .unwrap()
    ));
    let r = s.harness(&["start", "db", "--timeout", "10"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(s.service("db")["health"], "healthy");
}
