//! Automatic restart with real processes and shortened settings: a killed
//! service comes back, a crash loop ends in `failed`, and a daemon that was
//! itself killed still restarts what crashes afterwards.

mod common;
use common::*;

const FAST: &str = r#"
settings:
  restart: { backoff: { initial: 50ms, max: 200ms }, max_restarts: 3, window: 1m, min_uptime: 2s }
"#;

fn stack(services: &str) -> Stack {
    Stack::new(&format!("{FAST}services:\n{services}"))
}

fn new_pid(s: &Stack, name: &str, old: u32) -> Option<u32> {
    let mut found = None;
    wait_for(10, || {
        found = s.pid(name).filter(|&p| p != old);
        found.is_some()
    });
    found
}

/// The history row that says how `service`'s last stop ended, once there
/// is one: the row after its last `→ stopping`.
///
/// The engine decides whether a run that ended is restarted when it sees
/// the end, and records that decision in this row: `stopped`, or
/// `restarting` for a restart. A service that is `stopped` starts again
/// only when asked to, so once this row says `stopped` no restart can
/// follow, and "not restarted" can be asserted without waiting longer.
fn end_of_last_stop(s: &Stack, service: &str) -> serde_json::Value {
    let mut end = None;
    let found = wait_for(10, || {
        let rows: Vec<_> = s
            .history()
            .into_iter()
            .filter(|h| h["service"] == service)
            .collect();
        end = rows
            .iter()
            .rposition(|h| h["to"] == "stopping")
            .and_then(|k| rows.get(k + 1).cloned());
        end.is_some()
    });
    assert!(found, "{service}'s stop never ended: {:#?}", s.history());
    end.unwrap()
}

#[test]
fn a_killed_service_comes_back_with_a_new_pid_and_dependents_stay() {
    let s = stack(
        "  db:\n    command: sleep 1000\n  api:\n    command: sleep 1000\n    depends_on: [db]\n",
    );
    assert_eq!(s.harness(&["start", "--all"]).code, 0);
    let (db, api) = (s.pid("db").unwrap(), s.pid("api").unwrap());
    kill(db, libc::SIGKILL);
    let again = new_pid(&s, "db", db).expect("db restarted");
    assert!(alive(again));
    assert!(wait_for(5, || s.service("db")["status"] == "running"));
    let row = s.service("db");
    assert_eq!(row["restarts"], 1);
    assert_eq!(s.pid("api"), Some(api), "the dependent is not restarted");
    let hist = s.history();
    assert!(
        hist.iter().any(|h| h["service"] == "db"
            && h["to"] == "restarting"
            && h["reason"] == "killed by signal 9; restart 1/3 in 50ms"),
        "{hist:#?}"
    );
    let log = std::fs::read_to_string(s.path().join(".harness/daemon.log")).unwrap();
    assert!(log.contains("Restarting service"), "{log}");
    assert!(log.contains("Service restarted successfully"), "{log}");
    // The service's own log shows where one run ended and the next began.
    let own = s.log("db");
    assert!(
        own.contains("[harness] Service ended (killed by signal 9; restart 1/3 in 50ms)"),
        "{own}"
    );
    assert!(
        own.contains("[harness] Restarting service (attempt 1/3)"),
        "{own}"
    );
    assert!(
        own.contains("[harness] Service restarted successfully"),
        "{own}"
    );

    // A stop is never answered with a restart.
    assert_eq!(s.harness(&["stop", "db"]).code, 0);
    let end = end_of_last_stop(&s, "db");
    assert_eq!(end["to"], "stopped", "{end}");
    assert_eq!(s.pid("db"), None);
    assert_eq!(s.service("db")["status"], "stopped");
}

#[test]
fn a_crash_loop_ends_failed_and_a_start_clears_it() {
    // Up long enough to count as started (250 ms), not for min_uptime.
    let s = stack("  flaky:\n    command: sleep 0.35; echo dying >&2; exit 4\n");
    assert_eq!(s.harness(&["start", "flaky"]).code, 0);
    assert!(
        wait_for(15, || s.service("flaky")["status"] == "failed"),
        "{:#?}",
        s.history()
    );
    let row = s.service("flaky");
    assert_eq!(row["health"], "failed");
    assert_eq!(row["restarts"], 3);
    assert_eq!(row["exit_code"], 4);
    assert_eq!(
        row["last_output"],
        serde_json::json!(["dying", "dying", "dying"]),
        "the service's own lines, not harness's restart marks"
    );
    assert!(
        s.log("flaky")
            .contains("[harness] Service has exceeded maximum restart limit (3 in 1m 0s)"),
        "{}",
        s.log("flaky")
    );
    assert!(
        row["notes"]
            .as_str()
            .unwrap()
            .starts_with("exceeded maximum restart limit"),
        "{row}"
    );
    let log = std::fs::read_to_string(s.path().join(".harness/daemon.log")).unwrap();
    assert!(log.contains("exceeded maximum restart limit"), "{log}");
    let text = s.harness(&["status"]).stdout;
    assert!(text.contains("failed"), "{text}");

    let r = s.harness(&["start", "flaky"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(
        s.service("flaky")["restarts"],
        0,
        "a person's start clears it"
    );
}

#[test]
fn a_restarted_daemon_still_restarts_a_crashed_service() {
    let s = stack("  db:\n    command: sleep 1000\n");
    assert_eq!(s.harness(&["start", "db"]).code, 0);
    let db = s.pid("db").unwrap();
    s.kill_daemon();
    assert_eq!(s.pid("db"), Some(db), "a new daemon re-attaches");
    kill(db, libc::SIGKILL);
    let again = new_pid(&s, "db", db).expect("restarted by the new daemon");
    assert!(alive(again));
}

#[test]
fn a_daemon_killed_during_a_backoff_leaves_the_restart_and_the_count_to_the_next() {
    let s = Stack::new(
        "settings:\n  restart: { backoff: { initial: 2s }, max_restarts: 5, window: 10m, min_uptime: 10s }\nservices:\n  flaky:\n    command: sleep 0.4; exit 1\n",
    );
    assert_eq!(s.harness(&["start", "flaky"]).code, 0);
    assert!(wait_for(5, || s.service("flaky")["status"] == "restarting"));
    s.kill_daemon();

    // The next daemon knows a restart is due and how many came before.
    let row = s.service("flaky");
    assert_eq!(row["status"], "restarting", "{row}");
    assert_eq!(row["restarts"], 1, "{row}");
    assert!(row["notes"].as_str().unwrap().contains("(1/5)"), "{row}");
    // It restarts it when due; the run crashes again before min_uptime, so
    // the streak goes on: 4 s, not the 2 s of a fresh start.
    assert!(
        wait_for(10, || s.history().iter().any(|h| h["service"] == "flaky"
            && h["to"] == "restarting"
            && h["reason"] == "exit code 1; restart 2/5 in 4s")),
        "{:#?}",
        s.history()
    );
    assert_eq!(s.service("flaky")["restarts"], 2);
}

#[test]
fn a_stop_cut_short_by_a_daemon_crash_is_finished_by_the_next_daemon() {
    let s = stack(&format!(
        "  stubborn:\n    command: [\"{}\", \"ignore-term\"]\n    stop_timeout: 1s\n",
        hk().display()
    ));
    assert_eq!(s.harness(&["start", "stubborn"]).code, 0);
    let pid = s.pid("stubborn").unwrap();
    let daemon = s.daemon_pid().unwrap();
    let mut stop = Background::start(
        s.command(&["stop", "stubborn"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null()),
    );
    // The stop has begun (SIGTERM ignored, SIGKILL 1 s away) when the
    // daemon dies.
    assert!(wait_for(5, || s
        .history()
        .iter()
        .any(|h| h["service"] == "stubborn" && h["to"] == "stopping")));
    kill(daemon, libc::SIGKILL);
    stop.wait(HARNESS_TIMEOUT);
    assert!(alive(pid), "the stop was cut short");
    // The next daemon (started by the next command) finishes it instead
    // of supervising (or restarting) it.
    s.status();
    assert_ne!(s.daemon_pid(), Some(daemon));
    assert!(wait_for(10, || !alive(pid)), "finished by the next daemon");
    assert!(wait_for(5, || s.service("stubborn")["status"] == "stopped"));
    let end = end_of_last_stop(&s, "stubborn");
    assert_eq!(end["to"], "stopped", "{end}");
    assert_eq!(s.pid("stubborn"), None, "not restarted");
}

#[test]
fn a_liveness_probe_that_starts_failing_restarts_the_service() {
    // Each passing probe adds a line to `passed`.
    let s = stack(
        "  api:\n    command: sleep 1000\n    liveness: { command: \"test ! -f sick && echo >> passed\", interval: 100ms, retries: 2 }\n",
    );
    assert_eq!(s.harness(&["start", "api"]).code, 0);
    let first = s.pid("api").unwrap();
    // A run's next liveness probe is scheduled only once the last one's
    // result has been judged, and not at all once the run is to be
    // restarted. So by a third passing probe the engine has judged two
    // results, as many as it takes to restart, and either kept this run or
    // already started another (with a new pid).
    let passed = || {
        std::fs::read_to_string(s.path().join("passed"))
            .map(|p| p.lines().count())
            .unwrap_or(0)
    };
    assert!(wait_for(10, || passed() >= 3), "{} probes passed", passed());
    assert_eq!(s.pid("api"), Some(first), "healthy: left alone");
    std::fs::write(s.path().join("sick"), "").unwrap();
    assert!(wait_for(10, || !alive(first)), "stopped for a restart");
    std::fs::remove_file(s.path().join("sick")).unwrap();
    let again = new_pid(&s, "api", first).expect("restarted");
    assert!(alive(again));
    let hist = s.history();
    assert!(
        hist.iter().any(|h| h["service"] == "api"
            && h["from"] == "running"
            && h["to"] == "stopping"
            && h["reason"] == "liveness probe failed 2 times"),
        "{hist:#?}"
    );
    assert!(s.service("api")["restarts"].as_u64() >= Some(1));
    let log = std::fs::read_to_string(s.path().join(".harness/daemon.log")).unwrap();
    assert!(log.contains("Health check failed (liveness)"), "{log}");
}
