//! Readiness, liveness and startup probes; pushed readiness and the watchdog.

use super::restart::health_lines;
use super::*;

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
            } if *s == ServiceId(service) => Some(*kind),
            _ => None,
        })
        .collect()
}

fn live(r: &mut Rig, name: &str, kind: ProbeKind, ok: bool) -> Vec<Action> {
    let (service, run) = (r.idx(name), r.run_of(name));
    r.feed(Input::Probed {
        service: ServiceId(service),
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
        a.iter().any(|a| matches!(
            a,
            Action::Stop {
                service: ServiceId(0),
                ..
            }
        )),
        "{a:?}"
    );
    let run = r.run_of("api");
    r.at(5400).feed(Input::Exited {
        service: ServiceId(0),
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
        service: ServiceId(service),
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
        a.iter().any(|a| matches!(
            a,
            Action::Stop {
                service: ServiceId(0),
                ..
            }
        )),
        "{a:?}"
    );
    assert_eq!(
        transitions(&r, "db").last().unwrap().2,
        "watchdog: no WATCHDOG=1 for 2.0s"
    );
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
