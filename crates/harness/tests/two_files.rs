//! One folder, two config files: harness never acts on a file the user did
//! not name. One daemon serves a folder, for one file at a time.

mod common;
use common::*;
use std::io::{Read, Write};

const FIRST: &str = "services:\n  db:\n    command: sleep 1000\n  api:\n    command: sleep 1000\n    depends_on: [db]\n";
const OTHER: &str = "services:\n  web:\n    command: sleep 1000\n";

fn two_files() -> Stack {
    let s = Stack::new(FIRST);
    std::fs::write(s.path().join("other.yaml"), OTHER).unwrap();
    s
}

#[test]
fn another_file_is_refused_while_the_first_ones_services_run() {
    let s = two_files();
    assert_eq!(s.harness(&["start", "--all"]).code, 0);
    let before = s.pids(&["db", "api"]);
    for args in [
        &["-f", "other.yaml", "start", "--all"][..],
        &["-f", "other.yaml", "stop", "--all"][..],
        &["-f", "other.yaml", "status"][..],
    ] {
        let r = s.harness(args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.all());
        assert!(
            r.stderr.contains("services run here from")
                && r.stderr.contains("services.yaml (db, api)")
                && r.stderr.contains("stop --all`"),
            "{args:?}: {}",
            r.stderr
        );
    }
    assert_eq!(s.pids(&["db", "api"]), before, "nothing was touched");
    assert!(!s.history().iter().any(|h| h["service"] == "web"));
}

#[test]
fn with_nothing_running_the_daemon_switches_to_the_file_named() {
    let s = two_files();
    assert_eq!(s.harness(&["start", "--all"]).code, 0);
    assert_eq!(s.harness(&["stop", "--all"]).code, 0);
    let r = s.harness(&["-f", "other.yaml", "start", "--all"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stderr.contains("it now serves"), "{}", r.stderr);
    assert!(r.stdout.contains("web"), "{}", r.stdout);
    let info = s.harness(&["-f", "other.yaml", "daemon", "info"]);
    assert!(info.stdout.contains("other.yaml"), "{}", info.stdout);
    let status = s.harness(&["-f", "other.yaml", "status", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
    let names: Vec<&str> = v["services"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert_eq!(names, ["web"]);
    assert_eq!(s.harness(&["-f", "other.yaml", "stop", "--all"]).code, 0);
}

#[test]
fn the_api_refuses_a_start_made_with_another_file() {
    let s = two_files();
    assert_eq!(s.harness(&["status"]).code, 0); // the daemon, for services.yaml
    let other = s.path().join("other.yaml");
    let body = r#"{"all": true}"#;
    let request = format!(
        "POST /v1/start HTTP/1.1\r\nHost: harness\r\nContent-Type: application/json\r\nx-harness-config: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        other.display(),
        body.len()
    );
    let mut c = s.socket();
    // In one write: the daemon may answer (and close) before it reads the
    // body it refuses.
    c.write_all(request.as_bytes()).unwrap();
    let mut raw = String::new();
    c.read_to_string(&mut raw).unwrap();
    assert!(raw.starts_with("HTTP/1.1 409"), "{raw}");
    assert!(raw.contains(r#""kind":"usage""#), "{raw}");
    assert!(raw.contains("the request was made with"), "{raw}");
    assert!(s.pids(&["db", "api"]).iter().all(Option::is_none));
}

#[test]
fn services_left_running_by_a_stopped_daemon_are_not_taken_by_another_files() {
    let s = two_files();
    assert_eq!(s.harness(&["start", "--all"]).code, 0);
    let before = s.pids(&["db", "api"]);
    assert_eq!(s.harness(&["daemon", "stop"]).code, 0);
    let r = s.harness(&["-f", "other.yaml", "start", "--all"]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(
        r.stderr.contains("services run here from") && r.stderr.contains("(db, api)"),
        "{}",
        r.stderr
    );
    // The first file's daemon takes them back, as they were.
    assert_eq!(s.pids(&["db", "api"]), before);
    assert_eq!(s.harness(&["stop", "--all"]).code, 0);
}

#[test]
fn another_files_outcomes_are_not_inherited() {
    let s = Stack::new("services:\n  db:\n    command: echo from the first file; exit 1\n");
    std::fs::write(
        s.path().join("other.yaml"),
        "services:\n  db:\n    command: sleep 1000\n",
    )
    .unwrap();
    assert_eq!(s.harness(&["start", "--all"]).code, 3);
    assert_eq!(s.service("db")["health"], "failed");
    let r = s.harness(&["-f", "other.yaml", "status", "--json"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let db = &v["services"][0];
    assert_eq!(db["health"], "unknown", "{db}");
    assert_eq!(db["notes"], "", "{db}");
    assert!(db.get("last_output").is_none(), "{db}");
    assert_eq!(v["system_state"], "STOPPED");
    // The first file's logs are kept, apart.
    let kept =
        std::fs::read_to_string(s.path().join(".harness/logs-services.yaml/db.log")).unwrap();
    assert!(kept.contains("from the first file"), "{kept}");
    assert!(!s.log("db").contains("from the first file"));
}

#[test]
fn a_folder_whose_name_is_not_ascii_is_checked_too() {
    let s = Stack::new(OTHER);
    let dir = s.path().join("dépôt");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("services.yaml"), FIRST).unwrap();
    std::fs::write(dir.join("other.yaml"), OTHER).unwrap();
    let main = ["-f", "dépôt/services.yaml"];
    assert_eq!(
        s.harness(&[&main[..], &["start", "--all"]].concat()).code,
        0
    );
    let r = s.harness(&["-f", "dépôt/other.yaml", "start", "--all"]);
    assert_eq!(r.code, 2, "{}", r.all());
    // Over the API too: the header is percent-encoded, and decoded.
    let body = r#"{"all": true}"#;
    let request = format!(
        "POST /v1/start HTTP/1.1\r\nHost: harness\r\nContent-Type: application/json\r\nx-harness-config: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        dir.join("other.yaml")
            .display()
            .to_string()
            .replace("é", "%C3%A9")
            .replace("ô", "%C3%B4"),
        body.len()
    );
    let mut c = std::os::unix::net::UnixStream::connect(dir.join(".harness/harness.sock")).unwrap();
    c.set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    c.write_all(request.as_bytes()).unwrap();
    let mut raw = String::new();
    c.read_to_string(&mut raw).unwrap();
    assert!(raw.starts_with("HTTP/1.1 409"), "{raw}");
    assert_eq!(s.harness(&[&main[..], &["stop", "--all"]].concat()).code, 0);
    assert_eq!(
        s.harness(&[&main[..], &["daemon", "stop"]].concat()).code,
        0
    );
}
