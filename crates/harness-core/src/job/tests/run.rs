//! One run of a job as a state machine: seed 003's kickstart timeline.

use crate::job::classify::{Class, Failure};
use crate::job::resume::{Action, Planned};
use crate::job::retry::Next;
use crate::job::run::{AttemptEnd, Effect, JobRun, Status};
use std::time::{Duration, Instant};

/// Seed 003's image build: kickstart retried with backoff, at most 3
/// attempts; tests not idempotent.
fn image() -> crate::config::Job {
    let yaml = r#"services:
  registry: { command: registry }
jobs:
  image:
    steps:
      - { name: base, command: ./base.sh }
      - name: kickstart
        command: ./kickstart.sh
        retry: { transient: { max_attempts: 3, backoff: { initial: 1m, max: 10m } } }
      - { name: ansible, command: ./ansible.sh }
      - { name: tests, command: ./tests.sh, idempotent: false }
"#;
    crate::config::parse(yaml, "services.yaml")
        .unwrap()
        .jobs
        .remove(0)
}

fn planned(actions: &[Action]) -> Vec<Planned> {
    actions
        .iter()
        .enumerate()
        .map(|(k, a)| Planned {
            step: format!("s{k}"),
            action: a.clone(),
            why: match a {
                Action::Skip => "up to date".into(),
                Action::Run => "never completed".into(),
            },
        })
        .collect()
}

fn failed(code: i32) -> AttemptEnd {
    AttemptEnd::Failed {
        failure: Failure::Exited(code),
        tail: String::new(),
    }
}

#[test]
fn the_kickstart_timeline_fails_at_its_step_stays_there_is_retried_there_and_advances() {
    let job = image();
    let t0 = Instant::now();
    let at = |mins: u64| t0 + Duration::from_secs(mins * 60);
    let mut out = Vec::new();
    let plan = planned(&[Action::Skip, Action::Run, Action::Run, Action::Run]);
    let mut run = JobRun::begin(&plan, &mut out);
    assert_eq!(
        out,
        [
            Effect::Skipped {
                step: 0,
                why: "up to date".into()
            },
            Effect::Begin {
                step: 1,
                attempt: 1
            },
        ]
    );
    // 10:15 — kickstart fails on a network timeout (EX_TEMPFAIL).
    out.clear();
    run.attempt_ended(&job, failed(75), at(15), &mut out);
    assert_eq!(
        out,
        [Effect::Failed {
            step: 1,
            attempt: 1,
            class: Class::Transient,
            why: "exit code 75 is transient".into(),
            next: Next::Retry {
                attempt: 2,
                max: 3,
                delay: Duration::from_secs(60)
            },
        }]
    );
    // 10:16 — the state stays at kickstart, waiting to retry.
    assert_eq!(run.state, 1);
    assert_eq!(run.status, Status::WaitingRetry { until: at(16) });
    assert_eq!(run.next_deadline(), Some(at(16)));
    out.clear();
    run.tick(at(15) + Duration::from_secs(30), &mut out);
    assert!(out.is_empty());
    // 10:16 — retried at kickstart, not from the start.
    run.tick(at(16), &mut out);
    assert_eq!(
        out,
        [Effect::Begin {
            step: 1,
            attempt: 2
        }]
    );
    // 10:32 — it succeeds and the run advances.
    out.clear();
    run.attempt_ended(&job, AttemptEnd::Succeeded, at(32), &mut out);
    assert_eq!(
        out,
        [
            Effect::Completed {
                step: 1,
                attempt: 2
            },
            Effect::Begin {
                step: 2,
                attempt: 1
            },
        ]
    );
    // ansible fails for good (EX_USAGE is persistent): the state stays
    // at ansible, failed; nothing follows on its own.
    out.clear();
    run.attempt_ended(&job, failed(64), at(40), &mut out);
    assert_eq!(run.state, 2);
    assert_eq!(run.status, Status::Failed);
    assert_eq!(out.last(), Some(&Effect::Done(Status::Failed)));
    run.tick(at(100), &mut out);
    assert_eq!(out.last(), Some(&Effect::Done(Status::Failed)));
}

#[test]
fn three_transient_failures_are_three_attempts_then_failed() {
    let job = image();
    let t0 = Instant::now();
    let mut out = Vec::new();
    let mut run = JobRun::begin(&planned(&[Action::Skip, Action::Run]), &mut out);
    let mut now = t0;
    for attempt in 1..=3 {
        out.clear();
        run.attempt_ended(&job, failed(75), now, &mut out);
        if attempt < 3 {
            now = run.next_deadline().expect("a retry is due");
            run.tick(now, &mut out);
            assert_eq!(
                out.last(),
                Some(&Effect::Begin {
                    step: 1,
                    attempt: attempt + 1
                })
            );
        }
    }
    assert_eq!(run.status, Status::Failed);
    assert_eq!(run.attempts, 3);
    assert!(matches!(
        out[0],
        Effect::Failed {
            next: Next::GiveUp {
                attempts: 3,
                max: 3
            },
            ..
        }
    ));
    // The waits: 1 min, then 2 min.
    assert_eq!(now, t0 + Duration::from_secs(60 + 120));
}

#[test]
fn a_run_of_nothing_completes_and_a_cancel_keeps_the_state() {
    let job = image();
    let mut out = Vec::new();
    let run = JobRun::begin(&planned(&[Action::Skip, Action::Skip]), &mut out);
    assert_eq!(run.status, Status::Completed);
    assert_eq!(out.last(), Some(&Effect::Done(Status::Completed)));
    out.clear();
    let mut run = JobRun::begin(&planned(&[Action::Skip, Action::Run]), &mut out);
    run.cancel(&mut out);
    assert_eq!(
        (run.state, run.status, run.attempts),
        (1, Status::Cancelled, 0)
    );
    // Its attempt's end, when the stopped process is seen to end, is not
    // news.
    out.clear();
    run.attempt_ended(&job, failed(143), Instant::now(), &mut out);
    assert!(out.is_empty());
}

#[test]
fn an_attempt_lost_with_the_host_runs_again_only_if_the_step_is_idempotent() {
    let job = image();
    let mut out = Vec::new();
    let mut run = JobRun::begin(&planned(&[Action::Run]), &mut out);
    out.clear();
    run.attempt_lost(&job, &mut out);
    assert_eq!(
        out,
        [Effect::Begin {
            step: 0,
            attempt: 1
        }]
    );
    let plan = planned(&[Action::Skip, Action::Skip, Action::Skip, Action::Run]);
    let mut run = JobRun::begin(&plan, &mut out);
    out.clear();
    run.attempt_lost(&job, &mut out);
    assert_eq!(run.status, Status::NeedsDecision);
    assert_eq!(run.state, 3);
    assert_eq!(out, [Effect::Done(Status::NeedsDecision)]);
}

#[test]
fn a_person_retries_skips_stops_or_cleans_up_a_step_that_failed_for_good() {
    use crate::job::run::Decision;
    let job = image();
    let fail_for_good = |run: &mut JobRun| {
        let mut out = Vec::new();
        run.attempt_ended(&job, failed(64), Instant::now(), &mut out);
        assert_eq!(run.status, Status::Failed);
    };
    let plan = planned(&[Action::Skip, Action::Skip, Action::Run, Action::Run]);
    let mut out = Vec::new();
    // Retry: a new attempt now, beyond the limit.
    let mut run = JobRun::begin(&plan, &mut out);
    fail_for_good(&mut run);
    out.clear();
    run.decide(Decision::Retry, &mut out);
    assert_eq!(
        out,
        [Effect::Begin {
            step: 2,
            attempt: 2
        }]
    );
    assert_eq!(run.status, Status::Running);
    // A person's retry is a resume: the step has its limit again, on top
    // of the attempts it had.
    out.clear();
    run.attempt_ended(&image(), failed(1), Instant::now(), &mut out);
    assert!(
        matches!(
            out[0],
            Effect::Failed {
                attempt: 2,
                next: Next::GiveUp {
                    attempts: 2,
                    max: 2
                },
                ..
            }
        ),
        "{out:?}"
    );
    // Skip: marked completed with the reason, and the next step begins.
    let mut run = JobRun::begin(&plan, &mut out);
    fail_for_good(&mut run);
    out.clear();
    run.decide(
        Decision::Skip("flaky lab host, checked by hand".into()),
        &mut out,
    );
    assert_eq!(
        out,
        [
            Effect::Marked {
                step: 2,
                reason: "flaky lab host, checked by hand".into()
            },
            Effect::Begin {
                step: 3,
                attempt: 1
            },
        ]
    );
    // Cleanup and Stop: the state stays at the step, failed.
    let mut run = JobRun::begin(&plan, &mut out);
    fail_for_good(&mut run);
    out.clear();
    run.decide(Decision::Cleanup, &mut out);
    assert_eq!(out, [Effect::Cleanup, Effect::Done(Status::Failed)]);
    assert_eq!((run.state, run.status), (2, Status::Failed));
    out.clear();
    run.decide(Decision::Stop, &mut out);
    assert_eq!(out, [Effect::Done(Status::Failed)]);
    // Only a run that stopped at a step takes a decision.
    let mut run = JobRun::begin(&plan, &mut out);
    out.clear();
    run.decide(Decision::Retry, &mut out);
    assert!(out.is_empty());
}

#[test]
fn an_interrupted_run_lets_its_attempt_finish_and_begins_no_further_one() {
    let job = image();
    let now = Instant::now();
    let plan = planned(&[Action::Run, Action::Run, Action::Run, Action::Run]);
    let cases: [(&str, AttemptEnd, Vec<Effect>); 2] = [
        (
            "the step completes: recorded, and the next one does not begin",
            AttemptEnd::Succeeded,
            vec![
                Effect::Completed {
                    step: 0,
                    attempt: 1,
                },
                Effect::Done(Status::Interrupted),
            ],
        ),
        (
            "the step fails: recorded with no retry to follow",
            failed(75),
            vec![
                Effect::Failed {
                    step: 0,
                    attempt: 1,
                    class: Class::Transient,
                    why: "exit code 75 is transient".into(),
                    next: Next::GiveUp {
                        attempts: 1,
                        max: 3,
                    },
                },
                Effect::Done(Status::Interrupted),
            ],
        ),
    ];
    for (case, end, want) in cases {
        let mut out = Vec::new();
        let mut run = JobRun::begin(&plan, &mut out);
        out.clear();
        run.interrupt(&mut out);
        assert_eq!(out, [], "{case}: an interrupt waits for the attempt");
        run.attempt_ended(&job, end, now, &mut out);
        assert_eq!(out, want, "{case}");
        assert_eq!((run.state, run.status), (0, Status::Interrupted), "{case}");
    }
}

#[test]
fn an_interrupted_run_whose_last_step_completes_is_completed() {
    let job = image();
    let plan = planned(&[Action::Skip, Action::Skip, Action::Skip, Action::Run]);
    let mut out = Vec::new();
    let mut run = JobRun::begin(&plan, &mut out);
    run.interrupt(&mut out);
    out.clear();
    run.attempt_ended(&job, AttemptEnd::Succeeded, Instant::now(), &mut out);
    assert_eq!(out.last(), Some(&Effect::Done(Status::Completed)));
}

#[test]
fn a_run_waiting_for_a_retry_is_interrupted_at_once() {
    let job = image();
    let now = Instant::now();
    let plan = planned(&[Action::Skip, Action::Run, Action::Run, Action::Run]);
    let mut out = Vec::new();
    let mut run = JobRun::begin(&plan, &mut out);
    run.attempt_ended(&job, failed(75), now, &mut out);
    assert!(matches!(run.status, Status::WaitingRetry { .. }));
    out.clear();
    run.interrupt(&mut out);
    assert_eq!(out, [Effect::Done(Status::Interrupted)]);
    run.tick(now + Duration::from_secs(3600), &mut out);
    assert_eq!(out.len(), 1, "a retry began after the interrupt");
}

#[test]
fn a_run_resumed_from_the_store_goes_on_at_its_state_with_its_attempts_counted() {
    let job = image();
    let t0 = Instant::now();
    // The last daemon died while kickstart waited for its third attempt.
    let until = t0 + Duration::from_secs(90);
    let mut run = JobRun::resumed(4, 1, 2, &[], Status::WaitingRetry { until });
    let mut out = Vec::new();
    run.tick(t0, &mut out);
    assert_eq!(out, [], "the rest of the backoff is waited out");
    run.tick(until, &mut out);
    assert_eq!(
        out,
        [Effect::Begin {
            step: 1,
            attempt: 3
        }]
    );
    out.clear();
    // The third attempt is the last of three.
    run.attempt_ended(&job, failed(75), until, &mut out);
    assert!(matches!(
        out[0],
        Effect::Failed {
            next: Next::GiveUp {
                attempts: 3,
                max: 3
            },
            ..
        }
    ));
    // Resumed at a step, the later ones all run.
    let mut run = JobRun::resumed(4, 2, 1, &[], Status::Running);
    out.clear();
    run.attempt_ended(&job, AttemptEnd::Succeeded, t0, &mut out);
    assert_eq!(
        out,
        [
            Effect::Completed {
                step: 2,
                attempt: 1
            },
            Effect::Begin {
                step: 3,
                attempt: 1
            }
        ]
    );
}

#[test]
fn a_failed_run_resumed_numbers_its_attempts_on_and_has_its_limit_again() {
    let job = image();
    let now = Instant::now();
    // Kickstart failed its 3 attempts; a person fixed the network and
    // resumed the run.
    let plan = planned(&[Action::Skip, Action::Run, Action::Run, Action::Run]);
    let mut out = Vec::new();
    let mut run = JobRun::continued(&plan, &[1, 3], &mut out);
    assert_eq!(
        out.last(),
        Some(&Effect::Begin {
            step: 1,
            attempt: 4
        })
    );
    out.clear();
    run.attempt_ended(&job, failed(75), now, &mut out);
    assert_eq!(
        out,
        [Effect::Failed {
            step: 1,
            attempt: 4,
            class: Class::Transient,
            why: "exit code 75 is transient".into(),
            next: Next::Retry {
                attempt: 5,
                max: 6,
                delay: Duration::from_secs(60)
            },
        }]
    );
    // The later steps had no attempt before: numbered from 1.
    run.tick(now + Duration::from_secs(60), &mut out);
    out.clear();
    run.attempt_ended(&job, AttemptEnd::Succeeded, now, &mut out);
    assert_eq!(
        out.last(),
        Some(&Effect::Begin {
            step: 2,
            attempt: 1
        })
    );
}

#[test]
fn the_attempts_a_run_made_count_what_completed_or_failed_by_step_name() {
    use crate::job::run::attempts_made;
    use crate::job::runner::AttemptOutcome::*;
    let made = attempts_made(
        &["base", "kickstart", "tests"],
        [
            ("base", 1, Completed),
            ("kickstart", 1, Failed),
            ("kickstart", 2, Failed),
            // Cut short with the host, then cancelled: not counted.
            ("kickstart", 3, Interrupted),
            ("kickstart", 3, Cancelled),
            // A step the file no longer has.
            ("ansible", 4, Failed),
        ],
    );
    assert_eq!(made, [1, 2, 0]);
}
