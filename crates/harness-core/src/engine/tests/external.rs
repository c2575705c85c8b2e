//! Services running outside harness (seed 000's "not managed by
//! harness"): what the runtime saw stands for the service, and harness
//! starts no second one.

use super::*;

fn seen(r: &mut Rig, name: &str, pid: Option<u32>, healthy: bool) -> Vec<Action> {
    let id = ServiceId(r.idx(name));
    r.feed(Input::External {
        seen: vec![(
            id,
            Some(ExternalInstance {
                pid,
                start_time: None,
                healthy,
            }),
        )],
    })
}

#[test]
fn an_external_postgres_is_not_started_again_and_its_dependents_start_against_it() {
    let mut r = Rig::new(STACK);
    seen(&mut r, "postgres", Some(1234), true);
    let plan = r
        .engine
        .plan(&[r.idx("api")], &StartOptions::default(), false, r.now);
    let rows: Vec<_> = plan
        .services
        .iter()
        .map(|e| (e.current.name.as_str(), e.action, e.detail.as_str()))
        .collect();
    assert_eq!(
        rows[0],
        (
            "postgres",
            crate::report::PlanAction::Use,
            "running, not managed by harness (PID 1234)"
        )
    );
    assert_eq!(plan.services[0].current.status, Status::External);
    assert_eq!(plan.services[0].current.pid, Some(1234));
    // api's wave is the first: postgres is up already.
    assert_eq!(plan.services[1].wave, Some(1));
    let a = r.start(&["api"], StartOptions::default());
    assert_eq!(r.spawned_names(&a), ["api"], "no second postgres");
    assert_eq!(r.final_phase("postgres"), Some(P::Existing));
    let view = r.engine.report(r.now);
    let pg = &view.services[r.idx("postgres")];
    assert_eq!(
        (pg.status, pg.health, pg.pid),
        (Status::External, Health::Healthy, Some(1234))
    );
    assert_eq!(pg.notes, "not managed by harness (PID 1234)");
}

#[test]
fn an_external_instance_whose_check_fails_holds_healthy_dependents_back() {
    let mut r = Rig::new(STACK);
    seen(&mut r, "postgres", None, false);
    let a = r.start(&["api"], StartOptions::default());
    assert!(
        r.spawned_names(&a).is_empty(),
        "api waits for a healthy postgres"
    );
    assert_eq!(
        r.engine.report(r.now).services[r.idx("postgres")].health,
        Health::Unhealthy
    );
    // It passes now: api starts.
    let a = seen(&mut r, "postgres", None, true);
    assert_eq!(r.spawned_names(&a), ["api"]);
}

#[test]
fn an_external_instance_seen_gone_is_started_by_harness() {
    let mut r = Rig::new(STACK);
    seen(&mut r, "postgres", Some(1234), true);
    let id = ServiceId(r.idx("postgres"));
    r.feed(Input::External {
        seen: vec![(id, None)],
    });
    let a = r.start(&["postgres"], StartOptions::default());
    assert_eq!(r.spawned_names(&a), ["postgres"]);
    // While harness runs its own, what else listens changes nothing.
    r.confirm(&a);
    seen(&mut r, "postgres", Some(99), true);
    let view = r.engine.report(r.now);
    assert_ne!(view.services[r.idx("postgres")].status, Status::External);
}

#[test]
fn a_stop_leaves_an_external_instance_running_and_says_so() {
    let mut r = Rig::new(STACK);
    seen(&mut r, "postgres", Some(1234), true);
    let id = ServiceId(r.idx("postgres"));
    let a = r.feed(Input::Stop {
        op: OpId(2),
        targets: vec![id],
        options: StopOptions::default(),
    });
    assert!(
        !a.iter().any(|a| matches!(a, Action::Stop { .. })),
        "nothing of it is signalled: {a:?}"
    );
    let done = r.done().expect("the stop is done");
    assert_eq!(done.left_running, ["postgres"]);
    assert!(done.stopped.is_empty());
    assert_eq!(
        r.engine.report(r.now).services[r.idx("postgres")].status,
        Status::External
    );
}

#[test]
fn a_new_instance_is_checked_once_and_the_same_process_keeps_its_answer() {
    let mut r = Rig::new(STACK);
    let found = |pid: u32, start: u64| crate::external::External {
        process: Some(crate::external::ProcessFacts {
            pid,
            ppid: 1,
            start_time: start,
            uid: 0,
            name: "postgres".into(),
            argv: vec!["postgres".into()],
        }),
        uid: Some(0),
        evidence: crate::external::Evidence::Port(5432),
        ports: vec![5432],
    };
    let pg = r.idx("postgres");
    let (first, check) = r.engine.external_instance(pg, &found(1234, 50));
    assert!(!first.healthy, "unhealthy until its check passes");
    assert!(check.is_some(), "its readiness check is run");
    r.feed(Input::External {
        seen: vec![(
            ServiceId(pg),
            Some(ExternalInstance {
                healthy: true,
                ..first
            }),
        )],
    });
    let (again, check) = r.engine.external_instance(pg, &found(1234, 50));
    assert!(
        again.healthy && check.is_none(),
        "the same process keeps its answer"
    );
    // The pid reused by another process: checked anew.
    let (other, check) = r.engine.external_instance(pg, &found(1234, 51));
    assert!(!other.healthy && check.is_some());
    // No readiness check: healthy as found.
    let (cache, check) = r.engine.external_instance(r.idx("cache"), &found(77, 1));
    assert!(cache.healthy && check.is_none());
}

#[test]
fn a_deploy_leaves_an_external_instance_as_it_is_and_deploys_the_rest() {
    let mut r = Rig::new(STACK);
    seen(&mut r, "postgres", Some(1234), true);
    let file = crate::config::parse(STACK, "services.yaml").unwrap();
    let plan = r.engine.deploy_plan(&file, &[]).unwrap();
    let pg = plan.entry("postgres").unwrap();
    assert_eq!(pg.action, crate::report::DeployAction::External);
    assert_eq!(
        pg.reasons,
        ["running outside harness (PID 1234): left as it is"]
    );
    assert_eq!(pg.from, None, "harness knows no version of it");
    assert_eq!(
        plan.entry("api").unwrap().action,
        crate::report::DeployAction::Add
    );
    assert!(plan.pending(), "api is still to start");
    let only_pg = r.engine.deploy_plan(&file, &["postgres".into()]).unwrap();
    assert!(!only_pg.pending(), "nothing to do for it");
}
