//! The wire and text formats users and scripts read, from the real binary
//! and daemon, against checked-in snapshots (`tests/snapshots/`), with pids,
//! times and paths redacted: `status --json`, `status --history` and its
//! JSON, the SSE frames of a start and a stop, and each class of error.

mod common;
use common::*;
use serde_json::Value;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::time::Duration;

/// db ← api: a chain, so every event comes in one order.
const CHAIN: &str = "services:\n  db:\n    command: sleep 1000\n  api:\n    command: sleep 1000\n    depends_on: [db]\n";

/// Each SSE frame of `POST path` with `body`, as `{event, data}`, numbers
/// that vary from run to run redacted. HTTP/1.0, so the daemon ends the
/// body by closing the connection (no chunked framing to undo).
fn sse(s: &Stack, path: &str, body: &str) -> Vec<Value> {
    let sock = s.path().join(".harness/harness.sock");
    let mut c = UnixStream::connect(sock).expect("daemon socket");
    c.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        c,
        "POST {path} HTTP/1.0\r\nHost: harness\r\ncontent-type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut raw = String::new();
    c.read_to_string(&mut raw).expect("the stream ends");
    let (_, stream) = raw.split_once("\r\n\r\n").expect("headers");
    let mut frames = Vec::new();
    let (mut event, mut id) = (String::new(), None);
    for line in stream.lines() {
        if let Some(e) = line.strip_prefix("event:") {
            event = e.trim().to_string();
        } else if let Some(i) = line.strip_prefix("id:") {
            id = i.trim().parse::<u64>().ok();
        } else if let Some(d) = line.strip_prefix("data:") {
            let mut data: Value = serde_json::from_str(d.trim()).expect("json data");
            redact(&mut data);
            let mut frame = serde_json::json!({ "event": event, "data": data });
            if let Some(id) = id.take() {
                frame["id"] = id.into();
            }
            frames.push(frame);
        }
    }
    frames
}

/// Replaces times and pids, at any depth, with their names.
fn redact(v: &mut Value) {
    if let Value::Object(map) = v {
        for (key, value) in map.iter_mut() {
            if ["elapsed_ms", "pid", "elapsed"].contains(&key.as_str()) {
                *value = Value::String(format!("[{key}]"));
            } else {
                redact(value);
            }
        }
    }
}

#[test]
fn sse_frames_of_a_start_and_a_stop() {
    let s = Stack::new(CHAIN);
    // The first command starts the daemon; the stream test needs it up.
    assert_eq!(s.harness(&["status"]).code, 0);
    let start = sse(&s, "/v1/start", r#"{"all": true}"#);
    // "healthy in 251ms": how long it took varies.
    insta::with_settings!({ filters => vec![(r"\b\d+ms\b", "[ms]")] }, {
        insta::assert_json_snapshot!("start_frames", start);
    });
    s.status(); // remember the pids, for cleanup
    let stop = sse(&s, "/v1/stop", r#"{"all": true}"#);
    insta::assert_json_snapshot!("stop_frames", stop);
}

#[test]
fn plan_and_sse_frames_of_a_deploy() {
    let s = Stack::new(CHAIN);
    assert_eq!(s.harness(&["start", "--all"]).code, 0);
    s.status(); // remember the pids, for cleanup
    let changed = CHAIN.replace(
        "    depends_on: [db]\n",
        "    depends_on: [db]\n    env: { PORT: \"8080\" }\n    update: { min_healthy: 0s }\n",
    );
    std::fs::write(s.path().join("services.yaml"), changed).unwrap();
    let plan = http_with_body(s.socket(), "POST", "/v1/deploy/plan", "{}");
    assert_eq!(plan.0, 200, "{}", plan.1);
    let plan: Value = serde_json::from_str(&plan.1).unwrap();
    insta::assert_json_snapshot!("deploy_plan", plan);
    let frames = sse(&s, "/v1/deploy", "{}");
    insta::assert_json_snapshot!("deploy_frames", frames, {
        "[].data.deploy" => "[id]",
    });
    s.status();
}

#[test]
fn status_json_and_history_of_a_started_stack() {
    let s = Stack::new(CHAIN);
    assert_eq!(s.harness(&["start", "--all"]).code, 0);
    insta::assert_json_snapshot!("status_json", s.status(), {
        ".services[].pid" => "[pid]",
        ".services[].uptime_secs" => "[uptime]",
    });
    assert_eq!(s.harness(&["stop", "api"]).code, 0);
    insta::assert_json_snapshot!("history_json", s.history(), {
        "[].ts" => "[ts]",
    });
    let text = s.harness(&["status", "--history"]).stdout;
    let text = regex_lite_ts(&text);
    insta::assert_snapshot!("history_text", text);
}

/// `GET path` over HTTP/1.0: the daemon ends a streamed body by closing
/// the connection, so there is no chunked framing to undo.
fn get_1_0(s: &Stack, path: &str) -> (u16, String) {
    let mut c = s.socket();
    c.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(c, "GET {path} HTTP/1.0\r\nHost: harness\r\n\r\n").unwrap();
    let mut raw = String::new();
    c.read_to_string(&mut raw).expect("the answer ends");
    let code = raw
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let (_, body) = raw.split_once("\r\n\r\n").expect("headers");
    (code, body.to_string())
}

#[test]
fn ndjson_lines_of_every_services_log() {
    let s = Stack::new(
        "services:\n  db:\n    command: echo ready; exec sleep 1000\n  api:\n    command: echo listening >&2; exec sleep 1000\n    depends_on: [db]\n",
    );
    assert_eq!(s.harness(&["start", "--all"]).code, 0);
    assert!(wait_for(10, || s.log("api").contains("listening")));
    let (code, body) = get_1_0(&s, "/v1/logs");
    assert_eq!(code, 200, "{body}");
    let lines: Vec<Value> = body
        .lines()
        .map(|l| {
            let mut v: Value = serde_json::from_str(l).expect("a JSON line");
            let ts = v["ts"].as_str().expect("a capture time");
            assert!(ts.len() == 27 && ts.ends_with('Z'), "{ts}");
            v["ts"] = "[ts]".into();
            v
        })
        .collect();
    insta::assert_json_snapshot!("logs_ndjson", lines);
    let (code, body) = get_1_0(&s, "/v1/logs?services=db,nosuch");
    assert_eq!(code, 404);
    insta::assert_snapshot!("logs_unknown", body);
}

/// Replaces each line's leading `YYYY-MM-DD HH:MM:SS` with `[ts]`.
fn regex_lite_ts(text: &str) -> String {
    text.lines()
        .map(|l| match l.get(..19) {
            Some(ts) if ts.as_bytes().get(4) == Some(&b'-') => format!("[ts]{}", &l[19..]),
            _ => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// One error of each class: what the user reads and the exit code.
fn error(s: &Stack, args: &[&str]) -> String {
    let r = s.harness(args);
    let dir = s.path().display().to_string();
    format!(
        "$ harness {}\nexit {}\n{}{}",
        args.join(" "),
        r.code,
        r.stdout.replace(&dir, "[dir]"),
        r.stderr.replace(&dir, "[dir]")
    )
}

#[test]
fn error_messages_by_class() {
    let s = Stack::new(CHAIN);
    let usage = [
        error(&s, &["start", "nosuch"]),
        error(&s, &["start", "--rollback-on-failure", "--smart-rollback"]),
        error(&s, &["logs", "nosuch"]),
        error(&s, &["logs", "--since", "soon"]),
        error(&s, &["-f", "missing.yaml", "status"]),
    ];
    insta::assert_snapshot!("usage_errors", usage.join("\n"));
    let bad = Stack::new(
        "services:\n  db:\n    comand: sleep 1000\n  api:\n    command: x\n    depends_on: [dbb]\n    restart: { policy: sometimes }\n",
    );
    insta::assert_snapshot!("config_errors", error(&bad, &["start", "--all"]));
}

#[test]
fn sse_frames_of_a_start_that_rolls_back() {
    let s = Stack::new(
        "services:\n  db:\n    command: sleep 1000\n  api:\n    command: exit 1\n    depends_on: [db]\n",
    );
    assert_eq!(s.harness(&["status"]).code, 0);
    let frames = sse(
        &s,
        "/v1/start",
        r#"{"all": true, "on_failure": "rollback"}"#,
    );
    insta::with_settings!({ filters => vec![(r"\b\d+ms\b", "[ms]")] }, {
        insta::assert_json_snapshot!("rollback_frames", frames);
    });
    assert_eq!(s.service("db")["status"], "stopped", "rolled back");
}

/// A job whose second step fails once (transient), then completes: the
/// SSE frames of its run, its record and its runs, as scripts read them.
const JOB: &str = r#"jobs:
  image:
    steps:
      - { name: base, command: "echo base" }
      - name: kickstart
        command: "test -f tried && exit 0; touch tried; echo 'Network unreachable'; exit 75"
        retry: { transient: { max_attempts: 2, backoff: { initial: 10ms } } }
"#;

#[test]
fn sse_frames_record_and_runs_of_a_job() {
    let s = Stack::new(JOB);
    assert_eq!(s.harness(&["jobs", "status"]).code, 0);
    let frames = sse(&s, "/v1/jobs/image/run", "{}");
    insta::assert_json_snapshot!("job_run_frames", frames);
    let (code, record) = http(s.socket(), "GET", "/v1/jobs/image");
    assert_eq!(code, 200, "{record}");
    let record: Value = serde_json::from_str(&record).unwrap();
    insta::assert_json_snapshot!("job_record", record, {
        ".state_history[].timestamp" => "[ts]",
        ".started" => "[ts]",
        ".ended" => "[ts]",
    });
    let (code, runs) = http(s.socket(), "GET", "/v1/jobs/image/runs");
    assert_eq!(code, 200, "{runs}");
    let runs: Value = serde_json::from_str(&runs).unwrap();
    insta::assert_json_snapshot!("job_runs", runs, {
        "[].started" => "[ts]",
        "[].ended" => "[ts]",
    });
}
