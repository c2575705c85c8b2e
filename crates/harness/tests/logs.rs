//! Logs: rotation as `logs:` asks, and `harness logs` reading across the
//! rotated files in order.

mod common;
use common::*;

/// The numbers a service printed (`seq`), as `harness logs` gives them.
fn numbers(s: &Stack, args: &[&str]) -> Vec<u64> {
    let r = s.harness(args);
    assert_eq!(r.code, 0, "{}", r.all());
    r.stdout
        .lines()
        .map(|l| l.parse().unwrap_or_else(|_| panic!("not a number: {l:?}")))
        .collect()
}

fn log_files(s: &Stack, name: &str) -> Vec<(String, u64)> {
    let mut files: Vec<(String, u64)> = std::fs::read_dir(s.path().join(".harness/logs"))
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                e.metadata().unwrap().len(),
            )
        })
        .filter(|(n, _)| n.starts_with(&format!("{name}.log")) && !n.ends_with(".idx"))
        .collect();
    files.sort();
    files
}

#[test]
fn a_log_is_rotated_at_max_size_keeping_keep_files_and_read_across_them_in_order() {
    let s = Stack::new(
        r#"services:
  chatty:
    command: "seq 1 60000; exec sleep 1000"
    logs: { max_size: 100k, keep: 2 }
  quiet:
    command: "seq 1 60000; exec sleep 1000"
    logs: { keep: 0, max_size: 1k }
"#,
    );
    assert_eq!(s.harness(&["start", "--all"]).code, 0);
    s.status(); // remember the pids, for cleanup
    assert!(wait_for(10, || s.log("quiet").ends_with("60000\n")));
    assert!(wait_for(10, || s.log("chatty").ends_with("60000\n")));
    // 60000 lines are 348,894 bytes: with 100 KiB files and two kept, the
    // oldest lines are gone, and no more than three files are left.
    let files = log_files(&s, "chatty");
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        ["chatty.log", "chatty.log.1", "chatty.log.2"],
        "{files:?}"
    );
    assert!(
        files.iter().all(|(_, size)| *size <= 100 << 10),
        "{files:?}"
    );
    // Each with its index of capture times beside it, rotated with it.
    for (name, _) in &files {
        let idx = s.path().join(".harness/logs").join(format!("{name}.idx"));
        let len = std::fs::metadata(&idx).map(|m| m.len()).unwrap_or(0);
        assert!(len > 0 && len.is_multiple_of(16), "{name}.idx: {len} bytes");
    }
    // Read across them, oldest first: a run of numbers up to the last.
    let got = numbers(&s, &["logs", "chatty"]);
    let first = got[0];
    assert!(first > 1, "nothing was rotated out");
    assert_eq!(got, (first..=60000).collect::<Vec<_>>());
    let tail = numbers(&s, &["logs", "chatty", "--tail", "25000"]);
    assert_eq!(
        tail,
        (35001..=60000).collect::<Vec<_>>(),
        "a tail across two files"
    );
    // keep: 0 never rotates, whatever max_size says.
    assert_eq!(log_files(&s, "quiet"), [("quiet.log".to_string(), 348_894)]);
    assert_eq!(
        numbers(&s, &["logs", "quiet"]),
        (1..=60000).collect::<Vec<_>>()
    );
}

#[test]
fn logs_of_an_unknown_service_name_the_known_ones_and_of_one_that_never_ran_say_so() {
    let s =
        Stack::new("services:\n  api: { command: sleep 1000 }\n  db: { command: sleep 1000 }\n");
    let r = s.harness(&["logs", "apu"]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(
        r.stderr
            .contains("unknown service `apu`; services are: api, db"),
        "{}",
        r.stderr
    );
    let r = s.harness(&["logs", "api"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(r.stdout, "");
    assert!(
        r.stderr.contains("(api has not run yet: no output)"),
        "{}",
        r.stderr
    );
}
