//! Seed 000 unattended: the state check, the flags that replace each
//! prompt, the recovery commands and `--dry-run`, with real processes.

mod common;
use common::*;
use std::process::Stdio;
use std::time::Duration;

#[test]
fn every_start_shows_the_state_first_and_continue_uses_what_runs() {
    let s = Stack::new(FLAKY_API);
    fix_api(&s);
    let r = s.harness(&["start", "db"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stdout.starts_with("Checking current state...\n  - db "),
        "{}",
        r.stdout
    );
    let db = s.pid("db").unwrap();

    let r = s.harness(&["start", "--all", "--continue"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let out = &r.stdout;
    assert!(
        out.contains("✓ db           (already running, healthy)"),
        "{out}"
    );
    assert!(out.contains("- api          (stopped)"), "{out}");
    assert!(
        out.contains("Partial system detected: 1 of 4 services are running."),
        "{out}"
    );
    assert!(!out.contains("How would you like to proceed?"), "{out}");
    assert!(
        out.contains("→ db") && out.contains("using existing (healthy)"),
        "{out}"
    );
    assert_eq!(s.pid("db"), Some(db), "never started twice");
    assert!(
        s.pids(&["api", "worker", "cache"])
            .iter()
            .all(Option::is_some)
    );
}

#[test]
fn restart_flag_stops_everything_in_scope_and_starts_it_fresh() {
    let s = Stack::new(FLAKY_API);
    fix_api(&s);
    assert_eq!(s.harness(&["start", "db", "cache"]).code, 0);
    let before = s.pids(&["db", "cache"]);
    let r = s.harness(&["start", "--all", "--restart"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stdout.contains("Stopping all services..."),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("Starting all services..."),
        "{}",
        r.stdout
    );
    let after = s.pids(&["db", "cache"]);
    assert!(after.iter().all(Option::is_some));
    assert_ne!(before[0], after[0]);
    assert_ne!(before[1], after[1]);
    for old in before.into_iter().flatten() {
        assert!(!alive(old), "the old {old} is gone");
    }
}

#[test]
fn never_prompts_off_a_terminal_even_with_stdin_open() {
    let s = Stack::new(FLAKY_API);
    assert_eq!(s.harness(&["start", "cache"]).code, 0);
    // stdin is a pipe nobody writes to: a prompt would wait forever.
    let mut child = Background::start(
        s.command(&["start", "--all"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
    );
    let Some(status) = child.wait_within(Duration::from_secs(20)) else {
        panic!(
            "harness waited for an answer: {}",
            child.rest_of_stdout(Duration::from_secs(5))
        );
    };
    let out = child.rest_of_stdout(HARNESS_TIMEOUT);
    assert_eq!(status.code(), Some(3), "{out}");
    assert!(out.contains("Partial system detected"), "{out}");
    assert!(!out.contains("How would you like to proceed?"), "{out}");
    assert!(
        s.pid("db").is_some(),
        "the default is to continue and keep running"
    );
}

#[test]
fn conflicting_flags_are_usage_errors() {
    let s = Stack::new(FLAKY_API);
    for args in [
        &["start", "--continue", "--restart"][..],
        &["start", "--teardown-on-failure", "--rollback-on-failure"],
        &["start", "--rollback-on-failure", "--smart-rollback"],
        &["start", "--teardown-on-failure", "--smart-rollback"],
        &["start", "--failed", "--blocked"],
        &["start", "--failed", "api"],
        &["start", "--blocked", "--all"],
    ] {
        let r = s.harness(args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.all());
        assert!(
            r.stderr.contains("cannot be used with"),
            "{args:?}: {}",
            r.stderr
        );
    }
    assert!(s.daemon_pid().is_none(), "nothing ran");
}

#[test]
fn dry_run_prints_the_plan_and_changes_nothing() {
    let s = Stack::new(FLAKY_API);
    assert_eq!(s.harness(&["start", "--all"]).code, 3);
    let history = s.history().len();
    let snapshot = || {
        let mut st = s.status();
        for svc in st["services"].as_array_mut().unwrap() {
            svc["uptime_secs"] = serde_json::Value::Null;
        }
        st
    };
    let before = snapshot();
    let r = s.harness(&["start", "--all", "--dry-run"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let out = &r.stdout;
    assert!(
        out.contains("✗ api          (stopped, last exit: failed, exit code 1)"),
        "{out}"
    );
    assert!(
        out.contains("- worker       (stopped, blocked: dependency failed: api)"),
        "{out}"
    );
    assert!(out.contains("Use as they are: db, cache"), "{out}");
    assert!(out.contains("Start, wave 1: api"), "{out}");
    assert!(out.contains("Start, wave 2: worker"), "{out}");
    assert!(out.contains("Nothing was changed (--dry-run)."), "{out}");

    let r = s.harness(&["start", "worker", "--blocked", "--dry-run"]);
    assert_eq!(r.code, 2, "--blocked takes no names: {}", r.all());
    let r = s.harness(&["start", "--blocked", "--dry-run"]);
    assert!(
        r.stdout
            .contains("Blocked: worker (dependency failed: api)"),
        "{}",
        r.stdout
    );
    let r = s.harness(&["start", "--all", "--restart", "--dry-run"]);
    assert!(
        r.stdout.contains("Stop first (--restart): db, cache"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("Start, wave 1: db, cache"),
        "{}",
        r.stdout
    );

    // The daemon queues history rows to the store, which writes them a
    // moment later, in order. A row queued after the dry runs (a choice,
    // as a prompt records one) is in the store only once everything queued
    // before it is: then the history shows whatever the dry runs wrote.
    let (code, body) = http_with_body(
        s.socket(),
        "POST",
        "/v1/choice",
        r#"{"prompt":"test","answer":"marker","detail":"after the dry runs"}"#,
    );
    assert_eq!(code, 200, "{body}");
    let mut rows = Vec::new();
    assert!(wait_for(10, || {
        rows = s.history();
        rows.iter().any(|h| h["to"] == "marker")
    }));
    assert_eq!(rows.len(), history + 1, "no history row written: {rows:#?}");
    assert_eq!(rows[history]["to"], "marker", "{rows:#?}");
    assert_eq!(snapshot(), before, "no process spawned or stopped");
}

#[test]
fn failed_retries_exactly_the_failed_and_blocked_force_ignores_dependencies() {
    let s = Stack::new(FLAKY_API);
    assert_eq!(s.harness(&["start", "--all"]).code, 3);
    let db = s.pid("db").unwrap();

    // The dependency is still broken: worker starts anyway, with a warning.
    let r = s.harness(&["start", "--blocked", "--force"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stdout
            .contains("Starting blocked services (ignoring dependencies)..."),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("⚠ worker") && r.stdout.contains("started, deps unhealthy"),
        "{}",
        r.stdout
    );
    assert!(s.pid("worker").is_some());
    assert_eq!(s.pid("api"), None, "its failed dependency is not retried");
    assert_eq!(s.service("api")["health"], "failed");

    fix_api(&s);
    let r = s.harness(&["start", "--failed"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stdout.contains("Starting previously failed services..."),
        "{}",
        r.stdout
    );
    assert!(s.pid("api").is_some());
    assert_eq!(s.pid("db"), Some(db));
    let r = s.harness(&["start", "--failed"]);
    assert_eq!(
        (r.code, r.stdout.trim()),
        (0, "No failed services to start.")
    );
}

#[test]
fn blocked_without_force_waits_for_a_dependency_that_is_up_again() {
    let s = Stack::new(FLAKY_API);
    assert_eq!(s.harness(&["start", "--all"]).code, 3);
    let r = s.harness(&["start", "--blocked"]);
    assert_eq!(r.code, 3, "api is still down: {}", r.all());
    assert!(
        r.stdout.contains("blocked (dependency failed: api)"),
        "{}",
        r.stdout
    );
    fix_api(&s);
    assert_eq!(s.harness(&["start", "api"]).code, 0);
    let r = s.harness(&["start", "--blocked"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(s.pid("worker").is_some());
}

#[test]
fn status_after_partial_failure_explains_and_names_recovery_commands() {
    let s = Stack::new(FLAKY_API);
    assert_eq!(s.harness(&["start", "--all"]).code, 3);
    let out = s.harness(&["status"]).stdout;
    assert!(out.contains("exit code 1"), "{out}");
    assert!(
        out.contains("api (last output):\n  | api is broken"),
        "{out}"
    );
    assert!(out.contains("dependency failed: api"), "{out}");
    assert!(out.contains("System state: PARTIAL"), "{out}");
    assert!(out.contains("  2 services running (db, cache)"), "{out}");
    assert!(out.contains("  1 service failed (api)"), "{out}");
    assert!(out.contains("  1 service blocked (worker)"), "{out}");
    assert!(out.contains("To recover:"), "{out}");
    assert!(out.contains("harness start api"), "{out}");
    assert!(out.contains("harness start --blocked --force"), "{out}");
    assert!(out.contains("harness stop --all"), "{out}");
}

#[test]
fn restart_all_stops_in_reverse_order_and_starts_in_order() {
    let s = Stack::new(FLAKY_API);
    fix_api(&s);
    assert_eq!(s.harness(&["start", "--all"]).code, 0);
    let before = s.pids(&["db", "api", "worker", "cache"]);
    let r = s.harness(&["restart", "--all"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let out = &r.stdout;
    let stopping = out.find("Stopping all services...").expect(out);
    let starting = out.find("Starting all services...").expect(out);
    assert!(stopping < starting, "{out}");
    let after = s.pids(&["db", "api", "worker", "cache"]);
    for (b, a) in before.iter().zip(&after) {
        assert!(a.is_some() && a != b, "{before:?} → {after:?}");
    }
    // The history of this restart: worker stopped before api before db;
    // db started before api before worker.
    let hist = s.history();
    let at = |svc: &str, to: &str| {
        hist.iter()
            .rposition(|h| h["service"] == svc && h["to"] == to)
            .unwrap_or_else(|| panic!("{svc} → {to} in {hist:#?}"))
    };
    assert!(at("worker", "stopped") < at("api", "stopping"));
    assert!(at("api", "stopped") < at("db", "stopping"));
    assert!(at("db", "running") < at("api", "starting"));
    assert!(at("api", "running") < at("worker", "starting"));
    assert!(
        hist.iter()
            .any(|h| h["reason"] == "stop requested (restart requested)")
    );
}

#[test]
fn a_new_daemon_still_knows_what_failed_and_what_was_blocked() {
    let s = Stack::new(FLAKY_API);
    assert_eq!(s.harness(&["start", "--all"]).code, 3);
    let old = s.daemon_pid().unwrap();
    assert_eq!(s.harness(&["daemon", "stop"]).code, 0);
    assert!(wait_for(5, || !alive(old)));

    let st = s.status();
    assert_ne!(s.daemon_pid(), Some(old), "a new daemon answers");
    assert_eq!(st["system_state"], "PARTIAL");
    let api = s.service("api");
    assert_eq!(
        (api["health"].as_str(), api["exit_code"].as_i64()),
        (Some("failed"), Some(1))
    );
    assert_eq!(api["notes"], "exit code 1");
    assert_eq!(s.service("worker")["notes"], "dependency failed: api");

    fix_api(&s);
    let r = s.harness(&["start", "--failed"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(s.pid("api").is_some());
    let r = s.harness(&["start", "--blocked"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(s.pid("worker").is_some());
    assert_eq!(s.status()["system_state"], "RUNNING");
}

#[test]
fn restart_flag_on_some_services_leaves_their_dependents_running() {
    let s = Stack::new(FLAKY_API);
    fix_api(&s);
    assert_eq!(s.harness(&["start", "--all"]).code, 0);
    let before = s.pids(&["db", "api", "worker"]);
    let r = s.harness(&["start", "api", "--restart"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let after = s.pids(&["db", "api", "worker"]);
    assert_ne!(after[0], before[0], "db restarted");
    assert_ne!(after[1], before[1], "api restarted");
    assert_eq!(after[2], before[2], "worker, outside the scope, untouched");
    assert!(alive(before[2].unwrap()));
}
