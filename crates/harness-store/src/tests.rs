//! Tests that go through more than one table.

use crate::{HistoryRow, RunRecord, Store, Write};
use harness_core::engine::{Definition, RunId, UnitId};

#[test]
fn runs_and_history_survive_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let run = RunRecord {
        unit: UnitId::Service("api".into()),
        run: RunId(7),
        shim_pid: 10,
        shim_start: 11,
        pid: 12,
        pid_start: 13,
        started_at_ms: 14,
        definition: Definition::from_text("command=0123456789ab\nenv PGPORT=ba9876543210\n"),
    };
    assert!(run.definition.is_some());
    let h = |to: &str| HistoryRow {
        ts_ms: 1,
        service: "api".into(),
        from: "stopped".into(),
        to: to.into(),
        reason: "start requested (retry chosen at prompt)".into(),
        cause: Some("retry chosen at prompt".into()),
    };
    {
        let mut s = Store::open(&path).unwrap();
        assert_eq!(s.reserve_runs(5).unwrap(), 1);
        s.apply(&[
            Write::Run(run.clone()),
            Write::History(h("starting")),
            Write::History(h("running")),
        ])
        .unwrap();
    }
    let mut s = Store::open(&path).unwrap();
    assert_eq!(s.reserve_runs(1).unwrap(), 6);
    assert_eq!(s.runs().unwrap(), [run]);
    let hist = s.history(Some("api"), 1).unwrap();
    assert_eq!(hist.len(), 1);
    assert_eq!(hist[0].to, "running");
    s.apply(&[Write::RunEnded {
        unit: UnitId::Service("api".into()),
        run: RunId(7),
    }])
    .unwrap();
    assert!(s.runs().unwrap().is_empty());
}

#[test]
fn the_served_file_is_recorded_and_outcomes_can_be_forgotten() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let mut s = Store::open(&path).unwrap();
    assert_eq!(s.served().unwrap(), None);
    let outcome = harness_core::engine::Outcome::default();
    s.apply(&[
        Write::Served("/p/services.yaml".into()),
        Write::Outcome {
            service: "db".into(),
            outcome,
        },
    ])
    .unwrap();
    assert_eq!(s.served().unwrap(), Some("/p/services.yaml".into()));
    assert_eq!(s.outcomes().unwrap().len(), 1);
    s.apply(&[Write::Served("/p/other.yaml".into()), Write::ForgetOutcomes])
        .unwrap();
    assert_eq!(s.served().unwrap(), Some("/p/other.yaml".into()));
    assert!(s.outcomes().unwrap().is_empty());
}

#[test]
fn whose_state_goes_by_file_name_so_a_moved_folder_is_still_the_same() {
    use crate::{Owner, Project};
    let dir = tempfile::tempdir().unwrap();
    let (main, other) = (
        dir.path().join("services.yaml"),
        dir.path().join("other.yaml"),
    );
    std::fs::write(&main, "services: {}\n").unwrap();
    std::fs::write(&other, "services: {}\n").unwrap();
    let (main, other) = (
        Project::from_file(&main).unwrap(),
        Project::from_file(&other).unwrap(),
    );
    let mut s = Store::open(&dir.path().join("state.db")).unwrap();
    // Before any daemon said whose: the folder's own file's, not another's.
    assert_eq!(s.owner(&main).unwrap(), Owner::This);
    assert_eq!(s.owner(&other).unwrap(), Owner::Unrecorded);
    s.apply(&[Write::Served("services.yaml".into())]).unwrap();
    assert_eq!(s.owner(&main).unwrap(), Owner::This);
    assert_eq!(
        s.owner(&other).unwrap(),
        Owner::Another(main.config.clone())
    );
    // The same names in a folder somewhere else: still the same owner.
    let moved = Project {
        config: "/elsewhere/services.yaml".into(),
        root: "/elsewhere".into(),
    };
    assert_eq!(s.owner(&moved).unwrap(), Owner::This);
}
