//! The job decisions as tables: classification, attempt counting and
//! backoff, and the resume plan.

use super::classify::{Class, Classify, Failure};
use super::resume::{Action, Completed, Planned, StartAt, StepNow, StepPrint, plan};
use super::retry::{Next, Retry};
use std::time::Duration;

#[test]
fn failures_are_classified_by_output_then_code_then_kind_and_unknown_is_persistent() {
    let c = Classify {
        transient_output: vec![regex::Regex::new("(?i)timed? ?out|connection reset").unwrap()],
        ..Classify::default()
    };
    let table = [
        (
            Failure::Exited(75),
            "",
            Class::Transient,
            "exit code 75 is transient",
        ),
        (
            Failure::Exited(69),
            "",
            Class::Transient,
            "exit code 69 is transient",
        ),
        (
            Failure::Exited(1),
            "",
            Class::Persistent,
            "exit code 1 is not classified (persistent)",
        ),
        (
            Failure::Exited(1),
            "curl: Connection reset by peer",
            Class::Transient,
            "its output matches `(?i)timed? ?out|connection reset`",
        ),
        (
            Failure::Exited(1),
            "Operation Timed Out",
            Class::Transient,
            "its output matches `(?i)timed? ?out|connection reset`",
        ),
        // A code listed as persistent wins over the output.
        (
            Failure::Exited(78),
            "timeout",
            Class::Persistent,
            "exit code 78 is persistent",
        ),
        (
            Failure::TimedOut,
            "",
            Class::Transient,
            "it ran past its timeout",
        ),
        (
            Failure::Signaled(9),
            "",
            Class::Transient,
            "killed by signal 9",
        ),
        (
            Failure::NotStarted,
            "timeout",
            Class::Transient,
            "its output matches `(?i)timed? ?out|connection reset`",
        ),
        (
            Failure::NotStarted,
            "",
            Class::Persistent,
            "it could not be started",
        ),
    ];
    for (failure, tail, class, why) in table {
        assert_eq!(
            c.classify(failure, tail),
            (class, why.to_string()),
            "{failure:?} {tail:?}"
        );
    }
}

#[test]
fn max_attempts_counts_every_attempt_and_the_backoff_doubles_to_its_cap() {
    let mut r = Retry::default();
    r.transient.backoff_initial = Duration::from_secs(60);
    r.transient.backoff_max = Duration::from_secs(90);
    let retry = |attempt, secs| Next::Retry {
        attempt,
        max: 3,
        delay: Duration::from_secs(secs),
    };
    // Kickstart: "retry with backoff, max 3 attempts" — three, not four.
    assert_eq!(r.after(1, Class::Transient), retry(2, 60));
    assert_eq!(r.after(2, Class::Transient), retry(3, 90));
    assert_eq!(
        r.after(3, Class::Transient),
        Next::GiveUp {
            attempts: 3,
            max: 3
        }
    );
    // A persistent failure is not retried by default, even on attempt 1.
    assert_eq!(
        r.after(1, Class::Persistent),
        Next::GiveUp {
            attempts: 1,
            max: 1
        }
    );
    // A persistent failure after transient retries ends it at once.
    assert_eq!(
        r.after(2, Class::Persistent),
        Next::GiveUp {
            attempts: 2,
            max: 1
        }
    );
    // max_attempts 0 is taken as 1: the first attempt always runs.
    r.transient.max_attempts = 0;
    assert_eq!(
        r.after(1, Class::Transient),
        Next::GiveUp {
            attempts: 1,
            max: 1
        }
    );
}

fn print(parts: &[(&str, &str)]) -> StepPrint {
    StepPrint {
        parts: parts
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    }
}

/// Four steps as they are now: base (input versions.lock, output
/// cache/base.iso), kickstart, ansible, tests.
fn steps() -> Vec<StepNow> {
    let step = |name: &str, parts: &[(&str, &str)], outputs: &[(&str, Option<&str>)]| StepNow {
        name: name.into(),
        print: print(parts),
        outputs: outputs
            .iter()
            .map(|(p, h)| (p.to_string(), h.map(str::to_string)))
            .collect(),
    };
    vec![
        step(
            "base",
            &[("command", "c1"), ("input versions.lock", "l1")],
            &[("cache/base.iso", Some("iso1"))],
        ),
        step("kickstart", &[("command", "c2")], &[]),
        step("ansible", &[("command", "c3"), ("env PLAYBOOK", "p1")], &[]),
        step("tests", &[("command", "c4")], &[]),
    ]
}

/// How they completed: base and kickstart, as they are now.
fn done() -> Vec<Option<Completed>> {
    let now = steps();
    let completed = |s: &StepNow| Completed {
        print: s.print.clone(),
        outputs: s
            .outputs
            .iter()
            .map(|(p, h)| (p.clone(), h.clone().unwrap()))
            .collect(),
    };
    vec![
        Some(completed(&now[0])),
        Some(completed(&now[1])),
        None,
        None,
    ]
}

fn shown(p: &[Planned]) -> Vec<String> {
    p.iter()
        .map(|s| {
            let a = match s.action {
                Action::Skip => "skip",
                Action::Run => "run",
            };
            format!("{} {a}: {}", s.step, s.why)
        })
        .collect()
}

#[test]
fn a_run_resumes_at_the_first_step_not_up_to_date_and_runs_every_step_after_it() {
    assert_eq!(
        shown(&plan(&steps(), &done(), StartAt::Resume)),
        [
            "base skip: up to date",
            "kickstart skip: up to date",
            "ansible run: never completed",
            "tests run: an earlier step runs (ansible)",
        ]
    );
    // An input changed: base runs again, and so does everything after it.
    let mut now = steps();
    now[0].print = print(&[("command", "c1"), ("input versions.lock", "l2")]);
    assert_eq!(
        shown(&plan(&now, &done(), StartAt::Resume)),
        [
            "base run: input versions.lock changed",
            "kickstart run: an earlier step runs (base)",
            "ansible run: an earlier step runs (base)",
            "tests run: an earlier step runs (base)",
        ]
    );
}

#[test]
fn a_step_whose_output_is_gone_or_altered_runs_again() {
    let mut now = steps();
    now[0].outputs = vec![("cache/base.iso".into(), None)];
    assert_eq!(
        shown(&plan(&now, &done(), StartAt::Resume))[0],
        "base run: output cache/base.iso missing"
    );
    now[0].outputs = vec![("cache/base.iso".into(), Some("iso-edited".into()))];
    assert_eq!(
        shown(&plan(&now, &done(), StartAt::Resume))[0],
        "base run: output cache/base.iso changed since it was made"
    );
    // An output declared after the step completed was never checked.
    now[1].outputs = vec![("ks.log".into(), Some("k1".into()))];
    now[0] = steps().remove(0);
    assert_eq!(
        shown(&plan(&now, &done(), StartAt::Resume))[1],
        "kickstart run: output ks.log not recorded when it completed"
    );
}

#[test]
fn from_a_step_runs_it_and_what_follows_and_restart_runs_everything() {
    assert_eq!(
        shown(&plan(&steps(), &done(), StartAt::Step(1))),
        [
            "base skip: up to date",
            "kickstart run: --from kickstart",
            "ansible run: an earlier step runs (kickstart)",
            "tests run: an earlier step runs (kickstart)",
        ]
    );
    // A stale step before the one named still runs: its outputs cannot be
    // trusted.
    let mut now = steps();
    now[0].print = print(&[("command", "c1-edited"), ("input versions.lock", "l1")]);
    assert_eq!(
        shown(&plan(&now, &done(), StartAt::Step(2)))[..3],
        [
            "base run: command changed",
            "kickstart run: an earlier step runs (base)",
            "ansible run: --from ansible",
        ]
    );
    assert!(
        plan(&steps(), &done(), StartAt::First)
            .iter()
            .all(|p| p.action == Action::Run && p.why == "--restart")
    );
}

#[test]
fn a_print_names_what_was_added_changed_and_removed() {
    let then = print(&[("command", "a"), ("env A", "1"), ("input x", "h")]);
    let now = print(&[("command", "a"), ("env A", "2"), ("env B", "1")]);
    assert_eq!(
        now.changes_since(&then),
        ["env A changed", "env B added", "input x removed"]
    );
}
