//! A run with its processes: records, persistence, spawns and stops in order.

use crate::config::StopSignal;
use crate::engine::{ProcessEnd, RunId};
use crate::job::resume::{Action, Planned};
use crate::job::run::{Effect, Status};
use crate::job::runner::{AttemptOutcome, JobAction, Runner, STOP_GRACE};
use std::time::{Duration, Instant};

fn job() -> crate::config::Job {
    let yaml = r#"services:
  db: { command: db }
jobs:
  build:
    steps:
      - name: fetch
        command: ./fetch.sh
        timeout: 10s
        retry: { transient: { max_attempts: 2, backoff: { initial: 5s } } }
      - { name: compile, command: make }
"#;
    crate::config::parse(yaml, "services.yaml")
        .unwrap()
        .jobs
        .remove(0)
}

fn both_run() -> Vec<Planned> {
    ["fetch", "compile"]
        .iter()
        .map(|s| Planned {
            step: s.to_string(),
            action: Action::Run,
            why: "never completed".into(),
        })
        .collect()
}

struct Ids(u64);
impl Ids {
    fn next(&mut self) -> RunId {
        self.0 += 1;
        RunId(self.0)
    }
}

#[test]
fn each_attempt_is_recorded_and_made_durable_before_its_spawn() {
    let mut ids = Ids(100);
    let mut out = Vec::new();
    let mut r = Runner::start(job(), &both_run(), &[], &mut || ids.next(), &mut out);
    assert_eq!(
        out,
        [
            JobAction::Started {
                step: 0,
                attempt: 1,
                run: RunId(101)
            },
            JobAction::Persist,
            JobAction::Spawn {
                step: 0,
                run: RunId(101)
            },
        ]
    );
    let t0 = Instant::now();
    out.clear();
    r.spawned(RunId(101), 5000, t0, &mut out);
    r.exited(
        RunId(101),
        ProcessEnd::Exited(0),
        String::new(),
        t0 + Duration::from_secs(1),
        &mut || ids.next(),
        &mut out,
    );
    assert_eq!(
        out,
        [
            JobAction::Ended {
                run: RunId(101),
                outcome: AttemptOutcome::Completed,
                end: ProcessEnd::Exited(0),
                tail: String::new(),
                class: None
            },
            JobAction::Record(Effect::Completed {
                step: 0,
                attempt: 1
            }),
            JobAction::Started {
                step: 1,
                attempt: 1,
                run: RunId(102)
            },
            JobAction::Persist,
            JobAction::Spawn {
                step: 1,
                run: RunId(102)
            },
        ]
    );
    out.clear();
    r.exited(
        RunId(102),
        ProcessEnd::Exited(0),
        String::new(),
        t0 + Duration::from_secs(2),
        &mut || ids.next(),
        &mut out,
    );
    assert_eq!(
        out.last(),
        Some(&JobAction::Record(Effect::Done(Status::Completed)))
    );
    assert!(r.finished());
}

#[test]
fn a_step_past_its_timeout_is_stopped_fails_as_timed_out_and_is_retried() {
    let mut ids = Ids(0);
    let mut out = Vec::new();
    let mut r = Runner::start(job(), &both_run(), &[], &mut || ids.next(), &mut out);
    let t0 = Instant::now();
    r.spawned(RunId(1), 700, t0, &mut out);
    assert_eq!(r.next_deadline(), Some(t0 + Duration::from_secs(10)));
    out.clear();
    r.tick(t0 + Duration::from_secs(9), &mut || ids.next(), &mut out);
    assert!(out.is_empty());
    r.tick(t0 + Duration::from_secs(10), &mut || ids.next(), &mut out);
    assert_eq!(
        out,
        [JobAction::Stop {
            run: RunId(1),
            pid: 700,
            signal: StopSignal::Term,
            grace: STOP_GRACE
        }]
    );
    // Down by the SIGTERM it was sent: a timeout (transient), not a
    // death by a signal; retried 5 s later.
    out.clear();
    let down = t0 + Duration::from_secs(11);
    r.exited(
        RunId(1),
        ProcessEnd::Signaled(15),
        "downloading…".into(),
        down,
        &mut || ids.next(),
        &mut out,
    );
    match &out[..] {
        [
            JobAction::Ended {
                outcome: AttemptOutcome::Failed,
                ..
            },
            JobAction::Record(Effect::Failed { class, why, .. }),
        ] => {
            assert_eq!(*class, crate::job::classify::Class::Transient);
            assert_eq!(why, "it ran past its timeout");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(r.next_deadline(), Some(down + Duration::from_secs(5)));
    out.clear();
    r.tick(down + Duration::from_secs(5), &mut || ids.next(), &mut out);
    assert_eq!(
        out[0],
        JobAction::Started {
            step: 0,
            attempt: 2,
            run: RunId(2)
        }
    );
}

#[test]
fn a_cancel_stops_the_step_under_way_even_one_still_being_spawned() {
    let mut ids = Ids(0);
    let mut out = Vec::new();
    let mut r = Runner::start(job(), &both_run(), &[], &mut || ids.next(), &mut out);
    out.clear();
    r.cancel(&mut out);
    assert_eq!(out, [JobAction::Record(Effect::Done(Status::Cancelled))]);
    assert!(!r.finished(), "its process is still to come and go");
    out.clear();
    r.spawned(RunId(1), 42, Instant::now(), &mut out);
    assert!(matches!(out[..], [JobAction::Stop { pid: 42, .. }]));
    out.clear();
    r.exited(
        RunId(1),
        ProcessEnd::Signaled(15),
        String::new(),
        Instant::now(),
        &mut || ids.next(),
        &mut out,
    );
    // Recorded as cancelled, and not counted as an attempt.
    assert!(
        matches!(
            out[..],
            [JobAction::Ended {
                outcome: AttemptOutcome::Cancelled,
                ..
            }]
        ),
        "{out:?}"
    );
    assert_eq!(r.machine().attempts, 0);
    assert!(r.finished());
    assert_eq!(r.status(), Status::Cancelled);
}

#[test]
fn a_failed_spawn_is_a_failed_attempt_that_is_not_retried_on_its_own() {
    let mut ids = Ids(0);
    let mut out = Vec::new();
    let mut r = Runner::start(job(), &both_run(), &[], &mut || ids.next(), &mut out);
    out.clear();
    r.spawn_failed(
        RunId(1),
        "cannot run `./fetch.sh`".into(),
        Instant::now(),
        &mut || ids.next(),
        &mut out,
    );
    assert!(
        matches!(&out[..], [JobAction::Ended { outcome: AttemptOutcome::Failed, tail, .. }, JobAction::Record(Effect::Failed { why, .. }), JobAction::Record(Effect::Done(Status::Failed))] if why == "it could not be started" && tail == "cannot run `./fetch.sh`"),
        "{out:?}"
    );
    assert_eq!(r.machine().state, 0);
}

#[test]
fn an_attempt_whose_end_was_not_seen_is_interrupted_and_runs_again() {
    let mut ids = Ids(0);
    let mut out = Vec::new();
    let mut r = Runner::start(job(), &both_run(), &[], &mut || ids.next(), &mut out);
    out.clear();
    let now = Instant::now();
    r.spawned(RunId(1), 9, now, &mut out);
    r.exited(
        RunId(1),
        ProcessEnd::Lost,
        String::new(),
        now,
        &mut || ids.next(),
        &mut out,
    );
    // Not the step's failure: recorded interrupted, and run again
    // under a new run id as the same attempt.
    assert_eq!(
        out,
        [
            JobAction::Ended {
                run: RunId(1),
                outcome: AttemptOutcome::Interrupted,
                end: ProcessEnd::Lost,
                tail: String::new(),
                class: None
            },
            JobAction::Started {
                step: 0,
                attempt: 1,
                run: RunId(2)
            },
            JobAction::Persist,
            JobAction::Spawn {
                step: 0,
                run: RunId(2)
            },
        ]
    );
}

#[test]
fn a_step_that_exits_0_without_its_output_has_failed_for_good() {
    let mut ids = Ids(0);
    let mut out = Vec::new();
    let mut r = Runner::start(job(), &both_run(), &[], &mut || ids.next(), &mut out);
    out.clear();
    r.spawned(RunId(1), 3, Instant::now(), &mut out);
    r.exited_without_output(
        RunId(1),
        "cache/base.iso",
        Instant::now(),
        &mut || ids.next(),
        &mut out,
    );
    match &out[..] {
        [
            JobAction::Ended {
                outcome: AttemptOutcome::Failed,
                tail,
                ..
            },
            JobAction::Record(Effect::Failed { class, .. }),
            JobAction::Record(Effect::Done(Status::Failed)),
        ] => {
            assert_eq!(tail, "output cache/base.iso was not made");
            assert_eq!(*class, crate::job::classify::Class::Persistent);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_run_the_last_daemon_left_takes_its_attempts_end_as_the_shim_recorded_it() {
    let mut ids = Ids(50);
    let now = Instant::now();
    let machine = crate::job::run::JobRun::resumed(2, 0, 1, &[], Status::Running);
    let mut r = Runner::resumed(job(), machine, Some((RunId(7), 4242, None)));
    assert_eq!(r.attempt_run(), Some(RunId(7)));
    let mut out = Vec::new();
    r.exited(
        RunId(7),
        ProcessEnd::Exited(0),
        String::new(),
        now,
        &mut || ids.next(),
        &mut out,
    );
    assert_eq!(
        out,
        [
            JobAction::Ended {
                run: RunId(7),
                outcome: AttemptOutcome::Completed,
                end: ProcessEnd::Exited(0),
                tail: String::new(),
                class: None
            },
            JobAction::Record(Effect::Completed {
                step: 0,
                attempt: 1
            }),
            JobAction::Started {
                step: 1,
                attempt: 1,
                run: RunId(51)
            },
            JobAction::Persist,
            JobAction::Spawn {
                step: 1,
                run: RunId(51)
            },
        ]
    );
}

#[test]
fn an_interrupt_stops_nothing_and_the_attempt_ends_as_it_ends() {
    let mut ids = Ids(0);
    let now = Instant::now();
    let mut out = Vec::new();
    let mut r = Runner::start(job(), &both_run(), &[], &mut || ids.next(), &mut out);
    r.spawned(RunId(1), 9, now, &mut out);
    out.clear();
    r.interrupt(&mut out);
    assert_eq!(out, [], "the step under way is not stopped");
    r.exited(
        RunId(1),
        ProcessEnd::Exited(0),
        String::new(),
        now,
        &mut || ids.next(),
        &mut out,
    );
    assert_eq!(
        out.last(),
        Some(&JobAction::Record(Effect::Done(Status::Interrupted)))
    );
    assert!(r.finished());
}

#[test]
fn a_failed_attempts_end_carries_its_class_and_a_stopped_one_without_its_output_is_still_stopped() {
    let mut ids = Ids(0);
    let now = Instant::now();
    let mut out = Vec::new();
    let mut r = Runner::start(job(), &both_run(), &[], &mut || ids.next(), &mut out);
    r.spawned(RunId(1), 9, now, &mut out);
    out.clear();
    r.exited(
        RunId(1),
        ProcessEnd::Exited(75),
        "timeout".into(),
        now,
        &mut || ids.next(),
        &mut out,
    );
    assert!(
        matches!(
            &out[0],
            JobAction::Ended {
                outcome: AttemptOutcome::Failed,
                class: Some((crate::job::classify::Class::Transient, 2)),
                ..
            }
        ),
        "{out:?}"
    );
    // A cancel's SIGTERM makes the retry exit 0 without its output: the
    // end is the cancel's, and the run is over.
    let t = now + Duration::from_secs(5);
    r.tick(t, &mut || ids.next(), &mut out);
    r.spawned(RunId(2), 10, t, &mut out);
    out.clear();
    r.cancel(&mut out);
    r.exited_without_output(RunId(2), "fetched.tar", t, &mut || ids.next(), &mut out);
    assert!(
        out.iter().any(|a| matches!(
            a,
            JobAction::Ended {
                outcome: AttemptOutcome::Cancelled,
                ..
            }
        )),
        "{out:?}"
    );
    assert!(r.finished());
}
