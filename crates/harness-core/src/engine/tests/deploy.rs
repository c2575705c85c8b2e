//! Deploys carried out: the order of operations, the health gate, the
//! revert, per-service isolation, removals never lost.

use super::*;
use crate::report::{DeployEvent, DeployPhase, DeploySummary, Kept};

const RUNNING: &str = r#"
services:
  db:
    command: db v1
  api:
    command: api v1
    depends_on: [db]
    update: { min_healthy: 2s }
  web:
    command: web v1
    depends_on: [api]
  old:
    command: old
    depends_on: [db]
"#;

fn file(yaml: &str) -> crate::config::Config {
    parse(yaml, "services.yaml").unwrap()
}

impl Rig {
    fn deploy(&mut self, yaml: &str, no_prune: bool) -> Vec<Action> {
        let file = file(yaml);
        let plan = self.engine.deploy_plan(&file, &[]).unwrap();
        self.feed(Input::Deploy {
            op: OpId(9),
            file: Box::new(file),
            plan,
            options: DeployOptions {
                no_prune,
                ..DeployOptions::default()
            },
        })
    }
    /// Exits confirmed for every Stop in `actions` (the stop signal).
    fn stopped(&mut self, actions: &[Action]) -> Vec<Action> {
        let mut out = Vec::new();
        for a in actions {
            if let Action::Stop { service, run, .. } = a {
                out.extend(self.feed(Input::Exited {
                    service: *service,
                    run: *run,
                    end: ProcessEnd::Signaled(15),
                }));
            }
        }
        out
    }
    fn deploy_done(&self) -> Option<DeploySummary> {
        self.log.iter().find_map(|a| match a {
            Action::DeployDone { summary, .. } => Some(summary.clone()),
            _ => None,
        })
    }
    fn deploy_events(&self) -> Vec<String> {
        self.log
            .iter()
            .filter_map(|a| match a {
                Action::Deploy {
                    event: DeployEvent::Progress { service, phase, .. },
                    ..
                } => Some(format!("{service} {phase:?}")),
                Action::Deploy {
                    event:
                        DeployEvent::Failed {
                            service,
                            reason,
                            kept,
                        },
                    ..
                } => Some(format!("{service} failed ({reason}) kept {kept:?}")),
                _ => None,
            })
            .collect()
    }
    fn spawned_commands(actions: &[Action]) -> Vec<String> {
        actions
            .iter()
            .filter_map(|a| match a {
                Action::Spawn { spec, .. } => Some(match &spec.command {
                    crate::config::Command::Shell(s) => s.clone(),
                    crate::config::Command::Argv(v) => v.join(" "),
                }),
                _ => None,
            })
            .collect()
    }
}

#[test]
fn removals_stop_first_then_changes_go_in_waves_each_committed_after_its_gate() {
    let mut r = all_up(RUNNING);
    let new = RUNNING
        .replace("api v1", "api v2")
        .replace("web v1", "web v2")
        .replace("  old:\n    command: old\n    depends_on: [db]\n", "");
    let a = r.at(10_000).deploy(&new, false);
    // Only the removal acts first: nothing else is touched while it runs.
    let stops: Vec<_> = a
        .iter()
        .filter_map(|a| match a {
            Action::Stop { service, .. } => Some(r.engine.graph().name(service.0).to_string()),
            _ => None,
        })
        .collect();
    assert_eq!(stops, ["old"]);
    assert!(Rig::spawned_commands(&a).is_empty());
    // `old` is down: api (stop-first) is stopped, web waits for api.
    let a = r.at(10_100).stopped(&a);
    assert!(Rig::spawned_commands(&a).is_empty(), "{a:?}");
    let a = r.at(10_200).stopped(&a);
    assert_eq!(Rig::spawned_commands(&a), ["api v2"]);
    r.at(10_300).confirm(&a);
    // Ready after 250 ms (no check), committed 2 s later; only then web.
    let a = r.at(10_600).feed(Input::Tick);
    assert!(a.iter().all(|a| !matches!(a, Action::Stop { .. })), "{a:?}");
    let a = r.at(12_600).feed(Input::Tick);
    let a = r.at(12_700).stopped(&a);
    assert_eq!(Rig::spawned_commands(&a), ["web v2"]);
    r.at(12_800).confirm(&a);
    let _ = r.at(13_100).feed(Input::Tick);
    let _ = r.at(15_100).feed(Input::Tick);
    assert_eq!(
        r.deploy_events(),
        [
            "old Stopping",
            "old Removed",
            "api Scheduled",
            "api Stopping",
            "api Starting",
            "api Healthy",
            "web Scheduled",
            "web Stopping",
            "web Starting",
            "web Healthy",
        ]
    );
    let done = r.deploy_done().expect("deploy done");
    assert!(done.success);
    assert_eq!(done.deployed, ["api", "web"]);
    assert_eq!(done.removed, ["old"]);
    assert_eq!(done.unchanged, ["db"]);
    // The removed service is gone from the config once down (after the
    // step's actions are carried out); what runs now is the file.
    assert!(r.engine.graph().index("old").is_some());
    r.engine.drop_removed();
    assert!(r.engine.graph().index("old").is_none());
    assert!(!r.engine.deploy_plan(&file(&new), &[]).unwrap().pending());
}

#[test]
fn an_exit_inside_the_gate_fails_at_once_and_the_previous_version_comes_back() {
    let mut r = all_up(RUNNING);
    let new = RUNNING
        .replace("api v1", "api v2")
        .replace("web v1", "web v2");
    let a = r.at(10_000).deploy(&new, true);
    let a = r.at(10_100).stopped(&a);
    r.at(10_200).confirm(&a);
    let _ = r.at(10_500).feed(Input::Tick); // ready; the gate runs to 12.5 s
    let i = r.idx("api");
    let run = r.run_of("api");
    let a = r.at(11_000).feed(Input::Exited {
        service: ServiceId(i),
        run,
        end: ProcessEnd::Exited(3),
    });
    // At once, not at the end of the gate, and not the restart policy.
    assert_eq!(Rig::spawned_commands(&a), ["api v1"]);
    r.at(11_100).confirm(&a);
    let _ = r.at(11_400).feed(Input::Tick);
    let events = r.deploy_events();
    assert!(
        events.contains(&"api failed (exit code 3) kept Reverted".to_string()),
        "{events:?}"
    );
    let done = r.deploy_done().expect("deploy done");
    assert!(!done.success);
    assert_eq!(done.failed, ["api"]);
    assert_eq!(done.reverted, ["api"]);
    // web (dependent of api) was not touched: blocked, still running v1.
    assert_eq!(done.blocked, ["web"]);
    assert!(matches!(r.engine.phase(r.idx("web")), Phase::Up { .. }));
    // What runs is v1 again, and the plan says so.
    let plan = r.engine.deploy_plan(&file(&new), &[]).unwrap();
    let api = plan.entry("api").unwrap();
    assert_eq!(api.action, crate::report::DeployAction::Drifted);
    assert_eq!(
        api.reasons,
        ["deploy 9 failed: exit code 3; reverted", "command changed"]
    );
    let rows = transitions(&r, "api");
    assert!(
        rows.iter()
            .any(|(_, to, why)| to == "failed" && why == "deploy 9 failed: new version exit code 3"),
        "{rows:?}"
    );
    // A later crash restarts the version that runs, v1, not the file's.
    let run = r.run_of("api");
    let _ = r.at(20_000).feed(Input::Exited {
        service: ServiceId(i),
        run,
        end: ProcessEnd::Exited(1),
    });
    let a = r.at(30_000).feed(Input::Tick);
    assert_eq!(Rig::spawned_commands(&a), ["api v1"]);
}

#[test]
fn a_failed_spawn_of_a_new_service_keeps_none_and_does_not_undo_the_others() {
    let mut r = all_up(RUNNING);
    let new = format!(
        "{}  broken:\n    command: nothere\n  front:\n    command: front\n    depends_on: [broken]\n",
        RUNNING.replace("db v1", "db v2")
    );
    let a = r.at(10_000).deploy(&new, false);
    // db is stopped first (stop-first); broken has no dependency.
    let spawned = Rig::spawned_commands(&a);
    assert_eq!(spawned, ["nothere"]);
    let broken = r.idx("broken");
    let run = r.run_of("broken");
    let _ = r.feed(Input::SpawnFailed {
        service: ServiceId(broken),
        run,
        reason: "command not found: nothere".into(),
    });
    let a = r.at(10_100).stopped(&a);
    r.confirm(&a);
    let _ = r.at(10_400).feed(Input::Tick);
    let _ = r.at(12_400).feed(Input::Tick);
    let done = r.deploy_done().expect("deploy done");
    assert!(!done.success);
    assert_eq!(done.deployed, ["db"]);
    assert_eq!(done.failed, ["broken"]);
    assert!(done.reverted.is_empty());
    assert_eq!(done.blocked, ["front"]);
    assert!(
        r.deploy_events()
            .contains(&"broken failed (command not found: nothere) kept None".to_string())
    );
    assert!(matches!(r.engine.phase(broken), Phase::Stopped));
}

#[test]
fn a_new_version_never_ready_is_stopped_at_its_deadline_and_reverted() {
    let yaml = RUNNING.replace(
        "    update: { min_healthy: 2s }",
        "    update: { min_healthy: 2s, healthy_deadline: 5s }\n    health_check: { tcp: \"127.0.0.1:1\" }",
    );
    let mut r = Rig::new(&yaml);
    let a = r.start(&["api"], StartOptions::default());
    r.confirm(&a);
    let a = r.at(300).feed(Input::Tick); // db up: api spawned
    r.confirm(&a);
    let _ = r.probe("api", true);
    assert!(r.done().is_some_and(|s| s.success), "{:?}", r.done());
    r.log.clear();
    let new = yaml.replace("api v1", "api v2");
    let a = r.at(10_000).deploy(&new, true);
    let a = r.stopped(&a);
    assert_eq!(Rig::spawned_commands(&a), ["api v2"]);
    r.confirm(&a);
    let _ = r.probe("api", false);
    let a = r.at(15_000).feed(Input::Tick);
    let a = r.stopped(&a);
    assert_eq!(Rig::spawned_commands(&a), ["api v1"]);
    r.confirm(&a);
    let _ = r.probe("api", true);
    let events = r.deploy_events();
    assert!(
        events.contains(&"api failed (not healthy within 5s) kept Reverted".to_string()),
        "{events:?} {:?}",
        r.log
    );
}

#[test]
fn no_prune_keeps_a_removed_service_running_and_known() {
    let mut r = all_up(RUNNING);
    let new = RUNNING.replace("  old:\n    command: old\n    depends_on: [db]\n", "");
    let a = r.at(10_000).deploy(&new, true);
    assert!(a.iter().all(|a| !matches!(a, Action::Stop { .. })));
    let done = r.deploy_done().expect("nothing to wait for");
    assert_eq!(done.kept, ["old"]);
    assert!(done.success);
    // Still in the config in force, so still stoppable; and a reload of
    // the file keeps it too, while it runs.
    let old = r.idx("old");
    assert!(matches!(r.engine.phase(old), Phase::Up { .. }));
    r.engine.reload(file(&new)).unwrap();
    assert!(r.engine.graph().index("old").is_some());
    let _ = &mut r;
    let _: Kept = Kept::None;
    let _ = DeployPhase::Kept;
}

#[test]
fn a_cancelled_deploy_begins_no_further_service_and_finishes_the_one_under_way() {
    let mut r = all_up(RUNNING);
    let new = RUNNING
        .replace("api v1", "api v2")
        .replace("web v1", "web v2");
    let a = r.at(10_000).deploy(&new, true);
    let a = r.stopped(&a);
    assert_eq!(Rig::spawned_commands(&a), ["api v2"]);
    r.confirm(&a);
    // Cancelled inside api's gate: web (waiting for api) never begins.
    let a = r.at(10_500).feed(Input::Cancel { op: OpId(9) });
    assert!(
        a.iter()
            .all(|a| !matches!(a, Action::Stop { .. } | Action::Spawn { .. }))
    );
    let _ = r.at(12_600).feed(Input::Tick);
    let done = r.deploy_done().expect("deploy done");
    assert_eq!(done.deployed, ["api"]);
    assert_eq!(done.cancelled, ["web"]);
    assert!(!done.success);
    assert!(matches!(r.engine.phase(r.idx("web")), Phase::Up { .. }));
    assert!(r.deploy_events().contains(&"web Cancelled".to_string()));
}

const CHECKED: &str = r#"
services:
  db:
    command: db
    health_check: { tcp: "127.0.0.1:1", retries: 1 }
  api:
    command: api v1
    depends_on: [db]
    liveness: { tcp: "127.0.0.1:2", interval: 1s, retries: 2 }
    update: { min_healthy: 5s }
"#;

/// db healthy, api up (no readiness check: 250 ms).
fn checked_up() -> Rig {
    let mut r = Rig::new(CHECKED);
    let a = r.start(&["api"], StartOptions::default());
    r.confirm(&a);
    let a = r.probe("db", true);
    r.confirm(&a);
    let _ = r.at(300).feed(Input::Tick);
    assert!(r.done().is_some_and(|s| s.success), "{:?}", r.done());
    r.log.clear();
    r
}

#[test]
fn a_dependency_outside_the_deploy_that_is_unhealthy_blocks_at_once_never_hangs() {
    let mut r = checked_up();
    let _ = r.at(1_000).probe("db", false); // retries 1: unhealthy
    let _ = r
        .at(2_000)
        .deploy(&CHECKED.replace("api v1", "api v2"), true);
    let done = r.deploy_done().expect("the deploy ends at once");
    assert_eq!(done.blocked, ["api"]);
    assert!(
        r.deploy_events().iter().any(|e| e == "api Blocked"),
        "{:?}",
        r.deploy_events()
    );
    // Still running v1, not marked blocked in status (it runs).
    assert!(matches!(r.engine.phase(r.idx("api")), Phase::Up { .. }));
    assert_eq!(r.engine.outcome(r.idx("api")).verdict, Verdict::None);
}

#[test]
fn a_liveness_kill_inside_the_gate_is_the_failure_it_is_and_reverts() {
    let mut r = checked_up();
    let a = r
        .at(1_000)
        .deploy(&CHECKED.replace("api v1", "api v2"), true);
    let a = r.stopped(&a);
    assert_eq!(Rig::spawned_commands(&a), ["api v2"]);
    r.confirm(&a);
    let _ = r.at(1_400).feed(Input::Tick); // up (250 ms): the gate runs to 6.4 s
    let (i, run) = (r.idx("api"), r.run_of("api"));
    let mut kill = Vec::new();
    for t in [2_000, 3_000] {
        kill = r.at(t).feed(Input::Probed {
            service: ServiceId(i),
            run,
            kind: ProbeKind::Live,
            ok: false,
        });
    }
    let a = r.at(3_100).stopped(&kill);
    assert_eq!(Rig::spawned_commands(&a), ["api v1"], "{a:?}");
    r.confirm(&a);
    let _ = r.at(3_500).feed(Input::Tick);
    let events = r.deploy_events();
    assert!(
        events.contains(&"api failed (liveness probe failed 2 times) kept Reverted".to_string()),
        "{events:?}"
    );
}

#[test]
fn a_deploy_with_a_kept_version_runs_it_instead_of_the_files_and_goes_back_if_it_fails() {
    let mut r = all_up(RUNNING);
    let file = file(RUNNING);
    let old = RunSpec {
        command: crate::config::Command::Shell("api v0".into()),
        ..RunSpec::of(file.service("api").unwrap())
    };
    let plan = crate::report::DeployPlan {
        services: vec![crate::report::DeployEntry {
            service: "api".into(),
            action: crate::report::DeployAction::Change,
            reasons: vec!["rollback to v0".into()],
            from: None,
            to: Some(Definition::of(&old).version()),
        }],
    };
    let a = r.at(10_000).feed(Input::Deploy {
        op: OpId(9),
        file: Box::new(file),
        plan,
        options: DeployOptions {
            no_prune: true,
            versions: vec![("api".into(), old)],
        },
    });
    let a = r.stopped(&a);
    assert_eq!(Rig::spawned_commands(&a), ["api v0"]);
    r.confirm(&a);
    // It dies inside the gate: back to what ran (the file's v1).
    let (i, run) = (r.idx("api"), r.run_of("api"));
    let a = r.at(10_500).feed(Input::Exited {
        service: ServiceId(i),
        run,
        end: ProcessEnd::Exited(1),
    });
    assert_eq!(Rig::spawned_commands(&a), ["api v1"]);
}

const START_FIRST: &str = r#"
services:
  db:
    command: db v1
  api:
    command: api v1
    depends_on: [db]
    update: { order: start-first, min_healthy: 1s }
"#;

#[test]
fn start_first_runs_the_new_version_beside_the_old_and_stops_the_old_only_once_committed() {
    let mut r = all_up(START_FIRST);
    let i = r.idx("api");
    let old = r.run_of("api");
    let a = r
        .at(10_000)
        .deploy(&START_FIRST.replace("api v1", "api v2"), false);
    assert!(a.iter().all(|a| !matches!(a, Action::Stop { .. })), "{a:?}");
    assert_eq!(Rig::spawned_commands(&a), ["api v2"]);
    r.at(10_100).confirm(&a);
    let notes = &r.engine.report(r.now).services[i].notes;
    assert!(notes.contains("previous version (PID"), "{notes}");
    // Ready (no check: 250 ms), then the gate: the old run is untouched.
    let a = r.at(10_400).feed(Input::Tick);
    assert!(a.iter().all(|a| !matches!(a, Action::Stop { .. })), "{a:?}");
    // Committed at 11.4 s: only now is the old run stopped, and the deploy
    // ends once it is down.
    let a = r.at(11_400).feed(Input::Tick);
    let stops: Vec<RunId> = a
        .iter()
        .filter_map(|a| match a {
            Action::Stop { run, .. } => Some(*run),
            _ => None,
        })
        .collect();
    assert_eq!(stops, [old]);
    assert!(r.deploy_done().is_none());
    let _ = r.at(11_500).stopped(&a);
    let done = r.deploy_done().expect("deploy done");
    assert!(done.success, "{done:?}");
    assert_ne!(r.run_of("api"), old);
    assert_eq!(
        r.deploy_events(),
        ["api Scheduled", "api Starting", "api Healthy"]
    );
    let rows = transitions(&r, "api");
    assert!(
        rows.iter().any(|(from, to, why)| from == "running"
            && to == "starting"
            && why.contains("beside the running version")),
        "{rows:?}"
    );
    assert!(r.engine.report(r.now).services[i].notes.is_empty());
}

#[test]
fn start_first_that_fails_its_gate_kills_the_new_run_and_never_touches_the_old() {
    let mut r = all_up(START_FIRST);
    let i = r.idx("api");
    let old = r.run_of("api");
    let a = r
        .at(10_000)
        .deploy(&START_FIRST.replace("api v1", "api v2"), false);
    r.at(10_100).confirm(&a);
    let _ = r.at(10_400).feed(Input::Tick);
    let new = r.run_of("api");
    let a = r.at(10_900).feed(Input::Exited {
        service: ServiceId(i),
        run: new,
        end: ProcessEnd::Exited(3),
    });
    // No revert spawn and no stop: the old run was never stopped.
    assert!(Rig::spawned_commands(&a).is_empty(), "{a:?}");
    assert!(
        r.log
            .iter()
            .all(|a| !matches!(a, Action::Stop { run, .. } if *run == old)),
        "the old run was stopped"
    );
    assert_eq!(r.run_of("api"), old);
    assert!(matches!(
        r.engine.phase(i),
        Phase::Up {
            health: ProbeHealth::Healthy,
            ..
        }
    ));
    let done = r.deploy_done().expect("deploy done");
    assert!(!done.success);
    assert_eq!(done.failed, ["api"]);
    assert!(
        r.deploy_events()
            .contains(&"api failed (exit code 3) kept Previous".to_string()),
        "{:?}",
        r.deploy_events()
    );
    // It is the service's run again: its crash goes through the restart
    // policy and runs v1, the version it is.
    let _ = kill9(&mut r, "api");
    let a = r.at(20_000).feed(Input::Tick);
    assert_eq!(Rig::spawned_commands(&a), ["api v1"]);
}

#[test]
fn a_new_daemon_stops_a_second_live_run_it_is_told_not_to_keep() {
    let mut r = Rig::new(START_FIRST);
    let i = ServiceId(r.idx("api"));
    let found = |run: u64, pid: u32| Found {
        run: RunId(run),
        pid,
        since: r.now,
        wanted: true,
        ended: None,
        definition: None,
        adopted: false,
    };
    let (keep, other) = (found(5, 500), found(6, 600));
    let _ = r.feed(Input::Attached {
        service: i,
        found: keep,
    });
    let a = r.feed(Input::AttachedBeside {
        service: i,
        found: other,
    });
    assert!(
        matches!(a.as_slice(), [Action::Transition { .. }, Action::Stop { run, pid: 600, .. }] if *run == RunId(6)),
        "{a:?}"
    );
    let rows = transitions(&r, "api");
    assert!(
        rows.last().is_some_and(|(_, to, why)| to == "running"
            && why.contains("new version (PID 600) was committed, which is stopped")),
        "{rows:?}"
    );
    assert!(!r.engine.idle());
    let _ = r.stopped(&a);
    assert_eq!(r.run_of("api"), RunId(5));
    assert!(r.engine.report(r.now).services[i.0].notes.is_empty());
}

/// The probes an action list asks for, as `kind target`.
fn probed(actions: &[Action]) -> Vec<String> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Probe { kind, spec, .. } => Some(format!("{kind:?} {:?}", spec.check.probe)),
            _ => None,
        })
        .collect()
}

#[test]
fn the_version_a_failed_deploy_goes_back_to_is_judged_by_its_own_checks() {
    for order in ["stop-first", "start-first"] {
        let before = format!(
            "services:\n  api:\n    command: api v1\n    health_check: {{ tcp: \"127.0.0.1:8080\" }}\n    update: {{ order: {order}, min_healthy: 1s }}\n"
        );
        let mut r = Rig::new(&before);
        let a = r.start(&["api"], StartOptions::default());
        r.confirm(&a);
        let _ = r.probe("api", true);
        let after = before.replace("api v1", "api v2").replace("8080", "9090");
        let a = r.at(10_000).deploy(&after, false);
        let a = match order {
            "stop-first" => r.at(10_100).stopped(&a),
            _ => a, // spawned beside the running one at once
        };
        let a = r.at(10_200).confirm(&a);
        // The new version is checked on its new port ...
        assert_eq!(probed(&a), ["Ready Tcp(\"127.0.0.1:9090\")"], "{order}");
        let i = r.idx("api");
        let run = r.run_of("api");
        let a = r.at(10_300).feed(Input::Exited {
            service: ServiceId(i),
            run,
            end: ProcessEnd::Exited(3),
        });
        // ... and the version that comes back on its own one.
        let a = match order {
            "stop-first" => {
                assert_eq!(Rig::spawned_commands(&a), ["api v1"]);
                r.at(10_400).confirm(&a)
            }
            _ => a,
        };
        assert_eq!(
            probed(&a),
            ["Ready Tcp(\"127.0.0.1:8080\")"],
            "{order}: {a:?}"
        );
    }
}

#[test]
fn a_reload_before_the_deploy_does_not_change_what_the_version_going_back_is_judged_by() {
    let before = "services:\n  api:\n    command: api v1\n    health_check: { tcp: \"127.0.0.1:8080\" }\n    update: { min_healthy: 1s }\n";
    let after = before.replace("api v1", "api v2").replace("8080", "9090");
    let mut r = Rig::new(before);
    let a = r.start(&["api"], StartOptions::default());
    r.confirm(&a);
    let _ = r.probe("api", true);
    // `harness start` with the edited file: the file is taken, what runs
    // is left as it is.
    r.engine.reload(file(&after)).unwrap();
    let a = r.at(10_000).deploy(&after, false);
    let a = r.at(10_100).stopped(&a);
    r.at(10_200).confirm(&a);
    let i = r.idx("api");
    let run = r.run_of("api");
    let a = r.at(10_300).feed(Input::Exited {
        service: ServiceId(i),
        run,
        end: ProcessEnd::Exited(3),
    });
    let a = r.at(10_400).confirm(&a);
    assert_eq!(probed(&a), ["Ready Tcp(\"127.0.0.1:8080\")"], "{a:?}");
}
