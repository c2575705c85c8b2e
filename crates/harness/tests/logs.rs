//! Logs: rotation as `logs:` asks; `harness logs` reading across the
//! rotated files in order, every service at once interleaved in capture
//! order, following services that start later, `--since` and `--tail`.

mod common;
use common::*;
use std::process::Stdio;
use std::time::Duration;

/// How long a test waits for the next line a command prints.
const LINE: Duration = Duration::from_secs(30);

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

/// `harness logs ARGS --json`: each line's (service, stream, ts, line).
fn json_lines(s: &Stack, args: &[&str]) -> Vec<serde_json::Value> {
    let mut args = [&["logs"], args].concat();
    args.push("--json");
    let r = s.harness(&args);
    assert_eq!(r.code, 0, "{}", r.all());
    r.stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

#[test]
fn logs_of_every_service_interleave_them_in_capture_order_each_whole_and_prefixed() {
    let printer = |name: &str| {
        format!(
            "  {name}:\n    command: \"for i in $(seq 1 400); do echo {name} $i; echo {name} err $i >&2; done; exec sleep 1000\"\n"
        )
    };
    let s = Stack::new(&format!(
        "services:\n{}{}{}",
        printer("db"),
        printer("api"),
        printer("worker")
    ));
    assert_eq!(s.harness(&["start", "--all"]).code, 0);
    s.status();
    for name in ["db", "api", "worker"] {
        assert!(wait_for(10, || s
            .log(name)
            .contains(&format!("{name} err 400\n"))));
    }
    let r = s.harness(&["logs"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines.len(), 3 * 800, "{}", r.stdout);
    for name in ["db", "api", "worker"] {
        // Every line of each, in the order of its stream (stdout and
        // stderr are two pipes: which the shim reads first is a race),
        // behind its name padded to the longest name's width (`worker`),
        // no colour off a terminal.
        let prefix = format!("{name:<6} | ");
        let own: Vec<&str> = lines
            .iter()
            .filter_map(|l| l.strip_prefix(&prefix))
            .collect();
        let (errs, outs): (Vec<&str>, Vec<&str>) = own
            .iter()
            .partition(|l| l.starts_with(&format!("{name} err ")));
        let want = |tag: &str| -> Vec<String> { (1..=400).map(|i| format!("{tag}{i}")).collect() };
        assert_eq!(outs, want(&format!("{name} ")), "{name}");
        assert_eq!(errs, want(&format!("{name} err ")), "{name}");
    }
    assert!(!r.stdout.contains('\x1b'), "no colour off a terminal");
    // The order is that of capture: the times never go back.
    let all = json_lines(&s, &[]);
    assert_eq!(all.len(), 2400);
    let times: Vec<&str> = all.iter().map(|l| l["ts"].as_str().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "out of order");
    let streams = |stream: &str| all.iter().filter(|l| l["stream"] == stream).count();
    assert_eq!((streams("stdout"), streams("stderr")), (1200, 1200));
    assert_eq!(all[0].as_object().unwrap().len(), 4, "{}", all[0]);
    // Two named: just those two, still prefixed; --no-prefix: bare lines.
    let r = s.harness(&["logs", "db", "api", "--tail", "1"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let mut got: Vec<&str> = r.stdout.lines().collect();
    got.sort();
    assert_eq!(got, ["api | api err 400", "db  | db err 400"]);
    let r = s.harness(&["logs", "--tail", "1", "--no-prefix"]);
    let mut got: Vec<&str> = r.stdout.lines().collect();
    got.sort();
    assert_eq!(got, ["api err 400", "db err 400", "worker err 400"]);
    // --timestamps: the capture time before each line.
    let r = s.harness(&["logs", "worker", "--tail", "1", "--timestamps"]);
    let (ts, line) = r.stdout.trim_end().split_once(' ').unwrap();
    assert_eq!(line, "worker err 400");
    let last = all.iter().rev().find(|l| l["service"] == "worker").unwrap();
    assert_eq!(ts, last["ts"].as_str().unwrap());
    assert!(ts.len() == 27 && ts.ends_with('Z'), "{ts}");
}

#[test]
fn logs_follow_picks_up_a_service_that_starts_later_and_a_restarts_lines() {
    let s = Stack::new(
        "services:\n  early:\n    command: echo \"early $$\"; exec sleep 1000\n  late:\n    command: echo \"late $$\"; exec sleep 1000\n",
    );
    assert_eq!(s.harness(&["start", "early"]).code, 0);
    let first = s.pid("early").unwrap();
    let mut follower = Background::start(s.command(&["logs", "-f"]).stdout(Stdio::piped()));
    assert_eq!(
        follower.next_line(LINE).unwrap(),
        format!("early | early {first}")
    );
    assert_eq!(s.harness(&["start", "late"]).code, 0);
    let late = s.pid("late").unwrap();
    assert_eq!(
        follower.next_line(LINE).unwrap(),
        format!("late  | late {late}")
    );
    assert_eq!(s.harness(&["restart", "early"]).code, 0);
    let second = s.pid("early").unwrap();
    let next = follower.next_line(LINE).unwrap();
    drop(follower);
    assert_eq!(next, format!("early | early {second}"));
}

#[test]
fn since_and_tail_read_across_rotated_files() {
    let s = Stack::new(
        r#"services:
  batches:
    command: "seq 1 30000; sleep 1.2; seq 30001 60000; exec sleep 1000"
    logs: { max_size: 100k, keep: 5 }
"#,
    );
    assert_eq!(s.harness(&["start", "--all"]).code, 0);
    s.status();
    assert!(wait_for(15, || s.log("batches").ends_with("60000\n")));
    assert!(log_files(&s, "batches").len() >= 4, "rotated");
    let all = json_lines(&s, &["batches"]);
    assert_eq!(all.len(), 60000, "keep 5 holds it all");
    let second = all[30000]["ts"].as_str().unwrap().to_string();
    assert_eq!(all[30000]["line"], "30001");
    assert!(all[29999]["ts"].as_str().unwrap() < second.as_str());
    // Since the second batch: exactly it, read from the files it is in.
    assert_eq!(
        numbers(&s, &["logs", "batches", "--since", &second]),
        (30001..=60000).collect::<Vec<_>>()
    );
    assert_eq!(
        numbers(&s, &["logs", "batches", "--since", &second, "--tail", "3"]),
        [59998, 59999, 60000]
    );
    assert_eq!(
        numbers(&s, &["logs", "batches", "--since", "1h"]).len(),
        60000
    );
    assert_eq!(
        numbers(&s, &["logs", "batches", "--tail", "40000"]),
        (20001..=60000).collect::<Vec<_>>()
    );
    let r = s.harness(&["logs", "--since", "yesterday"]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(
        r.stderr.contains("invalid --since `yesterday`"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_line_longer_than_1_mib_is_split_and_nothing_is_lost() {
    let s = Stack::new(
        "services:\n  wide:\n    command: \"head -c 2600000 /dev/zero | tr '\\\\0' x; echo; echo after; exec sleep 1000\"\n",
    );
    assert_eq!(s.harness(&["start", "--all"]).code, 0);
    s.status();
    assert!(wait_for(10, || s.log("wide").ends_with("after\n")));
    let r = s.harness(&["logs", "wide"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let lines: Vec<&str> = r.stdout.lines().collect();
    let mark = "[harness] the line above is longer than 1 MiB; it goes on on the next line";
    // Pieces of 1 MiB or a little more (the shim cuts at the end of the
    // read that passed 1 MiB), each but the last followed by the mark.
    let (pieces, rest) = lines.split_at(lines.len() - 1);
    assert_eq!(rest, ["after"]);
    let sizes: Vec<usize> = pieces.iter().map(|l| l.len()).collect();
    assert!(pieces.len() >= 5, "{sizes:?}");
    for (k, piece) in pieces.iter().enumerate() {
        if k % 2 == 1 {
            assert_eq!(*piece, mark, "{sizes:?}");
        } else {
            assert!(piece.len() <= (1 << 20) + (64 << 10), "{sizes:?}");
            assert!(piece.bytes().all(|b| b == b'x'));
        }
    }
    let xs: usize = pieces.iter().step_by(2).map(|l| l.len()).sum();
    assert_eq!(xs, 2_600_000, "nothing lost");
}

#[test]
fn job_steps_attempts_show_among_the_services_as_job_slash_step() {
    let s = Stack::new(
        r#"services:
  api: { command: "echo api up; exec sleep 1000" }
jobs:
  image:
    steps:
      - { name: fetch, command: "echo fetched" }
      - name: build
        command: "if [ -f again ]; then echo built; else touch again; echo first try >&2; exit 75; fi"
        retry: { transient: { max_attempts: 2, backoff: { initial: 10ms } } }
"#,
    );
    assert_eq!(s.harness(&["start", "api"]).code, 0);
    s.status();
    let r = s.harness(&["run", "image"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let r = s.harness(&["logs"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(
        lines,
        [
            "api         | api up",
            "image/fetch | fetched",
            "image/build | first try",
            "image/build | built",
        ],
        "both attempts, in the order they ran"
    );
    let r = s.harness(&["logs", "image", "--no-prefix"]);
    assert_eq!(r.stdout, "fetched\nfirst try\nbuilt\n");
    let r = s.harness(&["logs", "image/build", "--tail", "1"]);
    assert_eq!(
        r.stdout, "image/build | built\n",
        "the last of all its attempts"
    );
    let r = s.harness(&["logs", "image/push"]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(
        r.stderr
            .contains("job `image` has no step `push`; its steps are: fetch, build"),
        "{}",
        r.stderr
    );
}
