//! Jobs (seed 003) with real processes: a failed step stays where it
//! failed and is retried there, never from zero; what is up to date is
//! skipped and what changed runs again, with the reason; a step outlives a
//! killed daemon and the next one records how it ended.

mod common;
use common::*;
use std::time::Duration;

/// The job's record, `harness jobs status JOB --json`, and its exit code.
fn record(s: &Stack, job: &str) -> (serde_json::Value, i32) {
    let r = s.harness(&["jobs", "status", job, "--json"]);
    let v = serde_json::from_str(&r.stdout).unwrap_or_else(|_| {
        let log = std::fs::read_to_string(s.path().join(".harness/daemon.log")).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(15).collect();
        panic!(
            "record (exit {}): {}\ndaemon.log, last lines first:\n{}",
            r.code,
            r.all(),
            tail.join("\n")
        )
    });
    (v, r.code)
}

/// Milliseconds of the day of a record's `2026-12-03 11:03:10.081`.
fn ms_of_day(ts: &str) -> i64 {
    let time = ts.split(' ').nth(1).expect("a time");
    let mut parts = time.split([':', '.']).map(|p| p.parse::<i64>().unwrap());
    let (h, m, s, ms) = (
        parts.next().unwrap(),
        parts.next().unwrap(),
        parts.next().unwrap(),
        parts.next().unwrap(),
    );
    ((h * 60 + m) * 60 + s) * 1000 + ms
}

/// The `(state, status, attempt)` of each entry of a record's history.
fn timeline(v: &serde_json::Value) -> Vec<(String, String, i64)> {
    v["state_history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["state"].as_str().unwrap().to_string(),
                e["status"].as_str().unwrap().to_string(),
                e["attempt"].as_i64().unwrap(),
            )
        })
        .collect()
}

fn entries(list: &[(&str, &str, i64)]) -> Vec<(String, String, i64)> {
    list.iter()
        .map(|(a, b, c)| (a.to_string(), b.to_string(), *c))
        .collect()
}

/// Seed 003's image build in small: base makes an image from a lock file;
/// kickstart fails on a network timeout (EX_TEMPFAIL) until `ok` exists,
/// retried with backoff, 3 attempts in all; tests runs last.
const IMAGE: &str = r#"jobs:
  image:
    steps:
      - name: base
        command: "echo built >> base.runs; cp versions.lock base.iso"
        inputs: [versions.lock]
        outputs: [base.iso]
      - name: kickstart
        command: "echo kicked >> kickstart.runs; test -f ok || { echo 'Network unreachable'; exit 75; }"
        retry: { transient: { max_attempts: 3, backoff: { initial: 300ms, max: 10s } } }
      - { name: tests, command: "echo tested >> tests.runs" }
"#;

fn image() -> Stack {
    let s = Stack::new(IMAGE);
    std::fs::write(s.path().join("versions.lock"), "a=1\n").unwrap();
    s
}

fn runs_of(s: &Stack, step: &str) -> usize {
    std::fs::read_to_string(s.path().join(format!("{step}.runs")))
        .unwrap_or_default()
        .lines()
        .count()
}

#[test]
fn a_step_that_fails_stays_at_its_state_is_retried_there_and_the_job_resumes_from_it() {
    let s = image();
    let r = s.harness(&["run", "image"]);
    assert_eq!(r.code, 3, "{}", r.all());
    assert!(
        r.stdout
            .contains("kickstart  failed (attempt 3/3): exit code 75 is transient"),
        "{}",
        r.stdout
    );
    assert_eq!(runs_of(&s, "kickstart"), 3, "three attempts in all");
    assert_eq!(runs_of(&s, "tests"), 0, "no later step ran");
    let (v, code) = record(&s, "image");
    assert_eq!(code, 3, "a failed job's status exits 3");
    assert_eq!(v["current_state"], "kickstart");
    assert_eq!(v["status"], "failed");
    assert_eq!(
        (v["attempt"].as_i64(), v["max_attempts"].as_i64()),
        (Some(3), Some(3))
    );
    assert_eq!(v["failure"]["class"], "transient");
    assert_eq!(v["failure"]["exit_code"], 75);
    assert_eq!(v["failure"]["error"], "Network unreachable");
    assert_eq!(v["next_action"]["kind"], "manual");
    // Each attempt's own log is kept.
    let log = v["failure"]["log"].as_str().unwrap();
    let text = std::fs::read_to_string(s.path().join(".harness").join(log)).unwrap();
    assert_eq!(text, "Network unreachable\n");
    let history = v["state_history"].as_array().unwrap();
    let at = |i: usize| ms_of_day(history[i]["timestamp"].as_str().unwrap());
    // base: started, completed; then kickstart's three attempts, each
    // started and failed, the waits between them doubling from 300ms.
    assert_eq!(
        timeline(&v),
        entries(&[
            ("base", "started", 1),
            ("base", "completed", 1),
            ("kickstart", "started", 1),
            ("kickstart", "failed", 1),
            ("kickstart", "started", 2),
            ("kickstart", "failed", 2),
            ("kickstart", "started", 3),
            ("kickstart", "failed", 3),
        ])
    );
    let (first_wait, second_wait) = (at(4) - at(3), at(6) - at(5));
    assert!(first_wait >= 300, "first backoff {first_wait}ms");
    assert!(second_wait >= 600, "second backoff {second_wait}ms");
    assert_eq!(history[3]["error"], "Network unreachable");
    let (code, text) = http(s.socket(), "GET", "/metrics");
    assert_eq!(code, 200);
    for line in [
        "harness_job_step_attempts_total{job=\"image\",step=\"base\",class=\"none\",result=\"completed\"} 1",
        "harness_job_step_attempts_total{job=\"image\",step=\"kickstart\",class=\"transient\",result=\"failed\"} 3",
    ] {
        assert!(text.lines().any(|l| l == line), "{line}\n{text}");
    }
    // Each attempt's output on its own, the latest by default.
    let r = s.harness(&["jobs", "logs", "image", "kickstart", "--attempt", "2"]);
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (0, "Network unreachable\n"),
        "{}",
        r.all()
    );
    let r = s.harness(&["jobs", "logs", "image", "tests"]);
    assert_eq!(r.code, 2, "a step that never ran: {}", r.all());
    assert!(
        r.stderr.contains("step `tests` of job `image` has not run"),
        "{}",
        r.stderr
    );

    // Fixed: the same run goes on at kickstart; base is up to date.
    std::fs::write(s.path().join("ok"), "").unwrap();
    let r = s.harness(&["run", "image"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains("run 1 (resumed)"), "{}", r.stdout);
    assert!(
        r.stdout.contains("= base       skip  up to date"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("kickstart  started (attempt 4)"),
        "{}",
        r.stdout
    );
    assert_eq!(runs_of(&s, "base"), 1, "base ran again");
    assert_eq!(runs_of(&s, "kickstart"), 4);
    assert_eq!(runs_of(&s, "tests"), 1);
    let (v, code) = record(&s, "image");
    assert_eq!(code, 0);
    assert_eq!(
        (v["run"].as_i64(), v["status"].as_str()),
        (Some(1), Some("completed"))
    );
    assert_eq!(v["current_state"], "tests");
    assert!(v["failure"].is_null());
    // The seed's record: failed, started again at the same state, completed.
    let t = timeline(&v);
    assert_eq!(
        t[7..],
        entries(&[
            ("kickstart", "failed", 3),
            ("kickstart", "started", 4),
            ("kickstart", "completed", 4),
            ("tests", "started", 1),
            ("tests", "completed", 1),
        ])[..]
    );
}

#[test]
fn a_completed_step_runs_again_only_when_its_inputs_or_outputs_changed_saying_which() {
    let s = image();
    std::fs::write(s.path().join("ok"), "").unwrap();
    assert_eq!(s.harness(&["run", "image"]).code, 0);
    // Nothing changed: a new run skips every step.
    let r = s.harness(&["run", "image"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stdout.contains("Job image, run 2: 0 of 3 steps to run"),
        "{}",
        r.stdout
    );
    assert_eq!(runs_of(&s, "base"), 1);
    // An input changed: base and every later step run.
    std::fs::write(s.path().join("versions.lock"), "a=2\n").unwrap();
    let r = s.harness(&["run", "image"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stdout
            .contains("▶ base       run   input versions.lock changed"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("▶ kickstart  run   an earlier step runs (base)"),
        "{}",
        r.stdout
    );
    assert_eq!((runs_of(&s, "base"), runs_of(&s, "kickstart")), (2, 2));
    // A declared output is gone: its step runs again.
    std::fs::remove_file(s.path().join("base.iso")).unwrap();
    let r = s.harness(&["run", "image"]);
    assert!(
        r.stdout
            .contains("▶ base       run   output base.iso missing"),
        "{}",
        r.stdout
    );
    assert_eq!(runs_of(&s, "base"), 3);
    // Changed by hand since it was made: not taken as the step's.
    std::fs::write(s.path().join("base.iso"), "tampered").unwrap();
    let r = s.harness(&["run", "image"]);
    assert!(
        r.stdout
            .contains("output base.iso changed since it was made"),
        "{}",
        r.stdout
    );
    // --restart runs everything; --from a step, it and what follows.
    let r = s.harness(&["run", "image", "--from", "kickstart"]);
    assert!(
        r.stdout.contains("Job image, run 6: 2 of 3 steps to run"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("▶ kickstart  run   --from kickstart"),
        "{}",
        r.stdout
    );
    let r = s.harness(&["run", "image", "--restart"]);
    assert!(r.stdout.contains("3 of 3 steps to run"), "{}", r.stdout);
    let r = s.harness(&["jobs", "history", "image", "--json"]);
    let runs: Vec<serde_json::Value> = serde_json::from_str(&r.stdout).unwrap();
    let how: Vec<&str> = runs.iter().map(|r| r["start"].as_str().unwrap()).collect();
    assert_eq!(
        how,
        [
            "restart",
            "from kickstart",
            "resume",
            "resume",
            "resume",
            "resume",
            "resume"
        ]
    );
}

#[test]
fn a_failed_attempt_leaves_none_of_its_declared_outputs() {
    let s = Stack::new(
        r#"jobs:
  pack:
    steps:
      - name: tar
        command: "echo half > out.tar; echo 'disk full' >&2; exit 1"
        outputs: [out.tar]
"#,
    );
    let r = s.harness(&["run", "pack"]);
    assert_eq!(r.code, 3, "{}", r.all());
    assert!(
        r.stdout
            .contains("exit code 1 is not classified (persistent)"),
        "{}",
        r.stdout
    );
    assert!(
        !s.path().join("out.tar").exists(),
        "the half-written output was kept"
    );
    let (v, _) = record(&s, "pack");
    assert_eq!(v["failure"]["error"], "disk full");
    assert_eq!(v["failure"]["class"], "persistent");
}

#[test]
fn a_step_that_exits_0_without_its_declared_output_has_failed() {
    let s = Stack::new(
        "jobs:\n  pack:\n    steps:\n      - { name: tar, command: 'true', outputs: [out.tar] }\n",
    );
    let r = s.harness(&["run", "pack"]);
    assert_eq!(r.code, 3, "{}", r.all());
    let (v, _) = record(&s, "pack");
    assert_eq!(v["status"], "failed");
    assert_eq!(v["failure"]["error"], "output out.tar was not made");
}

#[test]
fn a_step_outlives_a_killed_daemon_and_the_next_one_records_it_and_goes_on() {
    let s = Stack::new(
        r#"jobs:
  build:
    steps:
      - { name: fetch, command: "echo fetched" }
      - { name: compile, command: "sleep 1.5; echo compiled > compiled" }
      - { name: link, command: "echo linked > linked" }
"#,
    );
    let r = s.harness(&["run", "build", "--no-wait"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        wait_for(10, || record(&s, "build").0["current_state"] == "compile"),
        "compile never began"
    );
    s.kill_daemon();
    // The step keeps running without a daemon and completes.
    assert!(
        wait_for(10, || s.path().join("compiled").exists()),
        "the step died with the daemon"
    );
    // The next daemon (started by this command) records its end and runs
    // the step after it.
    assert!(
        wait_for(10, || record(&s, "build").0["status"] == "completed"),
        "{:#?}",
        record(&s, "build").0
    );
    assert!(s.path().join("linked").exists());
    let (v, _) = record(&s, "build");
    assert_eq!(
        timeline(&v)[2..4],
        entries(&[("compile", "started", 1), ("compile", "completed", 1)])[..]
    );
}

#[test]
fn a_step_that_is_not_idempotent_and_vanished_with_no_end_needs_a_decision() {
    let s = Stack::new(
        r#"jobs:
  deploy:
    steps:
      - name: migrate
        command: "test -f quick || { echo $$ > migrate.pid; exec sleep 30; }"
        idempotent: false
      - { name: announce, command: "echo done" }
"#,
    );
    assert_eq!(s.harness(&["run", "deploy", "--no-wait"]).code, 0);
    let pid = pid_in(&s, "migrate.pid");
    // The host dies: daemon, shim and step all at once, no end written.
    let shim = parent_of(pid);
    s.kill_daemon();
    kill(shim, libc::SIGKILL);
    kill(pid, libc::SIGKILL);
    assert!(wait_for(5, || !alive(pid)));
    // The next daemon learns of the end it did not see as it re-attaches.
    assert!(
        wait_for(10, || record(&s, "deploy").0["status"] == "needs_decision"),
        "{:#}",
        record(&s, "deploy").0
    );
    let (v, code) = record(&s, "deploy");
    assert_eq!(code, 3);
    assert_eq!(v["current_state"], "migrate");
    // A plain resume would run it again behind the person's back: refused.
    let r = s.harness(&["run", "deploy"]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(r.stderr.contains("--from migrate"), "{}", r.stderr);
    // They decide: run it again from there.
    std::fs::write(s.path().join("quick"), "").unwrap();
    let r = s.harness(&["run", "deploy", "--from", "migrate"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stdout.contains("Job deploy, run 2: 2 of 2 steps"),
        "{}",
        r.stdout
    );
}

/// The pid a step wrote to `file` (`echo $$ > file; exec …`), once it has.
fn pid_in(s: &Stack, file: &str) -> u32 {
    let mut pid = None;
    assert!(
        wait_for(10, || {
            pid = std::fs::read_to_string(s.path().join(file))
                .ok()
                .and_then(|p| p.trim().parse::<u32>().ok());
            pid.is_some()
        }),
        "the step never wrote {file}"
    );
    pid.expect("a pid")
}

fn parent_of(pid: u32) -> u32 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let (_, rest) = stat.rsplit_once(')').unwrap();
    rest.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
fn a_retry_due_survives_a_daemon_restart_and_waits_out_the_rest_of_its_backoff() {
    let s = Stack::new(
        r#"jobs:
  sync:
    steps:
      - name: pull
        command: "echo pulled >> pull.runs; test -f ok || exit 75"
        retry: { transient: { max_attempts: 2, backoff: { initial: 3s } } }
"#,
    );
    assert_eq!(s.harness(&["run", "sync", "--no-wait"]).code, 0);
    assert!(wait_for(10, || record(&s, "sync").0["status"] == "waiting_retry"));
    let (v, _) = record(&s, "sync");
    assert_eq!(v["next_action"]["kind"], "auto_retry");
    s.kill_daemon();
    std::fs::write(s.path().join("ok"), "").unwrap();
    // The next daemon neither retries at once nor forgets the retry.
    let (v, _) = record(&s, "sync");
    assert_eq!(v["status"], "waiting_retry", "{v:#}");
    assert!(
        wait_for(10, || record(&s, "sync").0["status"] == "completed"),
        "the retry never came"
    );
    let (v, _) = record(&s, "sync");
    let h = v["state_history"].as_array().unwrap();
    let failed = ms_of_day(h[1]["timestamp"].as_str().unwrap());
    let again = ms_of_day(h[2]["timestamp"].as_str().unwrap());
    assert!(again - failed >= 2900, "retried after {}ms", again - failed);
    assert_eq!(runs_of(&s, "pull"), 2);
}

#[test]
fn ctrl_c_lets_the_step_under_way_finish_and_starts_no_further_one() {
    let s = Stack::new(
        r#"jobs:
  build:
    steps:
      - { name: compile, command: "sleep 1; echo compiled > compiled" }
      - { name: link, command: "echo linked > linked" }
"#,
    );
    let mut run = Background::start(&mut s.command(&["run", "build"]));
    assert!(wait_for(10, || record(&s, "build").0["status"] == "running"));
    kill(run.pid(), libc::SIGINT);
    let status = run.wait(Duration::from_secs(10));
    assert_eq!(status.code(), Some(130));
    assert!(
        wait_for(10, || record(&s, "build").0["status"] == "interrupted"),
        "{:#?}",
        record(&s, "build").0
    );
    assert!(
        s.path().join("compiled").exists(),
        "the step under way was stopped"
    );
    assert!(!s.path().join("linked").exists(), "a further step started");
    // Resumed: the same run goes on with the next step.
    let r = s.harness(&["run", "build"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stdout.contains("run 1 (resumed): 1 of 2 steps to run"),
        "{}",
        r.stdout
    );
    assert!(s.path().join("linked").exists());
}

#[test]
fn a_step_past_its_timeout_is_stopped_and_a_cancelled_run_is_recorded_so() {
    let s = Stack::new(
        r#"jobs:
  slow:
    steps:
      - name: wait
        command: "sleep 30"
        timeout: 300ms
        retry: { transient: { max_attempts: 1 } }
  long:
    steps:
      - { name: wait, command: "sleep 30" }
"#,
    );
    let r = s.harness(&["run", "slow"]);
    assert_eq!(r.code, 3, "{}", r.all());
    assert!(
        r.stdout
            .contains("failed (attempt 1/1): it ran past its timeout"),
        "{}",
        r.stdout
    );
    assert_eq!(s.harness(&["run", "long", "--no-wait"]).code, 0);
    assert!(wait_for(10, || record(&s, "long").0["state_history"]
        .as_array()
        .is_some_and(|h| !h.is_empty())));
    let r = s.harness(&["jobs", "cancel", "long"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(wait_for(15, || record(&s, "long").0["status"] == "cancelled"));
    let (v, _) = record(&s, "long");
    assert_eq!(
        timeline(&v),
        entries(&[("wait", "started", 1), ("wait", "cancelled", 1)])
    );
}

#[test]
fn an_unknown_job_or_step_is_a_usage_error_naming_the_known_ones() {
    let s = image();
    let r = s.harness(&["run", "imgae"]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(
        r.stderr.contains("unknown job `imgae`; jobs are: image"),
        "{}",
        r.stderr
    );
    let r = s.harness(&["run", "image", "--from", "kikstart"]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(
        r.stderr
            .contains("job `image` has no step `kikstart`; its steps are: base, kickstart, tests"),
        "{}",
        r.stderr
    );
    let r = s.harness(&["jobs", "status", "imgae"]);
    assert_eq!(r.code, 2, "{}", r.all());
    // Never run: shown as such, with what to type.
    let r = s.harness(&["jobs", "status"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains("never_run"), "{}", r.stdout);
}

#[test]
fn off_a_terminal_on_error_retries_once_or_cleans_up_and_a_mark_lets_the_job_go_on() {
    let s = Stack::new(
        r#"jobs:
  image:
    cleanup: "echo cleaned >> cleanup.runs"
    steps:
      - { name: tests, command: "echo tried >> tests.runs; exit 1" }
      - { name: ship, command: "echo shipped > shipped" }
"#,
    );
    // Default: stop, one attempt, nothing asked.
    assert_eq!(s.harness(&["run", "image"]).code, 3);
    assert_eq!(runs_of(&s, "tests"), 1);
    // --on-error retry: one more attempt, not a loop.
    let r = s.harness(&["run", "image", "--on-error", "retry"]);
    assert_eq!(r.code, 3, "{}", r.all());
    assert_eq!(runs_of(&s, "tests"), 3, "the resumed attempt and one retry");
    // --on-error cleanup: the job's cleanup runs; the state stays.
    let r = s.harness(&["run", "image", "--on-error", "cleanup"]);
    assert_eq!(r.code, 3, "{}", r.all());
    assert!(
        r.stdout.contains("✓ cleanup of image: exit code 0"),
        "{}",
        r.stdout
    );
    assert_eq!(runs_of(&s, "cleanup"), 1);
    let (v, _) = record(&s, "image");
    assert_eq!(
        (v["current_state"].as_str(), v["status"].as_str()),
        (Some("tests"), Some("failed"))
    );
    // Marked completed by hand: the next run goes on after it.
    let r = s.harness(&[
        "jobs",
        "mark",
        "image",
        "tests",
        "--completed",
        "--reason",
        "fixed by hand",
    ]);
    assert_eq!(r.code, 0, "{}", r.all());
    let r = s.harness(&["run", "image"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stdout.contains("= tests  skip  up to date"),
        "{}",
        r.stdout
    );
    assert!(s.path().join("shipped").exists());
    let (v, _) = record(&s, "image");
    assert!(
        v["state_history"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["status"] == "marked" && e["error"] == "fixed by hand"),
        "{v:#}"
    );
    // A mark needs its reason; a step that is not the job's is a usage error.
    assert_eq!(
        s.harness(&["jobs", "mark", "image", "tests", "--completed"])
            .code,
        2
    );
    assert_eq!(
        s.harness(&[
            "jobs",
            "mark",
            "image",
            "nope",
            "--completed",
            "--reason",
            "x"
        ])
        .code,
        2
    );
}

#[test]
fn a_service_that_depends_on_a_job_starts_only_after_the_job_completed() {
    let s = Stack::new(
        r#"services:
  api:
    command: "test -f app.bin && exec sleep 1000"
    depends_on: { build: { condition: completed } }
jobs:
  build:
    steps:
      - { name: compile, command: "sleep 0.5; test -f src.c && cp src.c app.bin", inputs: [src.c], outputs: [app.bin] }
"#,
    );
    // The job cannot complete: api is blocked by it, and says so.
    let r = s.harness(&["start", "api"]);
    assert_eq!(r.code, 3, "{}", r.all());
    assert!(
        r.all().contains("job build failed at step compile"),
        "{}",
        r.all()
    );
    assert!(s.pid("api").is_none());
    // Fixed: the start runs the job (resumed), then api.
    std::fs::write(s.path().join("src.c"), "int main;").unwrap();
    let r = s.harness(&["start", "api"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(s.pid("api").is_some(), "{}", r.all());
    let (v, _) = record(&s, "build");
    assert_eq!(v["status"], "completed");
    // Up to date: a later start needs no new run of it.
    assert_eq!(s.harness(&["stop", "api"]).code, 0);
    assert_eq!(s.harness(&["start", "api"]).code, 0);
    let (again, _) = record(&s, "build");
    assert_eq!(again["run"], v["run"], "a new run of an up-to-date job");
}

#[test]
fn a_job_that_needs_a_service_starts_it_first_and_fails_before_any_step_if_it_cannot() {
    let s = Stack::new(
        r#"services:
  db:
    command: "test -f db.ok && exec sleep 1000"
jobs:
  migrate:
    depends_on: { db: { condition: started } }
    steps:
      - { name: apply, command: "echo applied >> apply.runs" }
"#,
    );
    let r = s.harness(&["run", "migrate"]);
    assert_eq!(r.code, 3, "{}", r.all());
    assert!(
        r.stdout
            .contains("why:  needs db up, and it did not come up"),
        "{}",
        r.stdout
    );
    assert_eq!(runs_of(&s, "apply"), 0, "a step ran without its service");
    std::fs::write(s.path().join("db.ok"), "").unwrap();
    let r = s.harness(&["run", "migrate"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(runs_of(&s, "apply"), 1);
    assert!(
        s.pid("db").is_some(),
        "db was started for it and keeps running"
    );
}

#[test]
fn stop_all_cancels_a_jobs_step_under_way() {
    let s = Stack::new(
        r#"services:
  db: { command: sleep 1000 }
jobs:
  long:
    steps:
      - { name: wait, command: "echo $$ > wait.pid; exec sleep 30" }
"#,
    );
    assert_eq!(s.harness(&["start", "db"]).code, 0);
    assert_eq!(s.harness(&["run", "long", "--no-wait"]).code, 0);
    let pid = pid_in(&s, "wait.pid");
    let r = s.harness(&["stop", "--all"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(wait_for(15, || !alive(pid)), "the step outlived stop --all");
    assert!(wait_for(5, || record(&s, "long").0["status"] == "cancelled"));
    assert!(s.pid("db").is_none());
}

#[test]
fn a_step_whose_input_an_earlier_step_makes_is_up_to_date_on_the_next_run() {
    let s = Stack::new(
        r#"jobs:
  image:
    steps:
      - { name: base, command: "date +%N > base.iso", outputs: [base.iso] }
      - { name: pack, command: "cp base.iso image.tar", inputs: [base.iso], outputs: [image.tar] }
"#,
    );
    assert_eq!(s.harness(&["run", "image"]).code, 0);
    // pack's print was taken when it began, with the base.iso base had just
    // made: nothing changed since.
    let r = s.harness(&["run", "image"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains("0 of 2 steps to run"), "{}", r.stdout);
}

#[test]
fn an_attempt_a_killed_daemon_was_cancelling_is_stopped_and_closed_by_the_next_one() {
    let s = Stack::new(
        r#"jobs:
  stubborn:
    steps:
      - { name: wait, command: "trap '' TERM; echo $$ > wait.pid; while true; do sleep 0.1; done" }
"#,
    );
    assert_eq!(s.harness(&["run", "stubborn", "--no-wait"]).code, 0);
    let pid = pid_in(&s, "wait.pid");
    assert_eq!(s.harness(&["jobs", "cancel", "stubborn"]).code, 0);
    // Killed while the step ignores its SIGTERM, before the SIGKILL.
    s.kill_daemon();
    assert!(alive(pid));
    let (v, _) = record(&s, "stubborn");
    assert_eq!(v["status"], "cancelled", "{v:#}");
    // The next daemon finishes the stop and records how the attempt ended.
    assert!(wait_for(20, || !alive(pid)), "the step was left running");
    assert!(wait_for(5, || {
        timeline(&record(&s, "stubborn").0)
            == entries(&[("wait", "started", 1), ("wait", "cancelled", 1)])
    }));
}

#[test]
fn a_resumed_run_keeps_its_new_limit_across_a_daemon_restart() {
    let s = Stack::new(
        r#"jobs:
  sync:
    steps:
      - name: pull
        command: "echo pulled >> pull.runs; exit 75"
        retry: { transient: { max_attempts: 3, backoff: { initial: 1s, max: 1s } } }
"#,
    );
    assert_eq!(s.harness(&["run", "sync"]).code, 3);
    assert_eq!(runs_of(&s, "pull"), 3);
    // Resumed: attempts 4 to 6 are its new limit.
    assert_eq!(s.harness(&["run", "sync", "--no-wait"]).code, 0);
    assert!(wait_for(10, || record(&s, "sync").0["status"] == "waiting_retry"));
    s.kill_daemon();
    assert!(
        wait_for(15, || record(&s, "sync").0["status"] == "failed"),
        "{:#?}",
        record(&s, "sync").0
    );
    assert_eq!(
        runs_of(&s, "pull"),
        6,
        "the new daemon counted the run's older attempts against the limit"
    );
    let (v, _) = record(&s, "sync");
    assert_eq!(
        (v["attempt"].as_i64(), v["max_attempts"].as_i64()),
        (Some(6), Some(6))
    );
}
