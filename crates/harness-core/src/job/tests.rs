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

mod runs {
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
        crate::config::parse_with_jobs(yaml, "services.yaml")
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
}

mod runner {
    use crate::config::StopSignal;
    use crate::engine::{ProcessEnd, RunId};
    use crate::job::resume::{Action, Planned};
    use crate::job::run::{Effect, Status};
    use crate::job::runner::{JobAction, Runner, STOP_GRACE};
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
        crate::config::parse_with_jobs(yaml, "services.yaml")
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
        let mut r = Runner::start(job(), &both_run(), &mut || ids.next(), &mut out);
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
        let mut r = Runner::start(job(), &both_run(), &mut || ids.next(), &mut out);
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
            [JobAction::Record(Effect::Failed { class, why, .. })] => {
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
        let mut r = Runner::start(job(), &both_run(), &mut || ids.next(), &mut out);
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
        assert!(
            out.is_empty(),
            "a cancelled attempt is not counted: {out:?}"
        );
        assert!(r.finished());
        assert_eq!(r.status(), Status::Cancelled);
    }

    #[test]
    fn a_failed_spawn_is_a_failed_attempt_that_is_not_retried_on_its_own() {
        let mut ids = Ids(0);
        let mut out = Vec::new();
        let mut r = Runner::start(job(), &both_run(), &mut || ids.next(), &mut out);
        out.clear();
        r.spawn_failed(RunId(1), Instant::now(), &mut || ids.next(), &mut out);
        assert!(
            matches!(&out[..], [JobAction::Record(Effect::Failed { why, .. }), JobAction::Record(Effect::Done(Status::Failed))] if why == "it could not be started"),
            "{out:?}"
        );
        assert_eq!(r.machine().state, 0);
    }
}
