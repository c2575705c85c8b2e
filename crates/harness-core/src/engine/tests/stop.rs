//! Stopping: dependents first, cancelled operations, exact stops.

use super::*;

#[test]
fn stop_takes_dependents_down_first() {
    let mut r = Rig::new(STACK);
    let a = r.start(
        &["worker"],
        StartOptions {
            no_wait: true,
            ..Default::default()
        },
    );
    let a = r.confirm(&a);
    let a = r.confirm(&a);
    r.confirm(&a);
    let stops = r.feed(Input::Stop {
        op: OpId(9),
        targets: vec![ServiceId(r.idx("postgres"))],
        options: StopOptions::default(),
    });
    let stopped: Vec<usize> = stops
        .iter()
        .filter_map(|a| match a {
            Action::Stop { service, .. } => Some(service.0),
            _ => None,
        })
        .collect();
    assert_eq!(stopped, [r.idx("worker")], "only the leaf first");
    let (w, run) = (r.idx("worker"), r.run_of("worker"));
    let next = r.feed(Input::Exited {
        service: ServiceId(w),
        run,
        end: ProcessEnd::Signaled(15),
    });
    assert!(
        next.iter().any(
            |a| matches!(a, Action::Stop { service, .. } if *service == ServiceId(r.idx("api")))
        )
    );
    let (api, run) = (r.idx("api"), r.run_of("api"));
    r.feed(Input::Exited {
        service: ServiceId(api),
        run,
        end: ProcessEnd::Signaled(15),
    });
    let (pg, run) = (r.idx("postgres"), r.run_of("postgres"));
    r.feed(Input::Exited {
        service: ServiceId(pg),
        run,
        end: ProcessEnd::Exited(0),
    });
    let s = r
        .log
        .iter()
        .rev()
        .find_map(|a| match a {
            Action::Done {
                op: OpId(9),
                summary,
            } => Some(summary.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(s.stopped, ["postgres", "api", "worker"]);
    assert_eq!(r.engine.report(r.now).system_state, SystemState::Stopped);
}

#[test]
fn a_cancelled_stop_still_runs_to_the_end_but_a_cancelled_start_does_not() {
    let mut r = Rig::new(STACK);
    let a = r.start(
        &["api"],
        StartOptions {
            no_wait: true,
            ..Default::default()
        },
    );
    let a = r.confirm(&a);
    r.confirm(&a);
    r.feed(Input::Stop {
        op: OpId(5),
        targets: vec![ServiceId(0)],
        options: StopOptions::default(),
    });
    r.feed(Input::Cancel { op: OpId(5) });
    let (api, run) = (r.idx("api"), r.run_of("api"));
    let next = r.feed(Input::Exited {
        service: ServiceId(api),
        run,
        end: ProcessEnd::Signaled(15),
    });
    assert!(
        next.iter().any(|a| matches!(
            a,
            Action::Stop {
                service: ServiceId(0),
                ..
            }
        )),
        "postgres is still stopped after the client left"
    );

    let mut r = Rig::new(STACK);
    r.start(&["api"], StartOptions::default());
    r.feed(Input::Cancel { op: OpId(1) });
    let a = r.feed(Input::Tick);
    assert!(r.spawned_names(&a).is_empty());
    assert_eq!(r.engine.next_deadline(), None);
}

#[test]
fn an_exact_stop_leaves_dependents_outside_it_running() {
    let mut r = Rig::new(STACK);
    let a = r.start(&["worker"], StartOptions::default());
    r.confirm(&a);
    let a = r.probe("postgres", true);
    r.confirm(&a);
    let a = r.at(10).probe("api", true);
    r.confirm(&a);
    r.at(300).feed(Input::Tick);
    assert!(r.done().is_some_and(|s| s.success));
    let stops = r.feed(Input::Stop {
        op: OpId(2),
        targets: vec![ServiceId(r.idx("api"))],
        options: StopOptions {
            exact: true,
            cause: Some("rollback: cache failed".into()),
        },
    });
    let stopped: Vec<usize> = stops
        .iter()
        .filter_map(|a| match a {
            Action::Stop { service, .. } => Some(service.0),
            _ => None,
        })
        .collect();
    assert_eq!(stopped, [r.idx("api")], "worker is not pulled in");
    assert!(stops.iter().any(|a| matches!(a,
        Action::Transition { to: HistoryState::Stopping, reason, .. }
            if reason == "stop requested (rollback: cache failed)")));
    assert!(matches!(r.engine.phase(r.idx("worker")), Phase::Up { .. }));
}

#[test]
fn idle_only_with_no_operation_no_process_and_no_restart_due() {
    let mut r = Rig::new(STACK);
    assert!(r.engine.idle());
    let a = r.start(&["cache"], StartOptions::default());
    assert!(!r.engine.idle(), "a start is open");
    r.confirm(&a);
    r.at(300).feed(Input::Tick);
    assert!(!r.engine.idle(), "cache runs");
    let (service, run) = (ServiceId(r.idx("cache")), r.run_of("cache"));
    r.feed(Input::Exited {
        service,
        run,
        end: ProcessEnd::Signaled(9),
    });
    assert!(!r.engine.idle(), "its restart is due");
}

/// A stop that comes while a start runs takes down what the start had
/// brought up: the start's summary says those were stopped meanwhile, not
/// started, and the one it was still starting failed for that reason.
#[test]
fn a_start_cut_short_by_a_stop_says_what_the_stop_took_down() {
    let mut r = Rig::new(STACK);
    let a = r.start(&["api"], StartOptions::default());
    r.confirm(&a);
    let b = r.probe("postgres", true);
    r.confirm(&b);
    let (pg, api) = (r.idx("postgres"), r.idx("api"));
    let runs = [(pg, r.run_of("postgres")), (api, r.run_of("api"))];
    r.feed(Input::Stop {
        op: OpId(2),
        targets: vec![ServiceId(pg), ServiceId(api)],
        options: StopOptions::default(),
    });
    for (service, run) in runs {
        r.feed(Input::Exited {
            service: ServiceId(service),
            run,
            end: ProcessEnd::Signaled(15),
        });
    }
    let start = r
        .log
        .iter()
        .find_map(|a| match a {
            Action::Done {
                op: OpId(1),
                summary,
            } => Some(summary.clone()),
            _ => None,
        })
        .expect("the start is done");
    assert_eq!(start.stopped, ["postgres"]);
    assert!(start.started.is_empty(), "{start:?}");
    assert_eq!(start.failed, ["api"]);
    assert!(!start.success);
}
