//! Automatic restarts: backoff, limits, memory across daemons, health events.

use super::*;

#[test]
fn a_killed_service_is_restarted_after_its_backoff_and_dependents_are_left_alone() {
    let mut r = all_up(RESTARTING);
    r.at(20_000);
    let a = kill9(&mut r, "db");
    assert!(r.spawned_names(&a).is_empty(), "waits out the backoff");
    let row = r.engine.report(r.now).services[0].clone();
    assert_eq!((row.status, row.restarts), (Status::Restarting, 1));
    assert_eq!(row.notes, "killed by signal 9; next restart in 1s (1/10)");
    assert_eq!(
        r.engine.next_deadline(),
        Some(r.now + Duration::from_secs(1))
    );
    let a = r.at(21_000).feed(Input::Tick);
    assert_eq!(r.spawned_names(&a), ["db"]);
    r.confirm(&a);
    r.at(21_300).feed(Input::Tick);
    assert_eq!(
        transitions(&r, "db"),
        [
            (
                "running".into(),
                "restarting".into(),
                "killed by signal 9; restart 1/10 in 1s".into()
            ),
            (
                "restarting".into(),
                "starting".into(),
                "restart 1/10".into()
            ),
            (
                "starting".into(),
                "running".into(),
                "restarted successfully (no health check)".into()
            ),
        ]
    );
    let row = r.engine.report(r.now).services[0].clone();
    assert_eq!(
        (row.status, row.health, row.restarts),
        (Status::Running, Health::Healthy, 1)
    );
    assert!(
        transitions(&r, "api").is_empty(),
        "api was neither stopped nor restarted"
    );
    assert!(!r.log.iter().any(|a| matches!(a, Action::Stop { .. })));
}

#[test]
fn a_crash_loop_is_given_up_on_and_a_person_starting_it_clears_that() {
    let mut r = all_up(RESTARTING);
    let mut t = 20_000;
    for attempt in 1..=2u64 {
        kill9(r.at(t), "api");
        t += 1000 * (1 << (attempt - 1));
        let a = r.at(t).feed(Input::Tick);
        assert_eq!(r.spawned_names(&a), ["api"], "attempt {attempt}");
        r.confirm(&a);
        t += 100; // dies long before min_uptime
    }
    kill9(r.at(t), "api");
    let row = r.engine.report(r.now).services[1].clone();
    assert_eq!((row.status, row.health), (Status::Failed, Health::Failed));
    assert_eq!(
        row.notes,
        "exceeded maximum restart limit - manual intervention required (last: killed by signal 9)"
    );
    let last = transitions(&r, "api").pop().unwrap();
    assert_eq!((last.0.as_str(), last.1.as_str()), ("starting", "failed"));
    let web = r.engine.report(r.now).services[3].clone();
    assert_eq!(
        (web.status, web.notes.as_str()),
        (Status::Running, "dependency api failed")
    );
    assert_eq!(r.engine.next_deadline(), None, "no more restarts");

    let api = r.idx("api");
    let a = r.at(t + 10).feed(Input::Start {
        op: OpId(8),
        targets: vec![ServiceId(api)],
        options: StartOptions::default(),
    });
    assert_eq!(r.spawned_names(&a), ["api"]);
    assert_eq!(
        r.engine.report(r.now).services[1].restarts,
        0,
        "a clean slate"
    );
}

#[test]
fn a_stop_during_backoff_ends_it_at_once() {
    let mut r = all_up(RESTARTING);
    kill9(r.at(20_000), "api");
    let api = r.idx("api");
    let a = r.at(20_100).feed(Input::Stop {
        op: OpId(9),
        targets: vec![ServiceId(api)],
        options: StopOptions {
            exact: true, // web, its dependent, is not what this test is about
            cause: None,
        },
    });
    assert!(
        a.iter()
            .any(|a| matches!(a, Action::Done { op: OpId(9), .. })),
        "{a:?}"
    );
    assert_eq!(r.engine.phase(r.idx("api")), Phase::Stopped);
    let a = r.at(30_000).feed(Input::Tick);
    assert!(r.spawned_names(&a).is_empty(), "no restart after the stop");
    assert_eq!(r.engine.report(r.now).services[1].status, Status::Stopped);
}

#[test]
fn policy_never_and_clean_exits_under_on_failure_are_left_alone() {
    let mut r = all_up(RESTARTING);
    let (job, run) = (r.idx("job"), r.run_of("job"));
    r.at(20_000).feed(Input::Exited {
        service: ServiceId(job),
        run,
        end: ProcessEnd::Exited(2),
    });
    let (db, run) = (r.idx("db"), r.run_of("db"));
    r.feed(Input::Exited {
        service: ServiceId(db),
        run,
        end: ProcessEnd::Exited(0),
    });
    assert_eq!(r.engine.next_deadline(), None);
    let rep = r.engine.report(r.now);
    assert_eq!(
        (rep.services[2].status, rep.services[2].health),
        (Status::Exited, Health::Failed)
    );
    assert_eq!(rep.services[0].status, Status::Exited);
    assert_eq!(rep.services[0].restarts, 0);
}

#[test]
fn a_crash_while_a_start_waits_is_a_failed_start_not_a_restart() {
    let mut r = Rig::new(RESTARTING);
    let a = r.start(&["db"], StartOptions::default());
    r.confirm(&a);
    kill9(r.at(100), "db");
    assert_eq!(r.final_phase("db"), Some(P::Failed));
    assert_eq!(r.engine.phase(0), Phase::Stopped);
    assert_eq!(r.engine.next_deadline(), None);
}

#[test]
fn a_stop_that_waits_for_dependents_still_ends_a_backoff_at_once() {
    let mut r = all_up(RESTARTING);
    kill9(r.at(20_000), "db");
    let db = r.idx("db");
    let a = r.at(20_100).feed(Input::Stop {
        op: OpId(9),
        targets: vec![ServiceId(db)],
        options: StopOptions::default(),
    });
    assert_eq!(r.engine.phase(db), Phase::Stopped, "no restart pending");
    assert!(
        a.iter().any(
            |a| matches!(a, Action::Stop { service, .. } if *service == ServiceId(r.idx("web")))
        )
    );
    // api and web take their time to stop; db's backoff (1 s) passes.
    let a = r.at(25_000).feed(Input::Tick);
    assert!(r.spawned_names(&a).is_empty(), "{a:?}");
}

#[test]
fn a_restart_that_cannot_be_spawned_counts_as_a_failed_run() {
    let mut r = all_up(RESTARTING);
    kill9(r.at(20_000), "api");
    let a = r.at(21_000).feed(Input::Tick);
    let Some(Action::Spawn { service, run, .. }) = a
        .iter()
        .find(|a| matches!(a, Action::Spawn { .. }))
        .cloned()
    else {
        panic!("{a:?}")
    };
    r.feed(Input::SpawnFailed {
        service,
        run,
        reason: "cannot run shim: EMFILE".into(),
    });
    assert!(
        matches!(r.engine.phase(service.0), Phase::Backoff { attempt: 2, .. }),
        "{:?}",
        r.engine.phase(service.0)
    );
    let last = transitions(&r, "api").pop().unwrap();
    assert_eq!(last.2, "cannot run shim: EMFILE; restart 2/2 in 2s");
    // No exit code is invented for a run that never ran.
    let row = r.engine.report(r.now).services[r.idx("api")].clone();
    assert_eq!(row.exit_code, None);
    assert!(
        row.notes
            .starts_with("could not be started; next restart in"),
        "{}",
        row.notes
    );
}

#[test]
fn a_new_engine_keeps_the_due_restart_and_the_crash_count_it_is_given() {
    let mut r = all_up(RESTARTING);
    kill9(r.at(20_000), "api"); // restart 1/2 in 1s
    let api = r.idx("api");
    let saved: Vec<Outcome> = (0..4).map(|i| r.engine.outcome(i)).collect();
    assert!(saved[api].backoff.is_some() && saved[api].restarts.total == 1);

    // A new daemon: nothing runs, the outcomes come back from the store.
    let mut n = Rig::new(RESTARTING);
    n.t0 = r.t0;
    let now = n.at(20_100).now;
    for (i, o) in saved.into_iter().enumerate() {
        n.engine.restore(i, o, now);
    }
    assert!(n.engine.outcome_is(api, &r.engine.outcome(api)));
    assert!(n.at(20_500).feed(Input::Tick).is_empty(), "not due yet");
    assert_eq!(
        n.engine.next_deadline(),
        Some(n.t0 + Duration::from_millis(21_000))
    );
    let a = n.at(21_000).feed(Input::Tick);
    assert_eq!(n.spawned_names(&a), ["api"], "the restart that was due");
    n.confirm(&a);
    // The streak and the window carried over: 2s, then the limit of 2.
    kill9(n.at(21_100), "api");
    assert!(matches!(
        n.engine.phase(api),
        Phase::Backoff {
            attempt: 2,
            max: 2,
            ..
        }
    ));
    assert_eq!(
        transitions(&n, "api").last().unwrap().2,
        "killed by signal 9; restart 2/2 in 2s"
    );
    let a = n.at(23_100).feed(Input::Tick);
    n.confirm(&a);
    kill9(n.at(23_200), "api");
    assert_eq!(
        n.engine.view(api, n.now).status,
        crate::report::Status::Failed
    );
}

#[test]
fn restored_times_from_a_stepped_clock_are_clamped_and_never_means_never() {
    let mut r = Rig::new(RESTARTING);
    let now = r.at(5_000).now;
    let hour = Duration::from_secs(3600);
    let saved = Outcome {
        wanted: true,
        restarts: Tracker::from_parts(2, 2, [now + hour, now + hour]),
        backoff: Some(Backoff {
            until: now + hour,
            attempt: 2,
            max: 2,
        }),
        ..Outcome::default()
    };
    let (api, job) = (r.idx("api"), r.idx("job"));
    r.engine.restore(api, saved.clone(), now);
    r.engine.restore(job, saved, now);
    let Phase::Backoff { until, .. } = r.engine.phase(api) else {
        panic!("{:?}", r.engine.phase(api))
    };
    assert_eq!(
        until,
        now + Duration::from_secs(60),
        "at most the longest backoff"
    );
    assert!(r.engine.outcome(api).restarts.recent().all(|t| t <= now));
    assert_eq!(r.engine.phase(job), Phase::Stopped, "restart: never now");
}

/// The health events of service `name` so far, as log lines.
pub(super) fn health_lines(r: &Rig, name: &str) -> Vec<String> {
    let i = r.idx(name);
    r.log
        .iter()
        .filter_map(|a| match a {
            Action::Health { service, event } if *service == ServiceId(i) => Some(event.line()),
            _ => None,
        })
        .collect()
}

#[test]
fn restarts_and_give_ups_are_health_events_with_seed_004_lines() {
    let mut r = all_up(RESTARTING);
    kill9(r.at(20_000), "api");
    let a = r.at(21_000).feed(Input::Tick);
    r.confirm(&a);
    r.at(21_300).feed(Input::Tick); // up 250 ms, no check
    kill9(r.at(21_400), "api");
    let a = r.at(23_400).feed(Input::Tick);
    r.confirm(&a);
    kill9(r.at(23_500), "api");
    assert_eq!(
        health_lines(&r, "api"),
        [
            "Service ended (killed by signal 9; restart 1/2 in 1s)",
            "Restarting service (attempt 1/2)",
            "Service restarted successfully (no health check)",
            "Service ended (killed by signal 9; restart 2/2 in 2s)",
            "Restarting service (attempt 2/2)",
            "Service has exceeded maximum restart limit (2 in 10m 0s) - manual intervention required; last: killed by signal 9",
        ]
    );
    let severities: Vec<Severity> = r
        .log
        .iter()
        .filter_map(|a| match a {
            Action::Health { event, .. } => Some(event.severity()),
            _ => None,
        })
        .collect();
    assert_eq!(severities.last(), Some(&Severity::Error));
    assert!(health_lines(&r, "db").is_empty(), "nothing happened to db");
    for line in health_lines(&r, "api") {
        assert!(HealthEvent::is_line(&line), "{line}");
    }
    assert!(!HealthEvent::is_line("Service is fine"));
}

#[test]
fn a_stack_whose_only_service_waits_to_restart_is_failed_not_stopped() {
    let mut r = Rig::new(RESTARTING);
    let a = r.start(&["db"], StartOptions::default());
    r.confirm(&a);
    r.at(300).feed(Input::Tick);
    r.at(20_000);
    kill9(&mut r, "db");
    let report = r.engine.report(r.now);
    assert_eq!(report.services[0].status, Status::Restarting);
    assert_eq!(report.system_state, SystemState::Failed);
}
