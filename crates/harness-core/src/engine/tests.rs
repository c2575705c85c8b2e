//! The engine, driven input by input with time as a value.

use super::*;
use crate::config::parse;
use crate::report::{Health, Stage as P, Status, SystemState, WarningReason};
use crate::restart::Tracker;
use std::time::{Duration, Instant};

const STACK: &str = r#"
services:
  postgres:
    command: postgres
    health_check: { tcp: "127.0.0.1:5432" }
  api:
    command: ./api
    depends_on: [postgres]
    health_check: { http: "http://127.0.0.1:8080/health" }
    startup_timeout: 30
  worker:
    command: ./worker
    depends_on: [api]
  cache:
    command: redis-server
"#;

struct Rig {
    engine: Engine,
    t0: Instant,
    now: Instant,
    log: Vec<Action>,
    /// The state each service's last history row recorded.
    recorded: std::collections::HashMap<usize, HistoryState>,
}

impl Rig {
    fn new(yaml: &str) -> Self {
        let config = parse(yaml, "services.yaml").expect("valid config");
        let t0 = Instant::now();
        Rig {
            engine: Engine::new(config, 1),
            t0,
            now: t0,
            log: Vec::new(),
            recorded: Default::default(),
        }
    }
    fn idx(&self, name: &str) -> usize {
        self.engine.graph().index(name).unwrap()
    }
    fn at(&mut self, ms: u64) -> &mut Self {
        self.now = self.t0 + Duration::from_millis(ms);
        self
    }
    /// Steps the engine. Every test checks the history's chain on the
    /// way: each row starts where the service's previous row ended.
    fn feed(&mut self, input: Input) -> Vec<Action> {
        let out = self.engine.step(input, self.now);
        for a in &out {
            if let Action::Transition {
                service, from, to, ..
            } = a
            {
                let last = self.recorded.insert(*service, *to);
                assert_eq!(
                    *from,
                    last.unwrap_or(HistoryState::Stopped),
                    "broken history chain for service {service}: {a:?}"
                );
            }
        }
        self.log.extend(out.clone());
        out
    }
    fn start(&mut self, names: &[&str], options: StartOptions) -> Vec<Action> {
        let targets = names.iter().map(|n| self.idx(n)).collect();
        self.feed(Input::Start {
            op: 1,
            targets,
            options,
        })
    }
    /// Spawns confirmed for every Spawn in `actions`, returning the new actions.
    fn confirm(&mut self, actions: &[Action]) -> Vec<Action> {
        let mut out = Vec::new();
        for a in actions {
            if let Action::Spawn { service, run } = a {
                out.extend(self.feed(Input::Spawned {
                    service: *service,
                    run: *run,
                    pid: 1000 + *service as u32,
                }));
            }
        }
        out
    }
    fn run_of(&self, name: &str) -> RunId {
        match self.engine.phase(self.idx(name)) {
            Phase::Up { run, .. } | Phase::Spawning { run, .. } | Phase::Stopping { run, .. } => {
                run
            }
            Phase::Stopped | Phase::Backoff { .. } => panic!("{name} has no run"),
        }
    }
    fn probe(&mut self, name: &str, ok: bool) -> Vec<Action> {
        let (service, run) = (self.idx(name), self.run_of(name));
        self.feed(Input::Probed {
            service,
            run,
            kind: ProbeKind::Ready,
            ok,
        })
    }
    fn spawned_names(&self, actions: &[Action]) -> Vec<String> {
        actions
            .iter()
            .filter_map(|a| match a {
                Action::Spawn { service, .. } => {
                    Some(self.engine.graph().name(*service).to_string())
                }
                _ => None,
            })
            .collect()
    }
    fn done(&self) -> Option<crate::report::Summary> {
        self.log.iter().find_map(|a| match a {
            Action::Done { summary, .. } => Some(summary.clone()),
            _ => None,
        })
    }
    fn final_phase(&self, name: &str) -> Option<P> {
        self.log.iter().rev().find_map(|a| match a {
            Action::Progress { progress, .. }
                if progress.service == name && progress.stage.is_final() =>
            {
                Some(progress.stage)
            }
            _ => None,
        })
    }
}

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
        service: api,
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
        service: api,
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
        op: 2,
        targets: vec![0],
        options: StartOptions::default(),
    });
    assert!(r.spawned_names(&a).is_empty(), "never started twice");
    assert_eq!(r.final_phase("postgres"), Some(P::Existing));
}

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
        op: 9,
        targets: vec![r.idx("postgres")],
        options: StopOptions::default(),
    });
    let stopped: Vec<usize> = stops
        .iter()
        .filter_map(|a| match a {
            Action::Stop { service, .. } => Some(*service),
            _ => None,
        })
        .collect();
    assert_eq!(stopped, [r.idx("worker")], "only the leaf first");
    let (w, run) = (r.idx("worker"), r.run_of("worker"));
    let next = r.feed(Input::Exited {
        service: w,
        run,
        end: ProcessEnd::Signaled(15),
    });
    assert!(
        next.iter()
            .any(|a| matches!(a, Action::Stop { service, .. } if *service == r.idx("api")))
    );
    let (api, run) = (r.idx("api"), r.run_of("api"));
    r.feed(Input::Exited {
        service: api,
        run,
        end: ProcessEnd::Signaled(15),
    });
    let (pg, run) = (r.idx("postgres"), r.run_of("postgres"));
    r.feed(Input::Exited {
        service: pg,
        run,
        end: ProcessEnd::Exited(0),
    });
    let s = r
        .log
        .iter()
        .rev()
        .find_map(|a| match a {
            Action::Done { op: 9, summary } => Some(summary.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(s.stopped, ["postgres", "api", "worker"]);
    assert_eq!(r.engine.report(r.now).system_state, SystemState::Stopped);
}

#[test]
fn stale_facts_of_an_old_run_are_ignored() {
    let mut r = Rig::new(STACK);
    let a = r.start(&["cache"], StartOptions::default());
    r.confirm(&a);
    let c = r.idx("cache");
    let out = r.feed(Input::Exited {
        service: c,
        run: 999,
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
        service: c,
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
        service: 0,
        run,
        end: ProcessEnd::Exited(0),
    });
    assert_eq!(r.spawned_names(&a), ["api"]);
}

#[test]
fn healthy_service_turns_unhealthy_after_retries() {
    let mut r = Rig::new(STACK);
    let a = r.start(&["postgres"], StartOptions::default());
    r.confirm(&a);
    r.probe("postgres", true);
    r.probe("postgres", false);
    r.probe("postgres", false);
    assert!(matches!(
        r.engine.phase(0),
        Phase::Up {
            health: ProbeHealth::Healthy,
            ..
        }
    ));
    r.probe("postgres", false);
    assert!(matches!(
        r.engine.phase(0),
        Phase::Up {
            health: ProbeHealth::Unhealthy,
            ..
        }
    ));
    r.probe("postgres", true);
    assert!(matches!(
        r.engine.phase(0),
        Phase::Up {
            health: ProbeHealth::Healthy,
            ..
        }
    ));
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
        op: 5,
        targets: vec![0],
        options: StopOptions::default(),
    });
    r.feed(Input::Cancel { op: 5 });
    let (api, run) = (r.idx("api"), r.run_of("api"));
    let next = r.feed(Input::Exited {
        service: api,
        run,
        end: ProcessEnd::Signaled(15),
    });
    assert!(
        next.iter()
            .any(|a| matches!(a, Action::Stop { service: 0, .. })),
        "postgres is still stopped after the client left"
    );

    let mut r = Rig::new(STACK);
    r.start(&["api"], StartOptions::default());
    r.feed(Input::Cancel { op: 1 });
    let a = r.feed(Input::Tick);
    assert!(r.spawned_names(&a).is_empty());
    assert_eq!(r.engine.next_deadline(), None);
}

#[test]
fn exit_right_after_spawn_is_a_failed_start_even_without_a_check() {
    let mut r = Rig::new(STACK);
    let a = r.start(&["cache"], StartOptions::default());
    r.confirm(&a);
    let (c, run) = (r.idx("cache"), r.run_of("cache"));
    r.at(20).feed(Input::Exited {
        service: c,
        run,
        end: ProcessEnd::Exited(1),
    });
    assert_eq!(r.final_phase("cache"), Some(P::Failed));
    assert!(!r.done().unwrap().success);
    assert_eq!(r.engine.report(r.now).services[c].health, Health::Failed);
}

/// The stack after seed 000's mid-chain failure: postgres and cache up,
/// api failed (exit 1), worker blocked.
fn after_api_failed() -> Rig {
    let mut r = Rig::new(STACK);
    let a = r.start(&["worker", "cache"], StartOptions::default());
    r.confirm(&a);
    let a = r.probe("postgres", true);
    r.confirm(&a);
    r.at(300).feed(Input::Tick);
    let (api, run) = (r.idx("api"), r.run_of("api"));
    r.feed(Input::Exited {
        service: api,
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
        op: 2,
        targets: vec![worker],
        options: alone,
    });
    assert!(r.spawned_names(&a).is_empty(), "api is not retried");
    assert_eq!(r.final_phase("worker"), Some(P::Blocked));

    r.log.clear();
    let a = r.at(2000).feed(Input::Start {
        op: 3,
        targets: vec![worker],
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
        op: 2,
        targets: vec![r.idx("api")],
        options: StopOptions {
            exact: true,
            cause: Some("rollback: cache failed".into()),
        },
    });
    let stopped: Vec<usize> = stops
        .iter()
        .filter_map(|a| match a {
            Action::Stop { service, .. } => Some(*service),
            _ => None,
        })
        .collect();
    assert_eq!(stopped, [r.idx("api")], "worker is not pulled in");
    assert!(stops.iter().any(|a| matches!(a,
        Action::Transition { to: HistoryState::Stopping, reason, .. }
            if reason == "stop requested (rollback: cache failed)")));
    assert!(matches!(r.engine.phase(r.idx("worker")), Phase::Up { .. }));
}

const RESTARTING: &str = r#"
services:
  db:
    command: db
  api:
    command: api
    depends_on: [db]
    restart: { backoff: { initial: 1s }, max_restarts: 2, window: 10m, min_uptime: 10s }
  job:
    command: job
    restart: never
  web:
    command: web
    depends_on: [api]
"#;

/// Starts everything and lets it settle (no checks: 250 ms).
fn all_up(yaml: &str) -> Rig {
    let mut r = Rig::new(yaml);
    let n = r.engine.graph().len();
    let a = r.feed(Input::Start {
        op: 7,
        targets: (0..n).collect(),
        options: StartOptions::default(),
    });
    r.confirm(&a);
    for step in 1..=n as u64 {
        let a = r.at(step * 300).feed(Input::Tick);
        r.confirm(&a);
    }
    assert!(r.done().is_some_and(|s| s.success), "{:?}", r.done());
    r.log.clear();
    r
}

fn kill9(r: &mut Rig, name: &str) -> Vec<Action> {
    let (service, run) = (r.idx(name), r.run_of(name));
    r.feed(Input::Exited {
        service,
        run,
        end: ProcessEnd::Signaled(9),
    })
}

fn transitions(r: &Rig, name: &str) -> Vec<(String, String, String)> {
    let i = r.idx(name);
    r.log
        .iter()
        .filter_map(|a| match a {
            Action::Transition {
                service,
                from,
                to,
                reason,
                ..
            } if *service == i => Some((from.to_string(), to.to_string(), reason.clone())),
            _ => None,
        })
        .collect()
}

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
        op: 8,
        targets: vec![api],
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
        op: 9,
        targets: vec![api],
        options: StopOptions {
            exact: true, // web, its dependent, is not what this test is about
            cause: None,
        },
    });
    assert!(
        a.iter().any(|a| matches!(a, Action::Done { op: 9, .. })),
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
        service: job,
        run,
        end: ProcessEnd::Exited(2),
    });
    let (db, run) = (r.idx("db"), r.run_of("db"));
    r.feed(Input::Exited {
        service: db,
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
        op: 9,
        targets: vec![db],
        options: StopOptions::default(),
    });
    assert_eq!(r.engine.phase(db), Phase::Stopped, "no restart pending");
    assert!(
        a.iter()
            .any(|a| matches!(a, Action::Stop { service, .. } if *service == r.idx("web")))
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
    let Some(Action::Spawn { service, run }) = a
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
        matches!(r.engine.phase(service), Phase::Backoff { attempt: 2, .. }),
        "{:?}",
        r.engine.phase(service)
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

const PROBED: &str = r#"
services:
  api:
    command: api
    liveness: { tcp: "127.0.0.1:1", interval: 1s, retries: 3 }
  slow:
    command: slow
    startup: { tcp: "127.0.0.1:2", interval: 100ms, retries: 3 }
    health_check: { tcp: "127.0.0.1:2" }
    liveness: { tcp: "127.0.0.1:2", interval: 1s }
  quiet:
    command: quiet
    startup: { tcp: "127.0.0.1:3", interval: 100ms, retries: 50 }
"#;

/// The kinds of probe scheduled for `service`.
fn probes_of(actions: &[Action], service: usize) -> Vec<ProbeKind> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Probe {
                service: s, kind, ..
            } if *s == service => Some(*kind),
            _ => None,
        })
        .collect()
}

fn live(r: &mut Rig, name: &str, kind: ProbeKind, ok: bool) -> Vec<Action> {
    let (service, run) = (r.idx(name), r.run_of(name));
    r.feed(Input::Probed {
        service,
        run,
        kind,
        ok,
    })
}

#[test]
fn liveness_failing_in_a_row_restarts_through_the_policy() {
    let mut r = Rig::new(PROBED);
    let a = r.start(&["api"], StartOptions::default());
    let a = r.confirm(&a);
    assert_eq!(probes_of(&a, 0), [ProbeKind::Live]);
    r.at(300).feed(Input::Tick);
    assert!(r.done().is_some_and(|s| s.success));
    live(r.at(1300), "api", ProbeKind::Live, false);
    live(r.at(2300), "api", ProbeKind::Live, true); // one success resets
    live(r.at(3300), "api", ProbeKind::Live, false);
    live(r.at(4300), "api", ProbeKind::Live, false);
    assert!(!r.log.iter().any(|a| matches!(a, Action::Stop { .. })));
    let a = live(r.at(5300), "api", ProbeKind::Live, false);
    assert!(
        a.iter()
            .any(|a| matches!(a, Action::Stop { service: 0, .. })),
        "{a:?}"
    );
    let run = r.run_of("api");
    r.at(5400).feed(Input::Exited {
        service: 0,
        run,
        end: ProcessEnd::Exited(0), // even a clean exit: harness stopped it
    });
    assert!(matches!(
        r.engine.phase(0),
        Phase::Backoff { attempt: 1, .. }
    ));
    assert_eq!(
        transitions(&r, "api")[2..],
        [
            (
                "running".into(),
                "stopping".into(),
                "liveness probe failed 3 times".into()
            ),
            (
                "stopping".into(),
                "restarting".into(),
                "liveness probe failed 3 times; restart 1/10 in 1s".into()
            ),
        ]
    );
}

#[test]
fn the_startup_probe_holds_the_others_back_and_restarts_when_it_never_passes() {
    let mut r = Rig::new(PROBED);
    let slow = r.idx("slow");
    let a = r.start(&["slow"], StartOptions::default());
    let a = r.confirm(&a);
    assert_eq!(probes_of(&a, slow), [ProbeKind::Startup]);
    let a = live(r.at(50), "slow", ProbeKind::Startup, false);
    assert_eq!(probes_of(&a, slow), [ProbeKind::Startup], "only startup");
    let a = live(r.at(150), "slow", ProbeKind::Startup, true);
    assert_eq!(probes_of(&a, slow), [ProbeKind::Ready, ProbeKind::Live]);

    // A run whose startup probe never passes within 100 ms × 3.
    let mut r = Rig::new(PROBED);
    let a = r.start(&["slow"], StartOptions::default());
    r.confirm(&a);
    live(r.at(100), "slow", ProbeKind::Startup, false);
    let a = live(r.at(300), "slow", ProbeKind::Startup, false);
    assert!(a.iter().any(|a| matches!(a, Action::Stop { .. })), "{a:?}");
    let last = transitions(&r, "slow").pop().unwrap();
    assert_eq!(last.2, "startup probe did not pass within 300ms");
}

#[test]
fn without_a_health_check_the_startup_probe_decides_when_it_is_up() {
    let mut r = Rig::new(PROBED);
    let quiet = r.idx("quiet");
    let a = r.start(&["quiet"], StartOptions::default());
    r.confirm(&a);
    r.at(1000).feed(Input::Tick);
    assert_eq!(
        r.engine.report(r.now).services[quiet].health,
        Health::Starting,
        "not the 250 ms rule"
    );
    live(r.at(1100), "quiet", ProbeKind::Startup, true);
    r.at(1100).feed(Input::Tick);
    assert_eq!(
        r.engine.report(r.now).services[quiet].health,
        Health::Healthy
    );
    assert!(r.done().is_some_and(|s| s.success));
}

const PUSHED: &str = r#"
services:
  db:
    command: db
    ready: notify
    watchdog: 2s
    liveness: { tcp: "127.0.0.1:1", interval: 10s }
  api:
    command: api
    depends_on: [db]
"#;

fn notify(r: &mut Rig, name: &str, message: Notified) -> Vec<Action> {
    let (service, run) = (r.idx(name), r.run_of(name));
    r.feed(Input::Notified {
        service,
        run,
        message,
    })
}

#[test]
fn ready_1_gates_the_dependent_and_nothing_else_does() {
    let mut r = Rig::new(PUSHED);
    let a = r.start(&["api"], StartOptions::default());
    let a = r.confirm(&a);
    assert_eq!(
        probes_of(&a, 0),
        [ProbeKind::Live],
        "no readiness probe, no 250 ms rule"
    );
    let a = r.at(5_000).feed(Input::Tick);
    assert!(r.spawned_names(&a).is_empty(), "api waits for READY=1");
    notify(&mut r, "db", Notified::Status("loading 3 of 10".into()));
    assert_eq!(r.engine.report(r.now).services[0].health, Health::Starting);
    let a = notify(r.at(5_001), "db", Notified::Ready("READY=1".into()));
    assert_eq!(
        r.spawned_names(&a),
        ["api"],
        "the dependent spawns in the same step"
    );
    assert_eq!(
        probes_of(&a, 0),
        Vec::<ProbeKind>::new(),
        "liveness is not scheduled twice"
    );
    let row = &r.engine.report(r.now).services[0];
    assert_eq!(
        (row.health, row.notes.as_str()),
        (Health::Healthy, "loading 3 of 10")
    );
    assert!(
        transitions(&r, "db")
            .iter()
            .any(|t| t.2 == "ready (READY=1)")
    );
}

#[test]
fn a_missed_watchdog_restarts_the_run() {
    let mut r = Rig::new(PUSHED);
    let a = r.start(&["db"], StartOptions::default());
    r.confirm(&a);
    notify(r.at(100), "db", Notified::Ready("READY=1".into()));
    assert_eq!(
        r.engine.next_deadline(),
        Some(r.t0 + Duration::from_millis(2_100))
    );
    notify(r.at(2_000), "db", Notified::Watchdog);
    let a = r.at(2_100).feed(Input::Tick);
    assert!(
        !a.iter().any(|a| matches!(a, Action::Stop { .. })),
        "pinged in time"
    );
    let a = r.at(4_000).feed(Input::Tick);
    assert!(
        a.iter()
            .any(|a| matches!(a, Action::Stop { service: 0, .. })),
        "{a:?}"
    );
    assert_eq!(
        transitions(&r, "db").last().unwrap().2,
        "watchdog: no WATCHDOG=1 for 2.0s"
    );
}

/// The health events of service `name` so far, as log lines.
fn health_lines(r: &Rig, name: &str) -> Vec<String> {
    let i = r.idx(name);
    r.log
        .iter()
        .filter_map(|a| match a {
            Action::Health { service, event } if *service == i => Some(event.line()),
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
fn failing_probes_are_unhealthy_events() {
    let mut r = Rig::new(PROBED);
    let a = r.start(&["api"], StartOptions::default());
    r.confirm(&a);
    r.at(300).feed(Input::Tick);
    for t in [1300, 2300, 3300] {
        live(r.at(t), "api", ProbeKind::Live, false);
    }
    assert_eq!(
        health_lines(&r, "api"),
        ["Service marked unhealthy (liveness probe failed 3 times)"]
    );
}

/// A service stopped while it is still starting was never running, and the
/// signal that ended it was harness's own: the history says both.
#[test]
fn a_stop_while_starting_reads_as_a_requested_stop_from_starting() {
    let mut r = Rig::new(STACK);
    let a = r.start(
        &["postgres"],
        StartOptions {
            no_wait: true,
            ..Default::default()
        },
    );
    r.confirm(&a);
    r.probe("postgres", false);
    let (service, run) = (r.idx("postgres"), r.run_of("postgres"));
    let stop = r.feed(Input::Stop {
        op: 2,
        targets: vec![service],
        options: StopOptions::default(),
    });
    assert!(stop.iter().any(|a| matches!(a, Action::Stop { .. })));
    r.feed(Input::Exited {
        service,
        run,
        end: ProcessEnd::Signaled(15),
    });
    let rows = transitions(&r, "postgres");
    assert_eq!(
        rows,
        [
            (
                "stopped".into(),
                "starting".into(),
                "start requested".into()
            ),
            (
                "starting".into(),
                "stopping".into(),
                "stop requested".into()
            ),
            (
                "stopping".into(),
                "stopped".into(),
                "stop requested; ended by SIGTERM".into()
            ),
        ]
    );
}

/// What ended a run harness was stopping, in the words of the request.
#[test]
fn the_end_of_a_requested_stop_names_the_signal_that_ended_it() {
    use crate::config::StopSignal;
    let why = |end| super::step::stopped_on_request(end, StopSignal::Int);
    assert_eq!(
        why(ProcessEnd::Signaled(2)),
        "stop requested; ended by SIGINT"
    );
    assert_eq!(
        why(ProcessEnd::Signaled(9)),
        "stop requested; ended by SIGKILL after SIGINT"
    );
    assert_eq!(
        why(ProcessEnd::Exited(0)),
        "stop requested; ended by exit code 0"
    );
    assert_eq!(
        why(ProcessEnd::Signaled(6)),
        "stop requested; ended by signal 6"
    );
}
