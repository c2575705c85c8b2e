//! A new daemon takes over the runs the last one recorded: supervising
//! them again, finishing a stop the last one began, recording an end
//! nobody saw.

use super::*;

fn attach(r: &mut Rig, name: &str, wanted: bool, ended: Option<ProcessEnd>) -> Vec<Action> {
    let service = ServiceId(r.idx(name));
    let found = Found {
        run: RunId(40),
        pid: 4000,
        since: r.now,
        wanted,
        ended,
        definition: None,
        adopted: false,
    };
    r.feed(Input::Attached { service, found })
}

#[test]
fn a_run_found_running_is_supervised_again() {
    let mut r = Rig::new(STACK);
    let out = attach(&mut r, "postgres", true, None);
    assert!(matches!(
        r.engine.phase(r.idx("postgres")),
        Phase::Up { pid: 4000, .. }
    ));
    assert!(
        out.iter().any(|a| matches!(a, Action::Probe { .. })),
        "its check runs again: {out:?}"
    );
    assert!(!out.iter().any(|a| matches!(a, Action::Stop { .. })));
    let pg = r.idx("postgres");
    let spec = r
        .engine
        .run_spec(pg, RunId(40))
        .expect("the run it took over");
    assert_eq!(spec.unit.key(), "postgres");
    assert_eq!(r.engine.run_spec(pg, RunId(39)), None, "not another run");
    assert_eq!(
        transitions(&r, "postgres"),
        [(
            "stopped".to_string(),
            "starting".to_string(),
            "found running by a new daemon".to_string()
        )],
        "the history did not know this run"
    );
}

#[test]
fn a_stop_the_last_daemon_began_is_finished() {
    let mut r = Rig::new(STACK);
    let out = attach(&mut r, "cache", false, None);
    assert!(
        out.iter()
            .any(|a| matches!(a, Action::Stop { pid: 4000, .. })),
        "{out:?}"
    );
    assert!(!out.iter().any(|a| matches!(a, Action::Probe { .. })));
    let rows = transitions(&r, "cache");
    assert_eq!(
        rows.last().map(|t| t.2.as_str()),
        Some("stop requested (finishing a stop the previous daemon began)")
    );
    let (service, run) = (ServiceId(r.idx("cache")), r.run_of("cache"));
    r.feed(Input::Exited {
        service,
        run,
        end: ProcessEnd::Signaled(15),
    });
    assert_eq!(r.engine.phase(r.idx("cache")), Phase::Stopped);
    assert_eq!(
        transitions(&r, "cache").last().map(|t| t.2.clone()),
        Some("stop requested; ended by SIGTERM".to_string())
    );
}

#[test]
fn a_stop_already_in_the_history_is_not_written_twice() {
    let mut r = Rig::new(STACK);
    let cache = r.idx("cache");
    // The last daemon wrote `running → stopping` and died.
    r.engine.restore_recorded(cache, HistoryState::Stopping);
    r.recorded.insert(cache, HistoryState::Stopping);
    let out = attach(&mut r, "cache", false, None);
    assert!(out.iter().any(|a| matches!(a, Action::Stop { .. })));
    assert!(
        transitions(&r, "cache").is_empty(),
        "{:?}",
        transitions(&r, "cache")
    );
    let (service, run) = (ServiceId(cache), r.run_of("cache"));
    r.feed(Input::Exited {
        service,
        run,
        end: ProcessEnd::Signaled(15),
    });
    assert_eq!(
        transitions(&r, "cache"),
        [(
            "stopping".to_string(),
            "stopped".to_string(),
            "stop requested; ended by SIGTERM".to_string()
        )]
    );
}

#[test]
fn a_run_that_ended_while_no_daemon_ran_is_not_signalled() {
    for wanted in [true, false] {
        let mut r = Rig::new(STACK);
        let out = attach(&mut r, "cache", wanted, Some(ProcessEnd::Lost));
        assert!(
            !out.iter()
                .any(|a| matches!(a, Action::Stop { .. } | Action::Probe { .. })),
            "nothing is sent to a pid that may belong to someone else now: {out:?}"
        );
        assert!(
            !matches!(r.engine.phase(r.idx("cache")), Phase::Up { .. }),
            "wanted {wanted}"
        );
        assert!(
            transitions(&r, "cache")
                .iter()
                .any(|t| t.2.contains("ended unseen (exit status lost)")),
            "{:?}",
            transitions(&r, "cache")
        );
    }
}

#[test]
fn a_run_spawned_with_an_older_definition_says_what_changed() {
    let mut r = Rig::new(STACK);
    let cache = r.idx("cache");
    let mut old = r.engine.config().services[cache].clone();
    old.command = crate::config::Command::Shell("redis-server --port 7000".into());
    let found = Found {
        run: RunId(40),
        pid: 4000,
        since: r.now,
        wanted: true,
        ended: None,
        adopted: false,
        definition: Some(Definition::of(&RunSpec::of(&old))),
    };
    r.feed(Input::Attached {
        service: ServiceId(cache),
        found,
    });
    assert_eq!(r.engine.changes(cache), ["command changed"]);
    attach(&mut r, "postgres", true, None); // a run with no print
    assert!(
        r.engine.changes(r.idx("postgres")).is_empty(),
        "unknown is not changed"
    );
}

#[test]
fn a_running_service_the_file_no_longer_has_reads_removed() {
    let mut r = Rig::new(STACK);
    let a = r.start(&["cache"], StartOptions::default());
    r.confirm(&a);
    let without = parse(
        "services:\n  postgres:\n    command: postgres\n",
        "services.yaml",
    )
    .unwrap();
    let report = r.engine.report_against(r.now, &without);
    let cache = report.services.iter().find(|v| v.name == "cache").unwrap();
    assert!(cache.removed);
    assert_eq!(cache.changes, ["removed from the file"]);
    // Gone from the file and down: not shown at all.
    let names: Vec<&str> = report.services.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(names, ["postgres", "cache"]);
    let same = r.engine.config().clone();
    assert!(!r.engine.report_against(r.now, &same).services[r.idx("cache")].removed);
}
