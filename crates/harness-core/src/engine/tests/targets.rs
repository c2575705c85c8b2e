//! What a request picks (`--failed`, `--blocked`, names), what `harness
//! health` checks, which config a start may take, and what a spawn runs.

use super::*;

fn names(r: &Rig, picked: &[usize]) -> Vec<String> {
    picked
        .iter()
        .map(|&i| r.engine.graph().name(i).to_string())
        .collect()
}

#[test]
fn failed_and_blocked_pick_what_the_last_start_left_that_way() {
    let r = super::plan::after_api_failed();
    let pick = |sel: Selection| names(&r, &r.engine.select(&sel, r.now).unwrap());
    let failed = Selection {
        failed: true,
        ..Selection::default()
    };
    assert_eq!(pick(failed), ["api"]);
    let blocked = Selection {
        blocked: true,
        ..Selection::default()
    };
    assert_eq!(pick(blocked), ["worker"]);
    // Named with --blocked: those of them that are blocked.
    let named = Selection {
        blocked: true,
        names: vec!["worker".into(), "cache".into()],
        ..Selection::default()
    };
    assert_eq!(pick(named), ["worker"]);
    assert_eq!(pick(Selection::default()).len(), 4, "no names: all");
}

#[test]
fn a_selection_that_cannot_be_made_says_why() {
    let r = Rig::new(STACK);
    let both = Selection {
        failed: true,
        blocked: true,
        ..Selection::default()
    };
    assert_eq!(
        r.engine.select(&both, r.now),
        Err(SelectionError::FailedAndBlocked)
    );
    let typo = Selection {
        names: vec!["wokrer".into()],
        ..Selection::default()
    };
    let err = r.engine.select(&typo, r.now).unwrap_err();
    assert_eq!(
        err.to_string(),
        "unknown service `wokrer`; services are: postgres, api, worker, cache"
    );
}

#[test]
fn health_now_probes_only_running_services_with_a_check() {
    let r = super::plan::after_api_failed();
    let check = |name: &str| r.engine.check_now(r.idx(name));
    assert!(matches!(check("postgres"), CheckNow::Probe(spec) if spec.unit.key() == "postgres"));
    assert_eq!(
        check("cache"),
        CheckNow::Settled {
            healthy: true,
            detail: "running (no health check)"
        }
    );
    assert_eq!(
        check("api"),
        CheckNow::Settled {
            healthy: false,
            detail: "not running"
        }
    );
}

#[test]
fn a_changed_config_is_refused_while_an_operation_runs_and_taken_after() {
    let mut r = Rig::new(STACK);
    r.start(&["cache"], StartOptions::default());
    assert!(r.engine.busy());
    let changed = parse(
        &STACK.replace("redis-server", "redis-server --port 7000"),
        "services.yaml",
    )
    .unwrap();
    assert_eq!(
        r.engine.reload(changed.clone()),
        Err(ReloadError::Busy),
        "the start in progress keeps the config it began with"
    );
    let a = r.feed(Input::Cancel { op: OpId(1) });
    assert!(!r.engine.busy(), "{a:?}");
    assert_eq!(r.engine.reload(changed.clone()), Ok(()));
    assert_eq!(r.engine.config(), &changed);
}

#[test]
fn a_spawn_carries_what_to_run_as_the_engine_decided_it() {
    let mut r = Rig::new(
        "services:\n  api:\n    command: [\"./api\", \"--port\", \"8080\"]\n    working_dir: ./srv\n    env: { MODE: test }\n    stop_signal: SIGINT\n    health_check: { tcp: \"127.0.0.1:8080\", timeout: 2 }\n",
    );
    let a = r.start(&["api"], StartOptions::default());
    let spec = a
        .iter()
        .find_map(|a| match a {
            Action::Spawn { spec, .. } => Some(spec.clone()),
            _ => None,
        })
        .expect("a spawn");
    assert_eq!(spec.unit.key(), "api");
    assert_eq!(
        spec.command,
        crate::config::Command::Argv(vec!["./api".into(), "--port".into(), "8080".into()])
    );
    assert_eq!(spec.working_dir, Some("./srv".into()));
    assert_eq!(spec.env, [("MODE".to_string(), "test".to_string())]);
    assert_eq!(spec.stop_signal, crate::config::StopSignal::Int);
    let a = r.confirm(&a);
    let probe = a
        .iter()
        .find_map(|a| match a {
            Action::Probe { spec, .. } => Some(spec.clone()),
            _ => None,
        })
        .expect("a readiness probe");
    assert_eq!(probe.check.timeout, Duration::from_secs(2));
    assert_eq!(
        probe.env, spec.env,
        "a command probe runs as the service does"
    );
}

#[test]
fn facts_reach_their_run_after_a_reload_renumbers_the_services() {
    let mut r = Rig::new(STACK);
    let a = r.start(&["cache"], StartOptions::default());
    r.confirm(&a);
    r.at(300).feed(Input::Tick);
    let (old, run) = (ServiceId(r.idx("cache")), r.run_of("cache"));
    // A service added above cache moves it one place down.
    let grown = format!(
        "services:\n  first:\n    command: x\n{}",
        &STACK["\nservices:\n".len()..]
    );
    let config = parse(&grown, "services.yaml").expect("valid config");
    assert_eq!(r.engine.reload(config), Ok(()));
    assert_ne!(ServiceId(r.idx("cache")), old, "renumbered");
    // The rig's own record of history rows goes by place too.
    if let Some(last) = r.recorded.remove(&old.0) {
        let now = r.idx("cache");
        r.recorded.insert(now, last);
    }
    // A task started before the reload still reports with the old place.
    r.feed(Input::Exited {
        service: old,
        run,
        end: ProcessEnd::Exited(3),
    });
    assert!(
        !matches!(r.engine.phase(r.idx("cache")), Phase::Up { .. }),
        "cache's end reached cache"
    );
    assert!(
        matches!(r.engine.phase(r.idx("first")), Phase::Stopped),
        "and nobody else"
    );
}
