//! Starting: dependency order, failures, blocks, timeouts, --force, --no-wait.

use super::*;

#[test]
fn starts_in_dependency_order_and_independents_at_once() {
    let mut r = Rig::new(STACK);
    let first = r.start(&["worker", "cache"], StartOptions::default());
    assert_eq!(r.spawned_names(&first), ["postgres", "cache"]);
    let after = r.confirm(&first);
    assert!(
        after.iter().any(|a| matches!(a, Action::Probe { .. })),
        "postgres is probed at once"
    );
    assert_eq!(
        r.final_phase("cache"),
        None,
        "no check: not healthy before it stayed up"
    );
    assert_eq!(r.engine.next_deadline(), Some(r.t0 + SETTLE));
    r.at(250).feed(Input::Tick);
    assert_eq!(
        r.final_phase("cache"),
        Some(P::Healthy),
        "no check: healthy once it stayed up"
    );
    let next = r.at(260).probe("postgres", true);
    assert_eq!(
        r.spawned_names(&next),
        ["api"],
        "api spawns in the same step postgres turns healthy"
    );
    let next = r.confirm(&next);
    assert!(r.spawned_names(&next).is_empty());
    let next = r.at(290).probe("api", true);
    assert_eq!(r.spawned_names(&next), ["worker"]);
    r.confirm(&next);
    r.at(540).feed(Input::Tick);
    let summary = r.done().expect("done");
    assert!(summary.success);
    assert_eq!(summary.started, ["postgres", "api", "worker", "cache"]);
    assert_eq!(r.engine.report(r.now).system_state, SystemState::Running);
}

#[test]
fn failed_dependency_blocks_dependents_but_not_independents() {
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
    assert_eq!(r.final_phase("api"), Some(P::Failed));
    assert_eq!(r.final_phase("worker"), Some(P::Blocked));
    let s = r.done().unwrap();
    assert!(!s.success);
    assert_eq!(
        (s.started, s.failed, s.blocked),
        (
            vec!["postgres".into(), "cache".into()],
            vec!["api".to_string()],
            vec!["worker".to_string()]
        )
    );
    let rep = r.engine.report(r.now);
    let row = |n: &str| rep.services.iter().find(|s| s.name == n).unwrap().clone();
    assert_eq!(
        (row("api").status, row("api").health, row("api").exit_code),
        (Status::Stopped, Health::Failed, Some(1))
    );
    assert_eq!(row("api").notes, "exit code 1");
    assert_eq!(row("worker").health, Health::Blocked);
    assert_eq!(row("worker").notes, "dependency failed: api");
    assert_eq!(rep.system_state, SystemState::Partial);
    let blocked = r.log.iter().any(|a| matches!(a, Action::Transition { from: HistoryState::Stopped, to: HistoryState::Blocked, reason, .. } if reason == "dependency failed: api"));
    assert!(blocked, "history records the block");
}

#[test]
fn timeout_leaves_service_running_and_blocks_dependents() {
    let mut r = Rig::new(STACK);
    let a = r.start(&["worker"], StartOptions::default());
    r.confirm(&a);
    let a = r.at(10).probe("postgres", true);
    r.confirm(&a);
    r.at(20).probe("api", false);
    assert_eq!(
        r.engine.next_deadline(),
        Some(r.t0 + Duration::from_secs(30)),
        "api's 30 s runs from the request"
    );
    r.at(30_000).feed(Input::Tick);
    assert_eq!(r.final_phase("api"), Some(P::TimedOut));
    assert_eq!(r.final_phase("worker"), Some(P::Blocked));
    assert!(
        matches!(
            r.engine.phase(r.idx("api")),
            Phase::Up {
                health: ProbeHealth::Unhealthy,
                ..
            }
        ),
        "not killed"
    );
    assert!(!r.log.iter().any(|a| matches!(a, Action::Stop { .. })));
    let rep = r.engine.report(r.now);
    assert_eq!(rep.services[1].notes, "timeout after 30s");
    assert_eq!(rep.services[1].health, Health::Unhealthy);
}

#[test]
fn timeout_precedence_flag_over_service() {
    let mut r = Rig::new(STACK);
    let opts = StartOptions {
        timeout: Some(Duration::from_secs(2)),
        ..Default::default()
    };
    let a = r.start(&["api"], opts);
    r.confirm(&a);
    assert_eq!(
        r.engine.next_deadline(),
        Some(r.t0 + Duration::from_secs(2))
    );
    r.at(2000).feed(Input::Tick);
    assert_eq!(r.final_phase("postgres"), Some(P::TimedOut));
    assert_eq!(r.final_phase("api"), Some(P::Blocked));
}

#[test]
fn force_starts_dependents_of_a_failed_service_with_a_warning() {
    let mut r = Rig::new(STACK);
    let opts = StartOptions {
        force: true,
        ..Default::default()
    };
    let a = r.start(&["worker"], opts);
    r.confirm(&a);
    let a = r.probe("postgres", true);
    r.confirm(&a);
    let (api, run) = (r.idx("api"), r.run_of("api"));
    let a = r.feed(Input::Exited {
        service: ServiceId(api),
        run,
        end: ProcessEnd::Exited(2),
    });
    assert_eq!(r.spawned_names(&a), ["worker"]);
    r.confirm(&a);
    r.at(300).feed(Input::Tick);
    assert_eq!(r.final_phase("worker"), Some(P::Warning));
    let s = r.done().unwrap();
    assert_eq!(
        s.failed,
        ["api"],
        "a crash is still a failure under --force"
    );
    assert_eq!(
        s.warned,
        [("worker".into(), WarningReason::DependenciesNotHealthy)]
    );
}

#[test]
fn no_wait_spawns_the_chain_without_health() {
    let mut r = Rig::new(STACK);
    let a = r.start(
        &["worker"],
        StartOptions {
            no_wait: true,
            ..Default::default()
        },
    );
    let a = r.confirm(&a);
    assert_eq!(r.spawned_names(&a), ["api"]);
    let a = r.confirm(&a);
    assert_eq!(r.spawned_names(&a), ["worker"]);
    r.confirm(&a);
    assert!(r.done().unwrap().success);
}

#[test]
fn running_healthy_service_is_used_as_it_is() {
    let mut r = Rig::new(STACK);
    let a = r.start(&["postgres"], StartOptions::default());
    r.confirm(&a);
    r.probe("postgres", true);
    r.log.clear();
    let a = r.feed(Input::Start {
        op: OpId(2),
        targets: vec![ServiceId(0)],
        options: StartOptions::default(),
    });
    assert!(r.spawned_names(&a).is_empty(), "never started twice");
    assert_eq!(r.final_phase("postgres"), Some(P::Existing));
}

#[test]
fn stale_facts_of_an_old_run_are_ignored() {
    let mut r = Rig::new(STACK);
    let a = r.start(&["cache"], StartOptions::default());
    r.confirm(&a);
    let c = r.idx("cache");
    let out = r.feed(Input::Exited {
        service: ServiceId(c),
        run: RunId(999),
        end: ProcessEnd::Exited(1),
    });
    assert!(out.is_empty());
    assert!(matches!(r.engine.phase(c), Phase::Up { .. }));
}

#[test]
fn exit_after_start_is_reported_as_exited() {
    let mut r = Rig::new(&STACK.replace(
        "  cache:\n    command: redis-server\n",
        "  cache:\n    command: redis-server\n    restart: never\n",
    ));
    let a = r.start(&["cache"], StartOptions::default());
    r.confirm(&a);
    r.at(300).feed(Input::Tick);
    let (c, run) = (r.idx("cache"), r.run_of("cache"));
    r.feed(Input::Exited {
        service: ServiceId(c),
        run,
        end: ProcessEnd::Exited(3),
    });
    let row = &r.engine.report(r.now).services[c];
    assert_eq!(
        (row.status, row.health, row.exit_code),
        (Status::Exited, Health::Failed, Some(3))
    );
    assert_eq!(row.notes, "exited: exit code 3");
}

#[test]
fn completed_condition_waits_for_a_successful_exit() {
    let mut r = Rig::new(
        r#"
services:
  migrate: { command: ./migrate, health_check: { command: "false" } }
  api: { command: ./api, depends_on: { migrate: { condition: completed } } }
"#,
    );
    let a = r.start(&["api"], StartOptions::default());
    r.confirm(&a);
    let run = r.run_of("migrate");
    let a = r.feed(Input::Exited {
        service: ServiceId(0),
        run,
        end: ProcessEnd::Exited(0),
    });
    assert_eq!(r.spawned_names(&a), ["api"]);
}

#[test]
fn exit_right_after_spawn_is_a_failed_start_even_without_a_check() {
    let mut r = Rig::new(STACK);
    let a = r.start(&["cache"], StartOptions::default());
    r.confirm(&a);
    let (c, run) = (r.idx("cache"), r.run_of("cache"));
    r.at(20).feed(Input::Exited {
        service: ServiceId(c),
        run,
        end: ProcessEnd::Exited(1),
    });
    assert_eq!(r.final_phase("cache"), Some(P::Failed));
    assert!(!r.done().unwrap().success);
    assert_eq!(r.engine.report(r.now).services[c].health, Health::Failed);
}

const AFTER_BUILD: &str = r#"
services:
  db: { command: db }
  api:
    command: ./api
    depends_on: { db: { condition: started }, build: { condition: completed } }
    startup_timeout: 5
jobs:
  build:
    steps:
      - { name: compile, command: make }
"#;

#[test]
fn a_service_that_waits_for_a_job_starts_once_the_job_completed_however_long_it_took() {
    let mut r = Rig::new(AFTER_BUILD);
    let first = r.start(&["api"], StartOptions::default());
    assert!(
        first.contains(&Action::RunJob {
            job: "build".into()
        }),
        "the job is asked to run: {first:?}"
    );
    assert_eq!(r.spawned_names(&first), ["db"]);
    r.confirm(&first);
    // The job runs for a minute, far past api's startup timeout: api
    // waits without timing out.
    let waiting = r.at(60_000).feed(Input::Tick);
    assert!(r.spawned_names(&waiting).is_empty());
    assert_eq!(r.final_phase("api"), None);
    let next = r.at(61_000).feed(Input::JobSettled {
        job: "build".into(),
        completed: true,
        detail: "completed".into(),
    });
    assert_eq!(r.spawned_names(&next), ["api"]);
    // Its timeout counts from then: up at 62s, healthy once it stayed up.
    r.confirm(&next);
    r.at(61_500).feed(Input::Tick);
    assert_eq!(r.final_phase("api"), Some(P::Healthy));
}

#[test]
fn a_service_that_waits_for_a_job_that_failed_is_blocked_saying_so() {
    let mut r = Rig::new(AFTER_BUILD);
    let first = r.start(&["api"], StartOptions::default());
    r.confirm(&first);
    r.at(100).feed(Input::JobSettled {
        job: "build".into(),
        completed: false,
        detail: "failed at step compile".into(),
    });
    assert_eq!(r.final_phase("api"), Some(P::Blocked));
    r.at(400).feed(Input::Tick);
    let summary = r.done().expect("done");
    assert!(!summary.success);
    assert_eq!(summary.blocked, ["api"]);
    let told = format!("{:?}", r.log);
    assert!(told.contains("job build failed at step compile"), "{told}");
    // A second start asks for the job again.
    let again = r.at(200).start(&["api"], StartOptions::default());
    assert!(again.contains(&Action::RunJob {
        job: "build".into()
    }));
}
