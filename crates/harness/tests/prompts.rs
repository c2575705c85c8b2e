//! Seed 000's prompts, answered through a real pseudo-terminal: the test
//! reads the question, types an answer, and checks the processes and the
//! history that follow.

mod common;
use common::*;

fn choices(s: &Stack) -> Vec<(String, String)> {
    s.history()
        .into_iter()
        .filter(|h| h["service"] == "(choice)")
        .map(|h| {
            (
                h["from"].as_str().unwrap().to_string(),
                h["to"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn continue_then_retry_until_the_failed_service_comes_up() {
    let s = Stack::new(FLAKY_API);
    assert_eq!(s.harness(&["start", "cache"]).code, 0);
    let cache = s.pid("cache").unwrap();

    let mut p = on_terminal(&s, &["start", "--all"]);
    p.exp_string("Checking current state...").unwrap();
    p.exp_string("Partial system detected: 1 of 4 services are running.")
        .unwrap();
    p.exp_string("How would you like to proceed?").unwrap();
    p.exp_string("1) Continue - Start remaining services")
        .unwrap();
    p.exp_string("4) Abort - Do nothing").unwrap();
    p.exp_string(CHOICE).unwrap();
    p.send_line("1").unwrap();

    p.exp_string("Startup failed. Currently running: db, cache")
        .unwrap();
    p.exp_string("3) Retry - Try starting 'api' again").unwrap();
    p.exp_string(CHOICE).unwrap();
    p.send_line("3").unwrap();
    p.exp_string("Retrying api...").unwrap();
    // Still broken: asked again.
    p.exp_string("Startup failed.").unwrap();
    p.exp_string(CHOICE).unwrap();
    fix_api(&s);
    p.send_line("retry").unwrap();
    // cache ran before the command: it did not start it.
    p.exp_string("All 4 services up in").unwrap();
    p.exp_string("(3 started, 1 already running)").unwrap();
    let (code, _) = finish(p);
    assert_eq!(code, 0);

    assert_eq!(s.pid("cache"), Some(cache), "used as it was");
    assert!(s.pid("api").is_some() && s.pid("worker").is_some());
    assert_eq!(
        choices(&s),
        [
            ("partial system".into(), "continue".into()),
            ("startup failed".into(), "retry".into()),
            ("startup failed".into(), "retry".into()),
        ]
    );
    let hist = s.history();
    assert!(
        hist.iter().any(|h| h["service"] == "api"
            && h["to"] == "starting"
            && h["reason"] == "start requested (retry chosen at prompt)"),
        "{hist:#?}"
    );
    let text = s.harness(&["status", "--history"]).stdout;
    assert!(
        text.contains("(choice)  startup failed → retry (failed: api; blocked: worker)"),
        "{text}"
    );
    assert!(
        text.contains(
            "stopped → starting → running (up (no health check); retry chosen at prompt)"
        ),
        "{text}"
    );
}

#[test]
fn abort_changes_nothing_and_teardown_stops_everything() {
    let s = Stack::new(FLAKY_API);
    assert_eq!(s.harness(&["start", "cache"]).code, 0);
    let cache = s.pid("cache").unwrap();

    let mut p = on_terminal(&s, &["start", "--all"]);
    p.exp_string(CHOICE).unwrap();
    p.send_line("9").unwrap();
    p.exp_string("Please answer with a number from 1 to 4")
        .unwrap();
    p.exp_string(CHOICE).unwrap();
    p.send_line("4").unwrap();
    p.exp_string("Aborted: nothing was changed.").unwrap();
    assert_eq!(finish(p).0, 130);
    assert_eq!(s.pid("cache"), Some(cache));
    assert_eq!(s.pid("db"), None);

    let mut p = on_terminal(&s, &["start", "--all"]);
    p.exp_string(CHOICE).unwrap();
    p.send_line("3").unwrap();
    p.exp_string("Stopping all services...").unwrap();
    assert_eq!(finish(p).0, 0);
    assert_eq!(s.status()["system_state"], "STOPPED");
    assert!(!alive(cache));
    assert_eq!(
        choices(&s),
        [
            ("partial system".into(), "abort".into()),
            ("partial system".into(), "teardown".into()),
        ]
    );
}

#[test]
fn restart_choice_stops_all_and_starts_fresh() {
    let s = Stack::new(FLAKY_API);
    fix_api(&s);
    assert_eq!(s.harness(&["start", "cache"]).code, 0);
    let cache = s.pid("cache").unwrap();
    let mut p = on_terminal(&s, &["start", "--all"]);
    p.exp_string(CHOICE).unwrap();
    p.send_line("2").unwrap();
    p.exp_string("Starting all services...").unwrap();
    p.exp_string("All 4 services started").unwrap();
    assert_eq!(finish(p).0, 0);
    let now = s.pid("cache").unwrap();
    assert_ne!(now, cache, "started fresh");
    assert!(!alive(cache));
    let hist = s.history();
    assert!(
        hist.iter().any(|h| h["service"] == "cache"
            && h["to"] == "stopping"
            && h["reason"] == "stop requested (restart chosen at prompt)"),
        "{hist:#?}"
    );
}

#[test]
fn failure_prompt_keep_force_continue_and_teardown() {
    let s = Stack::new(FLAKY_API);

    // Nothing runs yet: no partial prompt, straight to the failure prompt.
    let mut p = on_terminal(&s, &["start", "--all"]);
    p.exp_string("Startup failed. Currently running: db, cache")
        .unwrap();
    p.exp_string("1) Keep running - Leave successful services running")
        .unwrap();
    p.exp_string(CHOICE).unwrap();
    p.send_line("1").unwrap();
    p.exp_string("Error: Partial startup failure").unwrap();
    assert_eq!(finish(p).0, 3);
    assert!(s.pid("db").is_some() && s.pid("cache").is_some());

    let mut p = on_terminal(&s, &["start", "--all"]);
    p.exp_string("Partial system detected: 2 of 4").unwrap();
    p.exp_string(CHOICE).unwrap();
    p.send_line("1").unwrap();
    p.exp_string("Startup failed.").unwrap();
    p.exp_string(CHOICE).unwrap();
    p.send_line("4").unwrap();
    p.exp_string("Starting blocked services (ignoring dependencies)...")
        .unwrap();
    p.exp_string("Started with warnings: worker").unwrap();
    assert_eq!(finish(p).0, 3, "api is still failed");
    assert!(s.pid("worker").is_some(), "started anyway");
    assert_eq!(s.pid("api"), None);

    let mut p = on_terminal(&s, &["start", "--all"]);
    p.exp_string("Partial system detected").unwrap();
    p.exp_string(CHOICE).unwrap();
    p.send_line("continue").unwrap();
    p.exp_string("Startup failed.").unwrap();
    p.exp_string(CHOICE).unwrap();
    p.send_line("2").unwrap();
    p.exp_string("Error: Startup failed, all services stopped")
        .unwrap();
    assert_eq!(finish(p).0, 3);
    assert_eq!(s.status()["system_state"], "STOPPED");
}

#[test]
fn flags_answer_for_the_terminal_and_no_prompt_appears() {
    let s = Stack::new(FLAKY_API);
    assert_eq!(s.harness(&["start", "cache"]).code, 0);
    for flags in [&["--no-interactive"][..], &["--continue"]] {
        let mut args = vec!["start", "--all"];
        args.extend_from_slice(flags);
        let p = on_terminal(&s, &args);
        let (code, out) = finish(p);
        assert_eq!(code, 3, "{flags:?}: {out}");
        assert!(out.contains("Partial system detected"), "{flags:?}: {out}");
        assert!(
            !out.contains("How would you like to proceed?"),
            "{flags:?}: {out}"
        );
        assert!(
            out.contains("Error: Partial startup failure"),
            "{flags:?}: {out}"
        );
    }
    assert!(choices(&s).is_empty(), "nobody was asked");
}

/// Seed 003's tests step "may need manual fixes": it fails for good, the
/// person is asked, retries once (still failing), then skips it with a
/// reason; the job goes on and completes. Each answer is a history row.
#[test]
fn a_step_that_failed_for_good_is_retried_then_skipped_with_a_reason_at_the_prompt() {
    let s = Stack::new(
        r#"jobs:
  image:
    cleanup: "true"
    steps:
      - { name: base, command: "echo base" }
      - { name: tests, command: "echo '3 tests failed'; exit 1" }
      - { name: ship, command: "echo shipped > shipped" }
"#,
    );
    let mut p = on_terminal(&s, &["run", "image"]);
    p.exp_string(
        "Step tests failed for good: exit code 1 is not classified (persistent) (attempt 1 of 1).",
    )
    .unwrap();
    p.exp_string("1) Retry - a new attempt at tests now")
        .unwrap();
    p.exp_string("4) Cleanup - run the job's cleanup").unwrap();
    p.exp_string(CHOICE).unwrap();
    p.send_line("retry").unwrap();
    p.exp_string("tests  failed (attempt 2/2)").unwrap();
    p.exp_string(CHOICE).unwrap();
    p.send_line("2").unwrap();
    p.exp_string("Reason (kept in the history): ").unwrap();
    p.send_line("known flaky lab host, checked by hand")
        .unwrap();
    p.exp_string("tests  marked completed: known flaky lab host, checked by hand")
        .unwrap();
    p.exp_string("image completed in").unwrap();
    let (code, _) = finish(p);
    assert_eq!(code, 0);
    assert!(s.path().join("shipped").exists());
    assert_eq!(
        choices(&s),
        [
            ("job image: step tests failed".into(), "retry".into()),
            ("job image: step tests failed".into(), "skip".into()),
        ]
    );
    // The mark counts as the step's completion while it stays as it is.
    let r = s.harness(&["run", "image"]);
    assert!(r.stdout.contains("0 of 3 steps to run"), "{}", r.stdout);
}
