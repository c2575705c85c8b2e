//! The rig's kill switch: a command past its deadline fails the test with
//! what it printed, and nothing it started outlives it.

mod common;
use common::*;
use std::process::Command;
use std::time::{Duration, Instant};

/// The pids a `sh -c` script printed on its first line.
fn pids_in(line: &str) -> Vec<u32> {
    line.split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect()
}

#[test]
fn a_command_past_its_deadline_is_killed_with_its_group_and_says_what_it_printed() {
    let began = Instant::now();
    let overran = try_run(
        Command::new("sh").args(["-c", "sleep 1000 & echo started $$ $!; sleep 1000"]),
        Duration::from_secs(1),
    )
    .expect_err("it never ends by itself");
    assert!(began.elapsed() < Duration::from_secs(10), "{overran}");
    assert!(overran.stdout.starts_with("started "), "{overran}");
    let pids = pids_in(&overran.stdout);
    assert_eq!(pids.len(), 2, "{overran}");
    assert!(
        wait_for(5, || pids.iter().all(|p| !alive(*p))),
        "the shell and its child are gone"
    );
    let text = overran.to_string();
    assert!(
        text.contains("\"sh\" \"-c\"") && text.contains("ran past its deadline of 1s"),
        "{text}"
    );
}

#[test]
fn a_command_that_exits_but_leaves_its_output_open_is_killed_too() {
    // Command::output would wait for the background sleep's end of stdout.
    let overran = try_run(
        Command::new("sh").args(["-c", "sleep 1000 & echo $!"]),
        Duration::from_secs(1),
    )
    .expect_err("its stdout never ends");
    let pids = pids_in(&overran.stdout);
    assert_eq!(pids.len(), 1, "{overran}");
    assert!(wait_for(5, || !alive(pids[0])), "the sleep is gone");
}

#[test]
fn a_background_command_dropped_takes_its_group_along() {
    let mut bg = Background::start(
        Command::new("sh")
            .args(["-c", "sleep 1000 & echo $!; sleep 1000"])
            .stdout(std::process::Stdio::piped()),
    );
    let shell = bg.pid();
    let sleep = pids_in(&bg.next_line(Duration::from_secs(10)).unwrap())[0];
    drop(bg);
    assert!(wait_for(5, || !alive(shell) && !alive(sleep)));
}
