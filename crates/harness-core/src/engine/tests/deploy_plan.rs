//! `Engine::deploy_plan`: each service's action and its reasons, from what
//! runs and the file alone.

use super::*;
use crate::report::{DeployAction as D, DeployPlan};

const RUNNING: &str = r#"
services:
  db:
    command: db --port 5432
    env: { PGPORT: "5432" }
  api:
    command: api
    depends_on: [db]
  old:
    command: old
    depends_on: [db]
  older:
    command: older
    depends_on: [old]
  idle:
    command: idle
"#;

fn actions(plan: &DeployPlan) -> Vec<(String, D, Vec<String>)> {
    plan.services
        .iter()
        .map(|e| (e.service.clone(), e.action, e.reasons.clone()))
        .collect()
}

fn file(yaml: &str) -> crate::config::Config {
    parse(yaml, "services.yaml").unwrap()
}

#[test]
fn each_service_gets_its_action_and_removals_come_first_dependents_first() {
    let mut r = all_up(RUNNING);
    let stop = r.feed(Input::Stop {
        op: OpId(2),
        targets: vec![ServiceId(r.idx("idle"))],
        options: StopOptions::default(),
    });
    for a in stop {
        if let Action::Stop { service, run, .. } = a {
            let _ = r.feed(Input::Exited {
                service,
                run,
                end: ProcessEnd::Signaled(15),
            });
        }
    }
    let new = file(
        r#"
services:
  db:
    command: db --port 5432
    env: { PGPORT: "5433" }
  api:
    command: api
    depends_on: [db]
    health_check: { tcp: "127.0.0.1:8080" }
  idle:
    command: idle
  web:
    command: web
"#,
    );
    let plan = r.engine.deploy_plan(&new, &[]).unwrap();
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    assert_eq!(
        actions(&plan),
        [
            ("older".into(), D::Remove, s(&["removed from the file"])),
            ("old".into(), D::Remove, s(&["removed from the file"])),
            ("db".into(), D::Change, s(&["env PGPORT changed"])),
            ("api".into(), D::InPlace, s(&["health_check changed"])),
            ("idle".into(), D::Add, vec![]),
            ("web".into(), D::Add, vec![]),
        ]
    );
    assert!(plan.pending());
    // Only what is named; a name of neither is refused with the names.
    let only = r.engine.deploy_plan(&new, &["old".into()]).unwrap();
    assert_eq!(
        actions(&only),
        [("old".into(), D::Remove, s(&["removed from the file"]))]
    );
    let err = r.engine.deploy_plan(&new, &["nope".into()]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "unknown service `nope`; services are: db, api, idle, web, older, old"
    );
}

#[test]
fn the_file_that_runs_is_unchanged_and_a_new_ready_is_a_change() {
    let r = all_up(RUNNING);
    let same = r.engine.deploy_plan(r.engine.config(), &[]).unwrap();
    assert!(!same.pending(), "{same:?}");
    let notify = RUNNING.replace("command: idle", "command: idle\n    ready: notify");
    let plan = r.engine.deploy_plan(&file(&notify), &[]).unwrap();
    assert_eq!(
        plan.entry("idle").map(|e| (e.action, e.reasons.clone())),
        Some((D::Change, vec!["ready changed".to_string()]))
    );
}

#[test]
fn a_plans_digest_changes_with_any_action_reason_or_version_and_only_then() {
    use crate::report::{DeployAction, DeployEntry, DeployPlan};
    let entry = |action, reason: &str, to: &str| DeployEntry {
        service: "api".into(),
        action,
        reasons: vec![reason.into()],
        from: Some("3f2a9c".into()),
        to: Some(to.into()),
    };
    let plan = |e| DeployPlan { services: vec![e] };
    let base = plan(entry(DeployAction::Change, "command changed", "8b1e44"));
    assert_eq!(base.digest(), base.clone().digest());
    assert_eq!(base.digest().len(), 12);
    for other in [
        plan(entry(DeployAction::Drifted, "command changed", "8b1e44")),
        plan(entry(DeployAction::Change, "env PORT changed", "8b1e44")),
        plan(entry(DeployAction::Change, "command changed", "8b1e45")),
        DeployPlan::default(),
    ] {
        assert_ne!(base.digest(), other.digest(), "{other:?}");
    }
}
