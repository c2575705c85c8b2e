//! The plan of a start (`--dry-run`, the state check) and `--blocked`.

use super::*;

/// The stack after seed 000's mid-chain failure: postgres and cache up,
/// api failed (exit 1), worker blocked.
pub(super) fn after_api_failed() -> Rig {
    let mut r = Rig::new(STACK);
    let a = r.start(&["worker", "cache"], StartOptions::default());
    r.confirm(&a);
    let a = r.probe("postgres", true);
    r.confirm(&a);
    r.at(300).feed(Input::Tick);
    let (api, run) = (r.idx("api"), r.run_of("api"));
    r.feed(Input::Exited {
        service: ServiceId(api),
        run,
        end: ProcessEnd::Exited(1),
    });
    assert!(r.done().is_some_and(|s| !s.success));
    r.log.clear();
    r
}

fn plan_rows(
    plan: &crate::report::Plan,
) -> Vec<(String, crate::report::PlanAction, Option<u32>, String)> {
    plan.services
        .iter()
        .map(|e| (e.current.name.clone(), e.action, e.wave, e.detail.clone()))
        .collect()
}

#[test]
fn plan_puts_a_stopped_stack_in_waves() {
    use crate::report::PlanAction::Start;
    let r = Rig::new(STACK);
    let plan = r
        .engine
        .plan(&[0, 1, 2, 3], &StartOptions::default(), false, r.now);
    let s = String::new;
    assert_eq!(
        plan_rows(&plan),
        [
            ("postgres".into(), Start, Some(1), s()),
            ("api".into(), Start, Some(2), s()),
            ("worker".into(), Start, Some(3), s()),
            ("cache".into(), Start, Some(1), s()),
        ]
    );
    let only_api = r
        .engine
        .plan(&[r.idx("api")], &StartOptions::default(), false, r.now);
    assert_eq!(only_api.services.len(), 2, "api and what it needs");
}

#[test]
fn plan_after_a_partial_failure_uses_what_runs_and_changes_nothing() {
    use crate::report::PlanAction::{Start, Use};
    let r = after_api_failed();
    let before = format!("{:?}", r.engine);
    let plan = r
        .engine
        .plan(&[0, 1, 2, 3], &StartOptions::default(), false, r.now);
    let rows: Vec<_> = plan_rows(&plan)
        .into_iter()
        .map(|(n, a, w, _)| (n, a, w))
        .collect();
    assert_eq!(
        rows,
        [
            ("postgres".into(), Use, None),
            ("api".into(), Start, Some(1)),
            ("worker".into(), Start, Some(2)),
            ("cache".into(), Use, None),
        ]
    );
    assert_eq!(plan.services[1].current.health, Health::Failed);
    assert_eq!(plan.services[2].current.notes, "dependency failed: api");
    let restart = r
        .engine
        .plan(&[0, 1, 2, 3], &StartOptions::default(), true, r.now);
    let waves: Vec<_> = restart
        .services
        .iter()
        .map(|e| (e.action, e.wave))
        .collect();
    assert_eq!(
        waves,
        [
            (Start, Some(1)),
            (Start, Some(2)),
            (Start, Some(3)),
            (Start, Some(1))
        ]
    );
    assert_eq!(
        format!("{:?}", r.engine),
        before,
        "planning changes nothing"
    );
}

#[test]
fn blocked_services_alone_stay_blocked_by_a_failed_dependency_unless_forced() {
    use crate::report::PlanAction::{Blocked, Start};
    let mut r = after_api_failed();
    let worker = r.idx("worker");
    let alone = StartOptions {
        no_deps: true,
        ..Default::default()
    };
    let plan = r.engine.plan(&[worker], &alone, false, r.now);
    assert_eq!(
        plan_rows(&plan),
        [(
            "worker".into(),
            Blocked,
            None,
            "dependency failed: api".into()
        )]
    );
    let forced = StartOptions {
        force: true,
        ..alone.clone()
    };
    let plan = r.engine.plan(&[worker], &forced, false, r.now);
    assert_eq!(
        plan_rows(&plan),
        [("worker".into(), Start, Some(1), "forced: api not up".into())]
    );

    let a = r.at(1000).feed(Input::Start {
        op: OpId(2),
        targets: vec![ServiceId(worker)],
        options: alone,
    });
    assert!(r.spawned_names(&a).is_empty(), "api is not retried");
    assert_eq!(r.final_phase("worker"), Some(P::Blocked));

    r.log.clear();
    let a = r.at(2000).feed(Input::Start {
        op: OpId(3),
        targets: vec![ServiceId(worker)],
        options: StartOptions {
            cause: Some("force continue chosen at prompt".into()),
            ..forced
        },
    });
    assert_eq!(r.spawned_names(&a), ["worker"]);
    assert!(r.log.iter().any(|a| matches!(a,
        Action::Transition { to: HistoryState::Starting, reason, .. }
            if reason == "start requested (forced: dependencies not up; force continue chosen at prompt)")));
    r.confirm(&a);
    r.at(2300).feed(Input::Tick);
    assert_eq!(r.final_phase("worker"), Some(P::Warning));
    assert_eq!(r.engine.phase(r.idx("api")), Phase::Stopped);
}
