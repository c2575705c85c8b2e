//! `harness deploy` with real processes: seed 002's partial failure, the
//! order that cannot leak a removed service, the health gate's revert,
//! `--no-prune`, `--dry-run --detailed-exitcode`, and a deploy that goes on
//! when its client goes away.

mod common;
use common::*;
use std::io::{Read, Write};
use std::time::Duration;

/// web and front run v1; old runs and is about to be removed.
const BEFORE: &str = "services:
  db:
    command: sleep 1000
  web:
    command: sleep 1001
    depends_on: [db]
    update: { min_healthy: 300ms }
  old:
    command: sleep 1002
  broken:
    command: sleep 1003
    update: { min_healthy: 300ms, auto_revert: false }
  front:
    command: sleep 1004
    depends_on: [broken]
";

/// web changes (good), old is gone, broken's new version cannot start,
/// front (its dependent) changes too.
const AFTER: &str = "services:
  db:
    command: sleep 1000
  web:
    command: sleep 2001
    depends_on: [db]
    update: { min_healthy: 300ms }
  broken:
    command: /nonexistent/broken-binary
    update: { min_healthy: 300ms, auto_revert: false }
  front:
    command: sleep 2004
    depends_on: [broken]
";

fn cmdline(pid: u32) -> String {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|b| String::from_utf8_lossy(&b).replace('\0', " "))
        .unwrap_or_default()
}

/// `harness ARGS` in the background, its output piped to be read.
fn in_background(s: &Stack, args: &[&str]) -> Background {
    Background::start(
        s.command(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped()),
    )
}

/// Reads a command's lines up to `line` (the test fails past 10 s each).
fn read_until(b: &mut Background, line: &str) {
    while b
        .next_line(Duration::from_secs(10))
        .expect("its lines, up to the one awaited")
        != line
    {}
}

/// `yaml` (one service, api, running `sleep 1000`) started, then a deploy
/// of it running `sleep 2000`, in the background, up to the point where
/// the new version runs inside its gate: the stack, the deploy, and the
/// pids of api's first run and of its new version.
fn inside_the_gate(yaml: &str) -> (Stack, Background, u32, u32) {
    let s = Stack::new(yaml);
    assert_eq!(s.harness(&["start", "--all"]).code, 0);
    let v1 = s.pid("api").unwrap();
    std::fs::write(
        s.path().join("services.yaml"),
        yaml.replace("sleep 1000", "sleep 2000"),
    )
    .unwrap();
    let mut deploy = in_background(&s, &["deploy"]);
    read_until(&mut deploy, "  api: starting the new version");
    // (The line comes with the spawn; the pid once it is confirmed.)
    assert!(wait_for(5, || s.pid("api").is_some_and(|p| p != v1)));
    let v2 = s.pid("api").unwrap();
    assert!(wait_for(5, || cmdline(v2).contains("sleep 2000")));
    (s, deploy, v1, v2)
}

fn index_of(out: &str, line: &str) -> usize {
    out.find(line)
        .unwrap_or_else(|| panic!("no `{line}` in:\n{out}"))
}

#[test]
fn seed_002_a_good_and_a_broken_service_exit_3_and_the_good_one_is_committed() {
    let s = Stack::new(BEFORE);
    assert_eq!(s.harness(&["start", "--all"]).code, 0);
    let [db, old, front] = [s.pid("db"), s.pid("old"), s.pid("front")].map(Option::unwrap);
    std::fs::write(s.path().join("services.yaml"), AFTER).unwrap();

    let plan = s.harness(&["deploy", "--dry-run", "--detailed-exitcode"]);
    assert_eq!(plan.code, 4, "{}", plan.all());
    for line in [
        "- old     remove: removed from the file",
        "= db      unchanged",
        "~ web     change: command changed",
        "~ broken  change: command changed",
    ] {
        assert!(plan.stdout.contains(line), "{line}: {}", plan.stdout);
    }
    assert_eq!(s.pid("old"), Some(old), "a dry run changes nothing");

    let r = s.harness(&["deploy"]);
    assert_eq!(r.code, 3, "{}", r.all());
    let out = &r.stdout;
    // Deploys are numbered from 1, whatever starts and stops ran before.
    assert!(out.contains("Deploying (deploy 1)..."), "{out}");
    // Seed 002's lines.
    for line in [
        "  web:    scheduled on local\n",
        "  web:    healthy\n",
        "  broken: failed: ",
        "  deploy finished with errors\n",
    ] {
        assert!(out.contains(line), "{line:?} in:\n{out}");
    }
    // The removal was stopped, and confirmed, before anything else began.
    assert!(index_of(out, "  old:    removed") < index_of(out, "  web:    scheduled"));
    assert!(!alive(old) || wait_for(5, || !alive(old)));
    assert!(
        s.status()["services"]
            .as_array()
            .unwrap()
            .iter()
            .all(|v| v["name"] != "old")
    );

    // web runs its new version; db was not touched.
    let web = s.pid("web").expect("web runs");
    assert!(cmdline(web).contains("sleep 2001"), "{}", cmdline(web));
    assert!(s.service("web").get("changes").is_none());
    assert_eq!(s.pid("db"), Some(db));
    // broken: nothing kept (no revert asked for), failed in status.
    assert!(out.contains("  broken: failed: "), "{out}");
    let broken = s.service("broken");
    assert_eq!(broken["health"], "failed", "{broken}");
    assert!(broken["pid"].is_null());
    // front: blocked, still running v1, and says so.
    assert!(
        out.contains("  front:  blocked: dependency failed: broken (still running what it ran)"),
        "{out}"
    );
    assert_eq!(s.pid("front"), Some(front));
    assert!(cmdline(front).contains("sleep 1004"));
    assert_eq!(
        s.service("front")["changes"],
        serde_json::json!(["command changed"])
    );

    // The history tells it: old stopped as removed, web's new run.
    let rows = s.history();
    assert!(
        rows.iter().any(|h| h["service"] == "old"
            && h["to"] == "stopping"
            && h["reason"]
                .as_str()
                .unwrap()
                .starts_with("stop requested (removed from the file; deploy ")),
        "{rows:?}"
    );
    // web's new run, and its commit with both versions.
    let reason = |h: &serde_json::Value| h["reason"].as_str().unwrap_or("").to_string();
    assert!(
        rows.iter().any(|h| h["service"] == "web"
            && h["to"] == "starting"
            && reason(h).starts_with("start requested (deploy ")),
        "{rows:?}"
    );
    assert!(
        rows.iter().any(|h| h["service"] == "web"
            && h["from"] == "running"
            && h["to"] == "running"
            && reason(h).starts_with("deployed ")
            && reason(h).contains(", was ")),
        "{rows:?}"
    );
    // The deploy as state.db keeps it.
    let st = s.harness(&["deploy", "status", "--json"]);
    assert_eq!(st.code, 0, "{}", st.all());
    let d: serde_json::Value = serde_json::from_str(&st.stdout).unwrap();
    assert_eq!(d["status"], "failed", "{d}");
    let outcome = |name: &str| {
        d["services"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["service"] == name)
            .map(|v| v["outcome"].clone())
            .unwrap_or_default()
    };
    assert_eq!(outcome("web"), "deployed");
    assert_eq!(outcome("old"), "removed");
    assert_eq!(outcome("broken"), "failed");
    assert_eq!(outcome("front"), "blocked");
    assert_eq!(outcome("db"), "unchanged");
    // And /metrics counts it.
    let (code, metrics) = http(s.socket(), "GET", "/metrics");
    assert_eq!(code, 200);
    for line in [
        "harness_deploys_total{result=\"failed\"} 1",
        "harness_deploy_services_total{outcome=\"deployed\"} 1",
        "harness_deploy_services_total{outcome=\"failed\"} 1",
        "harness_deploy_services_total{outcome=\"blocked\"} 1",
        "harness_deploy_services_total{outcome=\"removed\"} 1",
    ] {
        assert!(metrics.contains(line), "{line} in:\n{metrics}");
    }
    let h = s.harness(&["deploy", "history"]);
    assert!(
        h.stdout
            .contains("failed       1 deployed, 1 removed, 1 unchanged, 1 failed, 1 blocked"),
        "{}",
        h.stdout
    );
}

#[test]
fn a_new_version_that_exits_inside_the_gate_is_reverted_and_the_deploy_exits_3() {
    let yaml = "services:\n  api:\n    command: sleep 1000\n    update: { min_healthy: 3s }\n";
    let s = Stack::new(yaml);
    assert_eq!(s.harness(&["start", "--all"]).code, 0);
    let v1 = s.pid("api").unwrap();
    let bad =
        "services:\n  api:\n    command: sleep 0.8; exit 7\n    update: { min_healthy: 3s }\n";
    std::fs::write(s.path().join("services.yaml"), bad).unwrap();
    let t = std::time::Instant::now();
    let r = s.harness(&["deploy"]);
    assert_eq!(r.code, 3, "{}", r.all());
    assert!(
        r.stdout
            .contains("  api: failed: exit code 7 (reverted: the previous version runs again)"),
        "{}",
        r.stdout
    );
    // At once, not at the end of the gate (3 s) or after a restart loop.
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    let api = s.service("api");
    let pid = api["pid"].as_u64().unwrap() as u32;
    assert_ne!(pid, v1);
    assert!(cmdline(pid).contains("sleep 1000"), "{}", cmdline(pid));
    assert_eq!(api["health"], "healthy");
    let notes = api["notes"].as_str().unwrap_or("");
    assert!(
        notes.contains(" failed: exit code 7; reverted")
            && notes.contains("running an older definition: command changed"),
        "{api}"
    );
    // What runs is the old version: a second deploy plans the change again.
    let plan = s.harness(&["deploy", "--dry-run", "--detailed-exitcode"]);
    assert_eq!(plan.code, 4);
    assert!(
        plan.stdout.contains("✗ api  drifted: deploy ")
            && plan
                .stdout
                .contains(" failed: exit code 7; reverted, command changed"),
        "{}",
        plan.stdout
    );
    // A new daemon still knows (state.db keeps the drift).
    s.kill_daemon();
    let again = s.harness(&["deploy", "--dry-run"]);
    assert!(
        again.stdout.contains("✗ api  drifted: deploy "),
        "{}",
        again.stdout
    );
}

#[test]
fn no_prune_keeps_a_removed_service_running_and_stop_still_reaches_it() {
    let s =
        Stack::new("services:\n  a:\n    command: sleep 1000\n  gone:\n    command: sleep 1001\n");
    assert_eq!(s.harness(&["start", "--all"]).code, 0);
    let gone = s.pid("gone").unwrap();
    std::fs::write(
        s.path().join("services.yaml"),
        "services:\n  a:\n    command: sleep 1000\n",
    )
    .unwrap();
    // Only a removal, kept: nothing would change.
    let dry = s.harness(&["deploy", "--no-prune", "--dry-run", "--detailed-exitcode"]);
    assert_eq!(dry.code, 0, "{}", dry.all());
    assert!(
        dry.stdout.contains(
            "Nothing to deploy: services gone from the file are left running (--no-prune)."
        ),
        "{}",
        dry.stdout
    );
    std::fs::write(
        s.path().join("services.yaml"),
        "services:\n  a:\n    command: sleep 2000\n",
    )
    .unwrap();
    let r = s.harness(&["deploy", "--no-prune"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stdout.contains("! gone  keep running (--no-prune)"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("1 deployed, 1 kept running (--no-prune)"),
        "{}",
        r.stdout
    );
    assert!(alive(gone));
    // Known, shown and stoppable while it runs.
    let v = s.service("gone");
    assert_eq!(v["pid"].as_u64(), Some(gone as u64));
    assert_eq!(s.harness(&["stop", "gone"]).code, 0);
    assert!(wait_for(5, || !alive(gone)));
    // Nothing left to do.
    let again = s.harness(&["deploy", "--dry-run", "--detailed-exitcode"]);
    assert_eq!(again.code, 0, "{}", again.all());
}

/// Reads SSE events (name, id, data) from a raw HTTP response until `done`.
fn read_events(
    stream: &mut impl Read,
    until_done: bool,
    max: usize,
) -> (String, Vec<(String, u64, String)>) {
    let mut raw = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = stream.read(&mut buf).unwrap_or(0);
        if n == 0 {
            break;
        }
        raw.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&raw).to_string();
        let events = parse_events(&text);
        if (until_done && events.iter().any(|e| e.0 == "done"))
            || (!until_done && events.len() >= max)
        {
            break;
        }
    }
    let text = String::from_utf8_lossy(&raw).to_string();
    let events = parse_events(&text);
    (text, events)
}

fn parse_events(text: &str) -> Vec<(String, u64, String)> {
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    body.split("\n\n")
        .filter_map(|block| {
            let mut e = (String::new(), 0, String::new());
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("event:") {
                    e.0 = v.trim().into();
                } else if let Some(v) = line.strip_prefix("id:") {
                    e.1 = v.trim().parse().unwrap_or(0);
                } else if let Some(v) = line.strip_prefix("data:") {
                    e.2 = v.trim().into();
                }
            }
            (!e.0.is_empty()).then_some(e)
        })
        .collect()
}

#[test]
fn a_client_that_goes_away_does_not_stop_the_deploy_and_its_events_replay() {
    let yaml = "services:\n  a:\n    command: sleep 1000\n    update: { min_healthy: 1s }\n";
    let s = Stack::new(yaml);
    assert_eq!(s.harness(&["start", "--all"]).code, 0);
    std::fs::write(
        s.path().join("services.yaml"),
        yaml.replace("sleep 1000", "sleep 1001"),
    )
    .unwrap();
    let mut c = s.socket();
    let body = "{}";
    write!(
        c,
        "POST /v1/deploy HTTP/1.1\r\nHost: harness\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let (head, first) = read_events(&mut c, false, 1);
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let id: u64 = head
        .lines()
        .find_map(|l| l.strip_prefix("x-harness-deploy: "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no deploy id in {head}"));
    assert_eq!(first[0].0, "progress");
    assert_eq!(first[0].1, 1);
    assert_eq!(
        first[0].2,
        r#"{"service":"a","phase":"scheduled","node":"local"}"#
    );
    drop(c); // the client goes away inside the gate

    let mut f = s.socket();
    write!(
        f,
        "GET /v1/deploys/{id}/events HTTP/1.1\r\nHost: harness\r\nLast-Event-ID: 1\r\n\r\n"
    )
    .unwrap();
    let (_, rest) = read_events(&mut f, true, 0);
    let ids: Vec<u64> = rest.iter().map(|e| e.1).collect();
    assert_eq!(ids.first(), Some(&2), "{rest:?}");
    assert!(ids.windows(2).all(|w| w[1] == w[0] + 1), "{rest:?}");
    let names: Vec<&str> = rest.iter().map(|e| e.0.as_str()).collect();
    assert_eq!(names.last(), Some(&"done"));
    let done: serde_json::Value = serde_json::from_str(&rest.last().unwrap().2).unwrap();
    assert_eq!(done["success"], true, "{done}");
    assert_eq!(done["deployed"], serde_json::json!(["a"]));
    assert!(
        rest.iter()
            .any(|e| e.2 == r#"{"service":"a","phase":"healthy"}"#
                || e.2.starts_with(r#"{"service":"a","phase":"healthy","#)),
        "{rest:?}"
    );
    let pid = s.pid("a").unwrap();
    assert!(cmdline(pid).contains("sleep 1001"));
}

#[test]
fn a_new_daemon_keeps_a_running_service_gone_from_the_file_and_a_deploy_stops_it() {
    let s = Stack::new(
        "services:\n  a:\n    command: sleep 1000\n  gone:\n    command: sleep 1001\n    stop_signal: SIGINT\n",
    );
    assert_eq!(s.harness(&["start", "--all"]).code, 0);
    let gone = s.pid("gone").unwrap();
    s.kill_daemon();
    std::fs::write(
        s.path().join("services.yaml"),
        "services:\n  a:\n    command: sleep 1000\n",
    )
    .unwrap();
    // The next daemon (for the edited file) knows it, shows it, plans it.
    let v = s.service("gone");
    assert_eq!(v["pid"].as_u64(), Some(gone as u64), "{v}");
    assert_eq!(v["removed_from_file"], true, "{v}");
    let r = s.harness(&["deploy"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stdout.contains("- gone  remove: removed from the file"),
        "{}",
        r.stdout
    );
    assert!(wait_for(5, || !alive(gone)));
    // Stopped with its own signal, which the new daemon read from its print.
    let rows = s.history();
    assert!(
        rows.iter()
            .any(|h| h["service"] == "gone" && h["reason"] == "stop requested; ended by SIGINT"),
        "{rows:?}"
    );
    assert!(
        s.status()["services"]
            .as_array()
            .unwrap()
            .iter()
            .all(|v| v["name"] != "gone")
    );
}

#[test]
fn a_daemon_killed_while_a_deploy_removes_a_service_leaves_the_next_one_to_finish_it() {
    // `stubborn` ignores SIGTERM, so its removal is still under way when
    // the daemon is killed.
    let s = Stack::new(
        "services:\n  a:\n    command: sleep 1000\n  stubborn:\n    command: trap '' TERM; sleep 1000\n    stop_timeout: 30s\n",
    );
    assert_eq!(s.harness(&["start", "--all"]).code, 0);
    let stubborn = s.pid("stubborn").unwrap();
    let members = group_members(stubborn);
    std::fs::write(
        s.path().join("services.yaml"),
        "services:\n  a:\n    command: sleep 1000\n",
    )
    .unwrap();
    let mut deploy = in_background(&s, &["deploy"]);
    assert_eq!(
        deploy.next_line(Duration::from_secs(10)).as_deref(),
        Some("Deploy plan for services.yaml:")
    );
    assert!(
        wait_for(10, || s
            .history()
            .iter()
            .any(|h| h["service"] == "stubborn" && h["to"] == "stopping")),
        "the removal began"
    );
    s.kill_daemon();
    let _ = deploy.wait(Duration::from_secs(10));
    assert!(
        alive(stubborn),
        "it ignores SIGTERM and nobody has killed it yet"
    );

    // The next daemon finds the deploy unfinished: interrupted, and its
    // removal carried out (SIGKILL after the grace).
    let deploys = || -> Vec<serde_json::Value> {
        let h = s.harness(&["deploy", "history", "--json"]);
        assert_eq!(h.code, 0, "{}", h.all());
        serde_json::from_str(&h.stdout).unwrap()
    };
    let first = deploys();
    assert_eq!(first.len(), 2, "{first:?}");
    assert_eq!(first[1]["status"], "interrupted", "{first:?}");
    // The next daemon's own deploy finishes the removal.
    assert_eq!(first[0]["services"][0]["service"], "stubborn", "{first:?}");
    assert_eq!(first[0]["services"][0]["action"], "remove", "{first:?}");
    assert!(
        wait_for(15, || members.iter().all(|&p| !alive(p))),
        "stubborn was stopped"
    );
    assert!(
        wait_for(5, || deploys()[0]["status"] == "succeeded"),
        "{:?}",
        deploys()
    );
    // (Its end reaches the history a moment after the processes are gone.)
    let killed = |rows: &[serde_json::Value]| {
        rows.iter().any(|h| {
            h["service"] == "stubborn"
                && h["to"] == "stopped"
                && h["reason"].as_str().unwrap_or("").contains("SIGKILL")
        })
    };
    assert!(wait_for(5, || killed(&s.history())), "{:?}", s.history());
    assert!(
        s.status()["services"]
            .as_array()
            .unwrap()
            .iter()
            .all(|v| v["name"] != "stubborn")
    );
}

#[test]
fn ctrl_c_begins_no_further_service_finishes_the_one_under_way_and_exits_130() {
    let yaml = "services:\n  a:\n    command: sleep 1000\n    update: { min_healthy: 1500ms }\n  b:\n    command: sleep 1001\n    depends_on: [a]\n";
    let s = Stack::new(yaml);
    assert_eq!(s.harness(&["start", "--all"]).code, 0);
    let b = s.pid("b").unwrap();
    std::fs::write(
        s.path().join("services.yaml"),
        yaml.replace("sleep 1000", "sleep 2000")
            .replace("sleep 1001", "sleep 2001"),
    )
    .unwrap();
    let mut deploy = in_background(&s, &["deploy"]);
    // Inside a's health gate, b waits for a: Ctrl-C.
    read_until(&mut deploy, "  a: starting the new version");
    // Mid-deploy, no plan is made behind its back (a stop would cancel
    // it: tests/races.rs).
    let busy = s.harness(&["deploy", "--dry-run"]);
    assert_eq!(busy.code, 1, "{}", busy.all());
    assert!(
        busy.stderr.contains("deploy 1 is in progress"),
        "{}",
        busy.stderr
    );
    kill(deploy.pid(), libc::SIGINT);
    let rest = deploy.rest_of_stdout(Duration::from_secs(10));
    let status = deploy.wait(Duration::from_secs(10));
    assert_eq!(status.code(), Some(130), "{rest}");
    assert!(rest.contains("  a: healthy"), "{rest}");
    assert!(
        rest.contains("  b: not deployed: the deploy was cancelled before it began"),
        "{rest}"
    );
    assert!(rest.contains("1 deployed, 1 cancelled"), "{rest}");
    let err = deploy.stderr_to_end(Duration::from_secs(5));
    assert!(err.contains("no further service begins"), "{err}");
    // a runs its new version; b was never touched.
    let a = s.pid("a").unwrap();
    assert!(cmdline(a).contains("sleep 2000"));
    assert_eq!(s.pid("b"), Some(b));
    let d: serde_json::Value =
        serde_json::from_str(&s.harness(&["deploy", "status", "--json"]).stdout).unwrap();
    assert_eq!(d["status"], "cancelled", "{d}");
}

#[test]
fn a_daemon_killed_inside_a_changes_gate_leaves_the_next_one_to_go_back_to_the_version_that_ran() {
    let (s, mut deploy, _, v2) = inside_the_gate(
        "services:\n  api:\n    command: sleep 1000\n    update: { min_healthy: 60s }\n",
    );
    // Inside the 60 s gate: the daemon dies.
    s.kill_daemon();
    let _ = deploy.wait(Duration::from_secs(10));
    // The next daemon stops the uncommitted version and starts v1 again
    // (its own gate is 60 s too: the processes show it at once).
    assert_eq!(s.harness(&["status"]).code, 0);
    assert!(
        wait_for(10, || !alive(v2)),
        "the uncommitted version was stopped"
    );
    assert!(
        wait_for(10, || s
            .pid("api")
            .is_some_and(|p| cmdline(p).contains("sleep 1000"))),
        "v1 runs again"
    );
    let h = s.harness(&["deploy", "history", "--json"]);
    let d: Vec<serde_json::Value> = serde_json::from_str(&h.stdout).unwrap();
    assert_eq!(d[1]["status"], "interrupted", "{d:?}");
    assert_eq!(d[0]["status"], "running", "{d:?}");
    assert!(
        d[1]["services"][0]["detail"]
            .as_str()
            .unwrap_or("")
            .contains("the next daemon goes back to"),
        "{d:?}"
    );
}

#[test]
fn a_daemon_killed_inside_a_start_first_gate_leaves_the_old_run_and_the_next_one_stops_the_new() {
    let (s, mut deploy, v1, v2) = inside_the_gate(
        "services:\n  api:\n    command: sleep 1000\n    update: { order: start-first, min_healthy: 60s }\n",
    );
    assert_ne!(v1, v2);
    let notes = s.service("api")["notes"].as_str().unwrap_or("").to_string();
    assert!(
        notes.contains(&format!(
            "previous version (PID {v1}) runs until this one is healthy"
        )),
        "{notes}"
    );
    s.kill_daemon();
    let _ = deploy.wait(Duration::from_secs(10));
    // The next daemon keeps v1 — never stopped, the same process — and
    // stops the uncommitted v2.
    assert_eq!(s.harness(&["status"]).code, 0);
    assert!(
        wait_for(10, || !alive(v2)),
        "the uncommitted version was stopped"
    );
    assert_eq!(s.pid("api"), Some(v1));
    assert!(alive(v1));
    let h = s.harness(&["deploy", "history", "--json"]);
    let d: Vec<serde_json::Value> = serde_json::from_str(&h.stdout).unwrap();
    assert_eq!(d[0]["status"], "interrupted", "{d:?}");
    assert!(
        d[0]["services"][0]["detail"]
            .as_str()
            .unwrap_or("")
            .contains("kept the version that ran"),
        "{d:?}"
    );
    // A deploy again applies it, beside v1 once more.
    let plan = s.harness(&["deploy", "--dry-run", "--detailed-exitcode"]);
    assert_eq!(plan.code, 4, "{}", plan.all());
}

#[test]
fn a_daemon_killed_before_an_added_service_was_committed_leaves_the_next_one_to_stop_it() {
    let s = Stack::new("services:\n  api:\n    command: sleep 1000\n");
    assert_eq!(s.harness(&["start", "--all"]).code, 0);
    std::fs::write(
        s.path().join("services.yaml"),
        "services:\n  api:\n    command: sleep 1000\n  extra:\n    command: sleep 1005\n    update: { min_healthy: 60s }\n",
    )
    .unwrap();
    let mut deploy = in_background(&s, &["deploy"]);
    read_until(&mut deploy, "  extra: starting the new version");
    // (The line comes with the spawn; the pid once it is confirmed.)
    assert!(wait_for(5, || s.pid("extra").is_some()));
    let extra = s.pid("extra").unwrap();
    s.kill_daemon();
    let _ = deploy.wait(Duration::from_secs(10));
    assert_eq!(s.harness(&["status"]).code, 0);
    assert!(
        wait_for(10, || !alive(extra)),
        "the uncommitted add runs on"
    );
    let h = s.harness(&["deploy", "history", "--json"]);
    let d: Vec<serde_json::Value> = serde_json::from_str(&h.stdout).unwrap();
    let interrupted = &d[1];
    assert_eq!(interrupted["status"], "interrupted", "{d:?}");
    let row = interrupted["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["service"] == "extra")
        .expect("extra's row");
    assert!(
        row["detail"]
            .as_str()
            .unwrap_or("")
            .starts_with("interrupted before it was committed; stopped by the next daemon"),
        "{row}"
    );
    assert!(
        wait_for(10, || s.service("extra")["status"] == "stopped"),
        "{}",
        s.service("extra")
    );
    let rows = s.history();
    assert!(
        rows.iter().any(|r| r["service"] == "extra"
            && r["reason"].as_str().is_some_and(|w| w.starts_with(
                "stop requested (added by an interrupted deploy that never committed it; deploy "
            ))),
        "{rows:?}"
    );
    // The file still has it: a deploy adds it again.
    let plan = s.harness(&["deploy", "--dry-run"]);
    assert!(plan.stdout.contains("+ extra  add"), "{}", plan.stdout);
}

#[test]
fn rollback_runs_the_version_before_the_last_deploy_and_says_it_differs_from_the_file() {
    let yaml = "services:\n  api:\n    command: sleep 1000\n    env: { TOKEN: rollback-secret }\n    update: { min_healthy: 200ms }\n";
    let s = Stack::new(yaml);
    assert_eq!(s.harness(&["start", "--all"]).code, 0);
    std::fs::write(
        s.path().join("services.yaml"),
        yaml.replace("sleep 1000", "sleep 2000"),
    )
    .unwrap();
    assert_eq!(s.harness(&["deploy"]).code, 0);
    let r = s.harness(&["rollback", "api"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains("  api: healthy"), "{}", r.stdout);
    let api = s.service("api");
    let pid = api["pid"].as_u64().unwrap() as u32;
    assert!(cmdline(pid).contains("sleep 1000"), "{}", cmdline(pid));
    // It runs what the file does not say, and says so.
    assert_eq!(
        api["changes"],
        serde_json::json!(["command changed"]),
        "{api}"
    );
    // Versions are kept outside state.db, the user's alone.
    let state: Vec<u8> = ["state.db", "state.db-wal"]
        .iter()
        .filter_map(|f| std::fs::read(s.path().join(".harness").join(f)).ok())
        .flatten()
        .collect();
    assert!(!String::from_utf8_lossy(&state).contains("rollback-secret"));
    let kept = std::fs::read_dir(s.path().join(".harness/versions/api"))
        .unwrap()
        .count();
    assert_eq!(kept, 2);
    // An unknown version is a usage error, naming the ones kept.
    let bad = s.harness(&["rollback", "api", "--to", "abcdef"]);
    assert_eq!(bad.code, 2, "{}", bad.all());
    assert!(
        bad.stderr
            .contains("version abcdef of api is not kept; kept: "),
        "{}",
        bad.stderr
    );
}

#[test]
fn a_slow_version_command_never_holds_up_the_supervisor() {
    let yaml =
        "services:\n  a:\n    command: sleep 1000\n    version: { command: sleep 2; echo v1 }\n";
    let s = Stack::new(yaml);
    assert_eq!(s.harness(&["start", "--all"]).code, 0);
    let mut plan = in_background(&s, &["deploy", "--dry-run"]);
    std::thread::sleep(Duration::from_millis(500));
    // While the plan's version command runs, the daemon answers at once.
    let t = std::time::Instant::now();
    assert_eq!(s.harness(&["status"]).code, 0);
    assert!(
        t.elapsed() < Duration::from_millis(1500),
        "{:?}",
        t.elapsed()
    );
    let out = plan.rest_of_stdout(Duration::from_secs(15));
    assert!(out.contains("= a  unchanged"), "{out}");
}

#[test]
fn a_deploy_asked_for_with_a_plan_the_file_no_longer_gives_does_nothing() {
    let s = Stack::new("services:\n  api:\n    command: sleep 1000\n");
    assert_eq!(s.harness(&["start", "--all"]).code, 0);
    let api = s.pid("api").unwrap();
    std::fs::write(
        s.path().join("services.yaml"),
        "services:\n  api:\n    command: sleep 2000\n",
    )
    .unwrap();
    let (code, body) = http_with_body(s.socket(), "POST", "/v1/deploy/plan", "{}");
    assert_eq!(code, 200, "{body}");
    let shown: serde_json::Value = serde_json::from_str(&body).unwrap();
    let digest = shown["digest"].as_str().unwrap().to_string();
    assert_eq!(digest.len(), 12, "{shown}");
    // The file changes again after the plan was read.
    std::fs::write(
        s.path().join("services.yaml"),
        "services:\n  api:\n    command: sleep 3000\n",
    )
    .unwrap();
    let req = format!("{{\"plan\": \"{digest}\"}}");
    let (code, body) = http_with_body(s.socket(), "POST", "/v1/deploy", &req);
    assert_eq!(code, 409, "{body}");
    let err: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(err["kind"], "changed", "{err}");
    assert!(
        err["error"]
            .as_str()
            .unwrap()
            .contains("changed since the plan was shown; nothing was done"),
        "{err}"
    );
    assert_eq!(s.pid("api"), Some(api), "nothing was done");
    // The plan as it is now is taken, and the CLI sends its own.
    let (_, body) = http_with_body(s.socket(), "POST", "/v1/deploy/plan", "{}");
    let now: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_ne!(now["digest"], shown["digest"]);
    let r = s.harness(&["deploy"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(cmdline(s.pid("api").unwrap()).contains("sleep 3000"));
}

#[test]
fn a_reverted_version_is_checked_on_its_own_port_and_is_healthy() {
    let (old, new) = (free_port(), free_port());
    let yaml = |cmd: String, port: u16| {
        format!(
            "services:\n  api:\n    command: {cmd}\n    health_check: {{ tcp: \"127.0.0.1:{port}\", interval: 200ms }}\n    update: {{ min_healthy: 300ms }}\n"
        )
    };
    let s = Stack::new(&yaml(listener(old, 0).replace('\'', ""), old));
    assert_eq!(s.harness(&["start", "--all"]).code, 0);
    // The new version would listen on another port, but dies first.
    let hk = hk().display().to_string();
    std::fs::write(
        s.path().join("services.yaml"),
        yaml(format!("{hk} crash 100"), new),
    )
    .unwrap();
    let r = s.harness(&["deploy"]);
    assert_eq!(r.code, 3, "{}", r.all());
    assert!(r.stdout.contains("reverted"), "{}", r.stdout);
    // Probed on its own port, again and again: healthy, not failing on
    // the new file's port it never opened.
    std::thread::sleep(Duration::from_millis(800));
    let api = s.service("api");
    assert_eq!(api["health"], "healthy", "{api}");
    assert!(cmdline(api["pid"].as_u64().unwrap() as u32).contains(&format!("listen {old}")));
}
