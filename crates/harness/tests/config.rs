//! Bad config: a clear error with file:line:col, exit 2, nothing started.

mod common;
use common::*;
use std::process::Command;

#[test]
fn config_errors_exit_2_before_anything_starts() {
    let cases = [
        (
            "services:\n  api:\n    comand: x\n",
            "services.yaml:3:5: unknown key `comand` in service `api`",
        ),
        (
            "services:\n  a: { command: x, depends_on: [b] }\n  b: { command: x, depends_on: [a] }\n",
            "dependency cycle: a → b → a",
        ),
        (
            "services:\n  ../evil:\n    command: x\n",
            "invalid service name `../evil`",
        ),
        (
            "services:\n  api:\n    command: x\n    working_dir: ./missing\n",
            "services.yaml:4:18: working_dir `./missing`",
        ),
        // A job's mistake stops a start too: the file is one.
        (
            "services:\n  api:\n    command: x\njobs:\n  build:\n    steps:\n      - { name: a, comand: make }\n",
            "services.yaml:7:20: unknown key `comand` in a step",
        ),
    ];
    for (yaml, want) in cases {
        let s = Stack::new(yaml);
        let r = s.harness(&["start", "--all"]);
        assert_eq!(r.code, 2, "{yaml}: {}", r.all());
        assert!(r.stderr.contains(want), "want {want:?} in:\n{}", r.stderr);
        assert!(
            !s.path().join(".harness").exists(),
            "no daemon, no state for a bad config"
        );
    }
}

#[test]
fn usage_errors_exit_2() {
    let s = Stack::new("services:\n  api:\n    command: sleep 1000\n");
    assert_eq!(s.harness(&["start", "nope"]).code, 2);
    assert_eq!(s.harness(&["frobnicate"]).code, 2);
    let none = tempfile::tempdir().unwrap();
    let r = run_within(
        Command::new(env!("CARGO_BIN_EXE_harness"))
            .arg("status")
            .current_dir(none.path()),
        HARNESS_TIMEOUT,
    );
    assert_eq!(r.status.code(), Some(2));
}

#[test]
fn config_is_found_upward_and_by_flag_and_env() {
    let s = Stack::new("services:\n  api:\n    command: sleep 1000\n");
    let sub = s.path().join("deep/er");
    std::fs::create_dir_all(&sub).unwrap();
    let bin = env!("CARGO_BIN_EXE_harness");
    let r = run_within(
        Command::new(bin)
            .args(["status", "--json"])
            .current_dir(&sub),
        HARNESS_TIMEOUT,
    );
    assert_eq!(
        r.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&r.stderr)
    );
    let elsewhere = tempfile::tempdir().unwrap();
    let file = s.path().join("services.yaml");
    let r = run_within(
        Command::new(bin)
            .arg("-f")
            .arg(&file)
            .args(["status", "--json"])
            .current_dir(elsewhere.path()),
        HARNESS_TIMEOUT,
    );
    assert_eq!(r.status.code(), Some(0));
    let r = run_within(
        Command::new(bin)
            .args(["status", "--json"])
            .env("HARNESS_FILE", &file)
            .current_dir(elsewhere.path()),
        HARNESS_TIMEOUT,
    );
    assert_eq!(r.status.code(), Some(0));
}
