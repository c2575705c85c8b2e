//! Adoption (seed 000's `harness adopt`): an instance outside harness
//! becomes the service's run, is supervised as any run, and once it ends
//! its restart policy starts harness's own.

use super::*;

/// postgres seen outside harness as process `pid` started at `start`.
fn seen(r: &mut Rig, pid: u32, start: u64, healthy: bool) {
    let id = ServiceId(r.idx("postgres"));
    r.feed(Input::External {
        seen: vec![(
            id,
            Some(ExternalInstance {
                pid: Some(pid),
                start_time: Some(start),
                healthy,
            }),
        )],
    });
}

fn adopt(r: &mut Rig, pid: u32, start: u64) -> Vec<Action> {
    let service = ServiceId(r.idx("postgres"));
    r.feed(Input::Adopt {
        service,
        pid,
        start_time: start,
    })
}

#[test]
fn an_adopted_instance_is_the_services_run_and_shows_as_adopted() {
    let mut r = Rig::new(STACK);
    seen(&mut r, 1234, 77, true);
    let pg = r.idx("postgres");
    assert_eq!(r.engine.may_adopt(pg, 1234, 77), Ok(()));
    let a = adopt(&mut r, 1234, 77);
    let watched: Vec<_> = a
        .iter()
        .filter_map(|a| match a {
            Action::Adopt {
                service,
                pid,
                start_time,
                ..
            } => Some((service.0, *pid, *start_time)),
            _ => None,
        })
        .collect();
    assert_eq!(watched, [(pg, 1234, 77)], "the runtime watches it");
    assert!(
        !a.iter().any(|a| matches!(a, Action::Spawn { .. })),
        "nothing is spawned"
    );
    assert!(
        a.iter().any(|a| matches!(a, Action::Probe { .. })),
        "its checks run as any run's"
    );
    let row = &r.engine.report(r.now).services[pg];
    assert_eq!(
        (row.status, row.health, row.pid),
        (Status::Running, Health::Healthy, Some(1234))
    );
    assert_eq!(row.notes, "adopted (PID 1234)");
    assert_eq!(
        transitions(&r, "postgres"),
        [(
            "stopped".to_string(),
            "running".to_string(),
            "adopted (PID 1234)".to_string()
        )]
    );
    // Its dependents start against it; it is not started again.
    let a = r.start(&["api"], StartOptions::default());
    assert_eq!(r.spawned_names(&a), ["api"]);
}

#[test]
fn an_instance_whose_check_has_not_passed_is_adopted_starting() {
    let mut r = Rig::new(STACK);
    seen(&mut r, 1234, 77, false);
    adopt(&mut r, 1234, 77);
    let pg = r.idx("postgres");
    assert_eq!(r.engine.report(r.now).services[pg].status, Status::Starting);
    r.probe("postgres", true);
    assert_eq!(
        transitions(&r, "postgres").last().unwrap().1,
        "running",
        "its check passing makes it running"
    );
}

#[test]
fn only_the_instance_last_seen_is_adopted() {
    let mut r = Rig::new(STACK);
    let pg = r.idx("postgres");
    let gone = r.engine.may_adopt(pg, 1234, 77).unwrap_err();
    assert!(gone.contains("no longer the instance"), "{gone}");
    seen(&mut r, 1234, 77, true);
    // The same pid, another process (the pid was reused).
    assert!(r.engine.may_adopt(pg, 1234, 78).is_err());
    let a = adopt(&mut r, 1234, 78);
    assert!(a.is_empty(), "nothing happens: {a:?}");
    assert_eq!(r.engine.phase(pg), Phase::Stopped);
    // One whose process could not be named cannot be adopted.
    r.feed(Input::External {
        seen: vec![(
            ServiceId(pg),
            Some(ExternalInstance {
                pid: None,
                start_time: None,
                healthy: true,
            }),
        )],
    });
    let why = r.engine.may_adopt(pg, 1234, 77).unwrap_err();
    assert!(why.contains("could not be named"), "{why}");
}

#[test]
fn a_service_harness_runs_itself_is_not_adopted() {
    let mut r = Rig::new(STACK);
    let a = r.start(&["postgres"], StartOptions::default());
    r.confirm(&a);
    let pg = r.idx("postgres");
    let why = r.engine.may_adopt(pg, 1234, 77).unwrap_err();
    assert!(
        why.starts_with("harness already runs postgres (PID"),
        "{why}"
    );
}

#[test]
fn an_adopted_process_that_ends_is_told_as_unknown_and_restarted_as_harnesss_own() {
    let mut r = Rig::new(STACK);
    seen(&mut r, 1234, 77, true);
    adopt(&mut r, 1234, 77);
    let pg = r.idx("postgres");
    let run = r.run_of("postgres");
    r.feed(Input::Exited {
        service: ServiceId(pg),
        run,
        end: ProcessEnd::Unknown,
    });
    let row = &r.engine.report(r.now).services[pg];
    assert_eq!(row.status, Status::Restarting);
    assert!(
        row.notes
            .starts_with("ended (adopted: exit status unknown); next restart in 1s"),
        "{}",
        row.notes
    );
    assert_eq!(row.exit_code, None, "no exit code is invented");
    let ended = transitions(&r, "postgres").last().unwrap().clone();
    assert!(
        ended.2.contains("ended (adopted: exit status unknown)"),
        "{ended:?}"
    );
    // The backoff passes: harness's own instance, from `command`.
    let a = r.at(1_000).feed(Input::Tick);
    assert_eq!(r.spawned_names(&a), ["postgres"]);
    r.confirm(&a);
    let row = &r.engine.report(r.now).services[pg];
    assert_eq!(
        row.notes, "restarted; last exit: ended (adopted: exit status unknown)",
        "harness's own run, no longer the adopted one"
    );
}

#[test]
fn an_adopted_process_the_last_daemon_recorded_is_adopted_still() {
    let mut r = Rig::new(STACK);
    let pg = r.idx("postgres");
    r.feed(Input::Attached {
        service: ServiceId(pg),
        found: Found {
            run: RunId(40),
            pid: 1234,
            since: r.now,
            wanted: true,
            ended: None,
            definition: None,
            adopted: true,
        },
    });
    assert_eq!(
        r.engine.report(r.now).services[pg].notes,
        "adopted (PID 1234)"
    );
}

#[test]
fn a_deploy_replaces_an_adopted_instance_saying_why() {
    let mut r = Rig::new(STACK);
    seen(&mut r, 1234, 77, true);
    adopt(&mut r, 1234, 77);
    let file = crate::config::parse(STACK, "services.yaml").unwrap();
    let plan = r.engine.deploy_plan(&file, &["postgres".into()]).unwrap();
    let pg = plan.entry("postgres").unwrap();
    assert_eq!(pg.action, crate::report::DeployAction::Change);
    assert_eq!(
        pg.reasons,
        ["adopted (PID 1234): what it runs is not known"]
    );
    assert_eq!(pg.from, None, "no version of it is known");
}
