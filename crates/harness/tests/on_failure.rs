//! Seed 000's failure flags, carried out by the daemon in the same request
//! as the start: teardown, rollback of what this command started, and the
//! smart rollback that keeps what does not depend on the failure.

mod common;
use common::*;

#[test]
fn teardown_on_failure_stops_everything_and_exits_3() {
    let s = Stack::new(FLAKY_API);
    let r = s.harness(&["start", "--all", "--teardown-on-failure"]);
    assert_eq!(r.code, 3, "{}", r.all());
    assert!(
        r.all()
            .contains("Error: Startup failed, all services stopped"),
        "{}",
        r.all()
    );
    let st = s.status();
    assert_eq!(st["system_state"], "STOPPED");
    assert!(
        s.pids(&["db", "api", "worker", "cache"])
            .iter()
            .all(Option::is_none)
    );
}

#[test]
fn rollback_stops_only_what_this_command_started_dependents_first() {
    let s = Stack::new(FLAKY_API);
    assert_eq!(s.harness(&["start", "cache"]).code, 0);
    let cache = s.pid("cache").unwrap();
    let r = s.harness(&["start", "--all", "--rollback-on-failure"]);
    assert_eq!(r.code, 3, "{}", r.all());
    let out = r.all();
    assert!(
        out.contains("Rolling back due to failure...\n  ↶ Stopping db..."),
        "{out}"
    );
    assert!(
        out.contains("Left running (already running before this command): cache"),
        "{out}"
    );
    assert_eq!(s.pid("db"), None, "started by this command: rolled back");
    assert_eq!(s.pid("cache"), Some(cache), "running before: left alone");
    assert!(alive(cache));
    let hist = s.history();
    assert!(
        hist.iter().any(|h| h["service"] == "db"
            && h["to"] == "stopping"
            && h["reason"] == "stop requested (rollback: api failed (--rollback-on-failure))"),
        "{hist:#?}"
    );
}

#[test]
fn smart_rollback_keeps_independents_and_stops_dependents_of_the_failure() {
    // api starts (worker only needs it started) but never becomes healthy:
    // worker, started by this command, depends on a failed service.
    let port = free_port();
    let s = Stack::new(&format!(
        r#"
services:
  db:
    command: sleep 1000
  api:
    command: sleep 1000
    depends_on: [db]
    health_check: {{ tcp: "127.0.0.1:{port}" }}
  worker:
    command: sleep 1000
    depends_on: {{ api: {{ condition: started }} }}
  frontend:
    command: sleep 1000
    depends_on: [api]
  cache:
    command: sleep 1000
"#
    ));
    let r = s.harness(&["start", "--all", "--smart-rollback", "--timeout", "1"]);
    assert_eq!(r.code, 3, "{}", r.all());
    let out = r.all();
    assert!(out.contains("Partial failure detected:"), "{out}");
    assert!(
        out.contains("Keeping independent services: db, cache"),
        "{out}"
    );
    assert!(out.contains("Stopped dependent services: worker"), "{out}");
    assert!(
        out.contains("Not starting dependent services: frontend"),
        "{out}"
    );
    assert!(s.pid("db").is_some() && s.pid("cache").is_some());
    assert_eq!(s.pid("worker"), None);
    assert_eq!(s.pid("frontend"), None);
}
