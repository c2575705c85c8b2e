//! Start, partial failure, timeouts and stop, with real processes.

mod common;
use common::*;

fn stack_with_broken_api(port: u16) -> String {
    format!(
        r#"
services:
  db:
    command: {listener}
    health_check: {{ tcp: "127.0.0.1:{port}" }}
  api:
    command: echo api is broken >&2; exit 1
    depends_on: [db]
  worker:
    command: sleep 1000
    depends_on: [api]
  cache:
    command: sleep 1000
"#,
        listener = serde_json::to_string(&listener(port, 200)).unwrap()
    )
}

#[test]
fn partial_failure_keeps_started_blocks_dependents_and_exits_3() {
    let s = Stack::new(&stack_with_broken_api(free_port()));
    let r = s.harness(&["start", "--all"]);
    assert_eq!(r.code, 3, "{}", r.all());
    let all = r.all();
    assert!(
        all.contains("✗ api") && all.contains("exit code 1"),
        "{all}"
    );
    assert!(all.contains("- worker") && all.contains("blocked"), "{all}");
    assert!(all.contains("Error: Partial startup failure"), "{all}");
    assert!(all.contains("Started: db, cache (2 services)"), "{all}");
    assert!(all.contains("Failed: api (1 service)"), "{all}");
    assert!(all.contains("Blocked: worker (1 service)"), "{all}");
    assert!(!all.contains('\x1b'), "no escape codes off a terminal");

    let st = s.status();
    assert_eq!(st["system_state"], "PARTIAL");
    let api = s.service("api");
    assert_eq!(
        (
            api["status"].as_str(),
            api["health"].as_str(),
            api["exit_code"].as_i64()
        ),
        (Some("stopped"), Some("failed"), Some(1))
    );
    assert_eq!(s.service("worker")["health"], "blocked");
    assert_eq!(s.service("worker")["notes"], "dependency failed: api");
    let db = s.pid("db").expect("db runs");
    let cache = s.pid("cache").expect("cache runs");
    assert!(alive(db) && alive(cache));
    assert!(s.log("api").contains("api is broken"), "stderr is captured");

    let hist = s.history();
    assert!(
        hist.iter().any(|h| h["service"] == "worker"
            && h["from"] == "stopped"
            && h["to"] == "blocked"
            && h["reason"] == "dependency failed: api"),
        "{hist:#?}"
    );
    let text = s.harness(&["status", "--history"]).stdout;
    assert!(
        text.contains("api       stopped → starting → stopped (failed: exit code 1)"),
        "{text}"
    );

    let r = s.harness(&["stop", "--all"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        wait_for(5, || group_members(db).is_empty()
            && group_members(cache).is_empty()),
        "nothing left after stop"
    );
    assert_eq!(s.status()["system_state"], "STOPPED");
}

#[test]
fn timeout_leaves_the_service_running_and_blocks_dependents() {
    let port = free_port();
    let s = Stack::new(&format!(
        "services:\n  api:\n    command: sleep 1000\n    health_check: {{ tcp: \"127.0.0.1:{port}\" }}\n  worker:\n    command: sleep 1000\n    depends_on: [api]\n"
    ));
    let r = s.harness(&["start", "worker", "--timeout", "1"]);
    assert_eq!(r.code, 3, "{}", r.all());
    assert!(r.all().contains("timeout after 1s"), "{}", r.all());
    let api = s.service("api");
    assert_eq!(
        (api["status"].as_str(), api["health"].as_str()),
        (Some("running"), Some("unhealthy"))
    );
    assert_eq!(api["notes"], "timeout after 1s");
    assert_eq!(s.service("worker")["health"], "blocked");

    let r = s.harness(&["start", "worker", "--timeout", "1", "--force"]);
    assert_eq!(
        r.code,
        0,
        "--force turns the timeout into a warning: {}",
        r.all()
    );
    assert!(r.all().contains('⚠'), "{}", r.all());
    assert!(s.pid("worker").is_some());
}

#[test]
fn no_wait_returns_without_health() {
    let port = free_port();
    let s = Stack::new(&format!(
        "services:\n  api:\n    command: sleep 1000\n    health_check: {{ tcp: \"127.0.0.1:{port}\" }}\n"
    ));
    let r = s.harness(&["start", "api", "--no-wait"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(s.pid("api").is_some());
}

#[test]
fn starting_a_running_healthy_service_is_a_no_op() {
    let s = Stack::new("services:\n  a:\n    command: sleep 1000\n");
    assert_eq!(s.harness(&["start", "a"]).code, 0);
    let pid = s.pid("a").unwrap();
    let r = s.harness(&["start", "a"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains("using existing"), "{}", r.stdout);
    assert_eq!(s.pid("a"), Some(pid), "never started twice");
}

#[test]
fn stop_kills_grandchildren_and_escalates_to_sigkill() {
    let s = Stack::new(
        "services:\n  stubborn:\n    command: trap '' TERM; sleep 1000 & sleep 1000 & wait\n    stop_timeout: 300ms\n",
    );
    assert_eq!(s.harness(&["start", "stubborn"]).code, 0);
    let pid = s.pid("stubborn").unwrap();
    assert!(
        wait_for(5, || group_members(pid).len() >= 3),
        "shell and two grandchildren"
    );
    let r = s.harness(&["stop", "stubborn"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        group_members(pid).is_empty(),
        "grandchildren are gone when stop returns: {:?}",
        group_members(pid)
    );
}

#[test]
fn stdout_and_stderr_are_logged_whole_and_logs_tails_them() {
    let s = Stack::new(
        "services:\n  chatty:\n    command: for i in $(seq 1 2000); do echo \"out line $i\"; echo \"err line $i\" >&2; done; sleep 1000\n",
    );
    assert_eq!(s.harness(&["start", "chatty"]).code, 0);
    assert!(wait_for(10, || s.log("chatty").lines().count() >= 4000));
    let log = s.log("chatty");
    for i in [1, 777, 2000] {
        assert!(log.lines().any(|l| l == format!("out line {i}")), "out {i}");
        assert!(log.lines().any(|l| l == format!("err line {i}")), "err {i}");
    }
    assert!(
        log.lines()
            .all(|l| l.starts_with("out line ") || l.starts_with("err line ")),
        "no torn lines"
    );
    let r = s.harness(&["logs", "chatty", "--tail", "2"]);
    assert_eq!(r.stdout.lines().count(), 2, "{}", r.stdout);
}

#[test]
fn services_start_with_default_signal_dispositions() {
    let s = Stack::new("services:\n  svc:\n    command: [\"sleep\", \"1000\"]\n");
    assert_eq!(s.harness(&["start", "svc"]).code, 0);
    let pid = s.pid("svc").unwrap();
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let ignored = status
        .lines()
        .find_map(|l| l.strip_prefix("SigIgn:"))
        .map(|m| u64::from_str_radix(m.trim(), 16).unwrap())
        .unwrap();
    // SIGHUP (1), SIGINT (2) and SIGPIPE (13) must not be inherited ignored.
    let bit = |sig: u32| 1u64 << (sig - 1);
    assert_eq!(
        ignored & (bit(1) | bit(2) | bit(13)),
        0,
        "SigIgn {ignored:x}"
    );
}
