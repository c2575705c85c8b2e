//! A failed start's `on_failure` policy: what it stops, what it leaves,
//! and that "started by this start" is the engine's own record.

use super::super::recovery::{Ended, plan};
use super::*;
use crate::report::Recovery;

const CHAIN: &str = r#"
services:
  db:
    command: db
  api:
    command: api
    depends_on: [db]
    health_check: { tcp: "127.0.0.1:9" }
  web:
    command: web
    depends_on: [api]
  cache:
    command: cache
  admin:
    command: admin
    depends_on: [db]
"#;

fn ended(r: &Rig, ours: &[&str], existing: &[&str], failed: &[&str]) -> Ended {
    let set = |v: &[&str]| v.iter().map(|n| r.idx(n)).collect();
    Ended {
        scope: (0..r.engine.graph().len()).collect(),
        ours: set(ours),
        existing: set(existing),
        failed: failed.iter().map(|n| r.idx(n)).collect(),
    }
}

fn names(r: &Rig, v: &[usize]) -> Vec<String> {
    v.iter()
        .map(|&i| r.engine.graph().name(i).to_string())
        .collect()
}

#[test]
fn keep_plans_nothing() {
    let r = Rig::new(CHAIN);
    let e = ended(&r, &["db"], &[], &["api"]);
    assert_eq!(plan(OnFailure::Keep, r.engine.graph(), &e), None);
}

#[test]
fn teardown_stops_the_whole_scope_with_dependents() {
    let r = Rig::new(CHAIN);
    let e = ended(&r, &["db", "cache"], &["admin"], &["api"]);
    let p = plan(OnFailure::Teardown, r.engine.graph(), &e).unwrap();
    assert_eq!(names(&r, &p.stop), ["db", "api", "web", "cache", "admin"]);
    assert!(!p.exact);
    assert_eq!(p.cause, "--teardown-on-failure");
}

#[test]
fn rollback_stops_only_what_the_start_started() {
    let r = Rig::new(CHAIN);
    let e = ended(&r, &["db", "admin"], &["cache"], &["api"]);
    let p = plan(OnFailure::Rollback, r.engine.graph(), &e).unwrap();
    assert_eq!(names(&r, &p.stop), ["db", "admin"]);
    assert!(p.exact);
    assert_eq!(p.cause, "rollback: api failed (--rollback-on-failure)");
    assert_eq!(p.report.left_running, ["cache"]);
}

#[test]
fn smart_rollback_keeps_independents_and_stops_dependents_it_started() {
    let r = Rig::new(CHAIN);
    // api timed out (still running, ours); web came up past it with
    // --force (ours); admin ran before; cache is ours and independent.
    let e = ended(&r, &["db", "api", "web", "cache"], &["admin"], &["api"]);
    let p = plan(OnFailure::SmartRollback, r.engine.graph(), &e).unwrap();
    assert_eq!(names(&r, &p.stop), ["web"]);
    assert!(p.exact);
    assert_eq!(p.cause, "smart rollback: depends on failed api");
    let Recovery {
        kept,
        not_started,
        left_running,
        unhealthy,
        ..
    } = p.report;
    assert_eq!(kept, ["db", "cache", "admin"]);
    assert!(not_started.is_empty());
    assert!(left_running.is_empty());
    assert_eq!(unhealthy, ["api"]);
}

#[test]
fn smart_rollback_names_dependents_never_started_and_those_that_ran_before() {
    let chain = "services:\n  db: { command: db }\n  api: { command: api, depends_on: [db] }\n  web: { command: web, depends_on: [api] }\n  docs: { command: docs, depends_on: [api] }\n";
    let r2 = Rig::new(chain);
    let e = ended(&r2, &["db"], &["docs"], &["api"]);
    let p = plan(OnFailure::SmartRollback, r2.engine.graph(), &e).unwrap();
    assert!(p.stop.is_empty(), "nothing of ours depends on api");
    assert_eq!(p.report.kept, ["db"]);
    assert_eq!(p.report.not_started, ["web"]);
    assert_eq!(p.report.left_running, ["docs"]);
}

/// Starts `cache` alone and lets it settle, so it runs before the start
/// under test.
fn cache_running() -> Rig {
    let mut r = Rig::new(CHAIN);
    let a = r.start(&["cache"], StartOptions::default());
    r.confirm(&a);
    r.at(300).feed(Input::Tick);
    assert!(r.done().is_some_and(|s| s.success));
    r.log.clear();
    r
}

fn start_all(r: &mut Rig, on_failure: OnFailure) -> Vec<Action> {
    let n = r.engine.graph().len();
    r.feed(Input::Start {
        op: OpId(2),
        targets: (0..n).map(ServiceId).collect(),
        options: StartOptions {
            on_failure,
            ..StartOptions::default()
        },
    })
}

fn stops(r: &Rig, actions: &[Action]) -> Vec<String> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Stop { service, .. } => Some(r.engine.graph().name(service.0).to_string()),
            _ => None,
        })
        .collect()
}

fn end(r: &mut Rig, name: &str, how: ProcessEnd) -> Vec<Action> {
    let (service, run) = (r.idx(name), r.run_of(name));
    r.feed(Input::Exited {
        service: ServiceId(service),
        run,
        end: how,
    })
}

#[test]
fn a_failed_start_rolls_back_in_the_same_operation() {
    let mut r = cache_running();
    let a = start_all(&mut r, OnFailure::Rollback);
    r.confirm(&a);
    let a = r.at(600).feed(Input::Tick); // db settled: api, admin spawn
    r.confirm(&a);
    r.at(900).feed(Input::Tick); // admin settled; api waits for its check
    let out = end(&mut r, "api", ProcessEnd::Exited(1));
    assert!(
        out.contains(&Action::Recover {
            op: OpId(2),
            policy: OnFailure::Rollback
        }),
        "{out:#?}"
    );
    assert!(r.done().is_none(), "not done before the rollback's stop is");
    // admin depends on db: it goes first; cache ran before and stays.
    assert_eq!(stops(&r, &out), ["admin"]);
    let out = end(&mut r, "admin", ProcessEnd::Signaled(15));
    assert_eq!(stops(&r, &out), ["db"]);
    end(&mut r, "db", ProcessEnd::Signaled(15));
    let s = r.done().expect("done once the rollback's stop is");
    assert!(!s.success);
    assert_eq!(s.failed, ["api"]);
    assert_eq!(s.blocked, ["web"]);
    let rec = s.recovery.expect("the rollback is reported");
    assert_eq!(rec.stopped, ["db", "admin"]);
    assert_eq!(rec.left_running, ["cache"]);
    assert!(matches!(r.engine.phase(r.idx("cache")), Phase::Up { .. }));
    let rows = transitions(&r, "db");
    assert!(
        rows.iter().any(|(_, to, why)| to == "stopping"
            && why == "stop requested (rollback: api failed (--rollback-on-failure))"),
        "{rows:?}"
    );
}

#[test]
fn a_rollback_with_nothing_of_its_own_is_done_at_once() {
    let mut r = Rig::new(CHAIN);
    let no_wait = StartOptions {
        no_wait: true,
        ..StartOptions::default()
    };
    let a = r.start(&["api"], no_wait);
    let a = r.confirm(&a);
    r.confirm(&a);
    assert!(r.done().is_some_and(|s| s.success));
    r.log.clear();
    // api runs, never healthy; web waits for it and is blocked when it
    // times out. This start spawned nothing: nothing to roll back.
    let a = r.feed(Input::Start {
        op: OpId(3),
        targets: vec![ServiceId(r.idx("web"))],
        options: StartOptions {
            on_failure: OnFailure::Rollback,
            timeout: Some(Duration::from_secs(1)),
            ..StartOptions::default()
        },
    });
    assert!(r.spawned_names(&a).is_empty());
    let out = r.at(1400).feed(Input::Tick);
    assert!(stops(&r, &out).is_empty());
    assert!(!out.iter().any(|a| matches!(a, Action::Recover { .. })));
    let s = r.done().expect("done at once");
    assert_eq!(s.failed, ["api"]);
    let rec = s.recovery.expect("the rollback is reported");
    assert!(rec.stopped.is_empty());
    assert_eq!(rec.left_running, ["db", "api"]);
}

#[test]
fn a_cancelled_start_recovers_nothing() {
    let mut r = Rig::new(CHAIN);
    let a = start_all(&mut r, OnFailure::Teardown);
    r.confirm(&a);
    let out = r.feed(Input::Cancel { op: OpId(2) });
    assert!(
        out.iter()
            .all(|a| !matches!(a, Action::Recover { .. } | Action::Stop { .. }))
    );
    let out = end(&mut r, "db", ProcessEnd::Exited(1));
    assert!(
        out.iter()
            .all(|a| !matches!(a, Action::Recover { .. } | Action::Stop { .. }))
    );
}
