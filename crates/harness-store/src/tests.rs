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

#[test]
fn a_jobs_runs_and_attempts_are_kept_each_in_its_own_row_and_survive_reopen() {
    use crate::{AttemptEndRow, AttemptRow, JobRunRow};
    use harness_core::job::resume::{Completed, StepPrint};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let print = StepPrint {
        parts: [
            ("command".to_string(), "c2".to_string()),
            ("input ks.cfg".to_string(), "k1".to_string()),
        ]
        .into(),
    };
    let started = |id, attempt| {
        Write::AttemptStarted(Box::new(AttemptRow {
            id,
            job: "image".into(),
            run: 1,
            step: "kickstart".into(),
            step_index: 1,
            attempt,
            status: "started".into(),
            started_ms: 1000 * id,
            ended_ms: None,
            class: None,
            exit_code: None,
            signal: None,
            error: None,
            print: print.clone(),
            outputs: Vec::new(),
        }))
    };
    {
        let mut s = Store::open(&path).unwrap();
        s.apply(&[
            Write::JobRunBegan(JobRunRow {
                job: "image".into(),
                run: 1,
                started_ms: 900,
                ended_ms: None,
                state: 1,
                status: "running".into(),
            }),
            started(100, 1),
            Write::AttemptEnded {
                id: 100,
                end: Box::new(AttemptEndRow {
                    status: "failed".into(),
                    ended_ms: 100_500,
                    class: Some("transient".into()),
                    exit_code: Some(75),
                    signal: None,
                    error: Some("curl: (28) Connection timed out".into()),
                    outputs: Vec::new(),
                }),
            },
            Write::JobRunStands {
                job: "image".into(),
                run: 1,
                state: 1,
                status: "waiting_retry".into(),
                ended_ms: None,
            },
            started(101, 2),
        ])
        .unwrap();
        // Not completed yet: nothing to skip it by.
        assert_eq!(s.last_completion("image", "kickstart").unwrap(), None);
        s.apply(&[Write::AttemptEnded {
            id: 101,
            end: Box::new(AttemptEndRow {
                status: "completed".into(),
                ended_ms: 101_900,
                class: None,
                exit_code: Some(0),
                signal: None,
                error: None,
                outputs: vec![("out/ks.img".into(), "h1".into())],
            }),
        }])
        .unwrap();
    }
    let s = Store::open(&path).unwrap();
    let attempts = s.attempts("image", 1).unwrap();
    let shown: Vec<(i64, i64, &str, Option<i64>)> = attempts
        .iter()
        .map(|a| (a.id, a.attempt, a.status.as_str(), a.exit_code))
        .collect();
    assert_eq!(
        shown,
        [(100, 1, "failed", Some(75)), (101, 2, "completed", Some(0))]
    );
    assert_eq!(
        attempts[0].error.as_deref(),
        Some("curl: (28) Connection timed out")
    );
    assert_eq!(attempts[0].class.as_deref(), Some("transient"));
    assert_eq!(
        s.last_completion("image", "kickstart").unwrap(),
        Some(Completed {
            print,
            outputs: vec![("out/ks.img".into(), "h1".into())],
        })
    );
    let last = s.last_job_run("image").unwrap().unwrap();
    assert_eq!(
        (last.run, last.state, last.status.as_str()),
        (1, 1, "waiting_retry")
    );
    assert_eq!(s.last_job_run("other").unwrap(), None);
}
