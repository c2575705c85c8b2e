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
        adopted: false,
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
    use crate::{AttemptEndRow, AttemptRow, JobRunRow, RunStands};
    use harness_core::job::resume::{Completed, StepPrint};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let print = StepPrint {
        parts: [
            ("command".to_string(), "c2".to_string()),
            // Names and paths may hold any character.
            ("input ks\tcfg\n".to_string(), "k1".to_string()),
        ]
        .into(),
    };
    let started = |process_run, attempt| {
        Write::AttemptStarted(Box::new(AttemptRow {
            id: 0,
            process_run: Some(process_run),
            job: "image".into(),
            run: 1,
            step: "kickstart".into(),
            step_index: 1,
            attempt,
            max_attempts: 3,
            status: "started".into(),
            started_ms: 1000 * process_run,
            ended_ms: None,
            class: None,
            exit_code: None,
            signal: None,
            error: None,
            print: print.clone(),
            outputs: Vec::new(),
            log: Some(format!("logs/image+kickstart@{process_run}.log")),
        }))
    };
    let ended =
        |process_run, status: &str, code, outputs: Vec<(String, String)>| Write::AttemptEnded {
            process_run,
            end: Box::new(AttemptEndRow {
                status: status.into(),
                ended_ms: 1000 * process_run + 500,
                class: (status == "failed").then(|| "transient".into()),
                max_attempts: None,
                exit_code: Some(code),
                signal: None,
                error: (status == "failed").then(|| "curl: (28) Connection timed out".into()),
                outputs,
            }),
        };
    let out = vec![("out/ks.img".to_string(), "h1".to_string())];
    {
        let mut s = Store::open(&path).unwrap();
        assert_eq!(s.next_job_run("image").unwrap(), 1);
        s.apply(&[
            Write::JobRunBegan(JobRunRow {
                job: "image".into(),
                run: 1,
                started_ms: 900,
                ended_ms: None,
                state: 1,
                state_step: "kickstart".into(),
                status: "running".into(),
                retry_at_ms: None,
                start: "resume".into(),
            }),
            started(100, 1),
            ended(100, "failed", 75, Vec::new()),
            Write::JobRunStands {
                job: "image".into(),
                run: 1,
                stands: RunStands {
                    state: 1,
                    state_step: "kickstart".into(),
                    status: "waiting_retry".into(),
                    retry_at_ms: Some(160_500),
                    ended_ms: None,
                },
            },
            started(101, 2),
        ])
        .unwrap();
        // Not completed yet: nothing to skip it by.
        assert_eq!(s.last_completion("image", "kickstart").unwrap(), None);
        s.apply(&[ended(101, "completed", 0, out.clone())]).unwrap();
        // The same run number cannot be begun twice.
        assert!(
            s.apply(&[Write::JobRunBegan(JobRunRow {
                job: "image".into(),
                run: 1,
                started_ms: 1,
                ended_ms: None,
                state: 0,
                state_step: "base".into(),
                status: "running".into(),
                retry_at_ms: None,
                start: "restart".into(),
            })])
            .is_err()
        );
    }
    let mut s = Store::open(&path).unwrap();
    assert_eq!(s.next_job_run("image").unwrap(), 2);
    let attempts = s.attempts("image", 1).unwrap();
    let shown: Vec<(Option<i64>, i64, &str, Option<i64>)> = attempts
        .iter()
        .map(|a| (a.process_run, a.attempt, a.status.as_str(), a.exit_code))
        .collect();
    assert_eq!(
        shown,
        [
            (Some(100), 1, "failed", Some(75)),
            (Some(101), 2, "completed", Some(0))
        ]
    );
    assert_eq!(
        attempts[0].error.as_deref(),
        Some("curl: (28) Connection timed out")
    );
    assert_eq!(attempts[1].print, print);
    assert_eq!(
        s.last_completion("image", "kickstart").unwrap(),
        Some(Completed {
            print: print.clone(),
            outputs: out.clone(),
        })
    );
    let last = s.last_job_run("image").unwrap().unwrap();
    assert_eq!(
        (
            last.run,
            last.state_step.as_str(),
            last.status.as_str(),
            last.retry_at_ms
        ),
        (1, "kickstart", "waiting_retry", Some(160_500))
    );
    assert_eq!(s.last_job_run("other").unwrap(), None);
    // A later attempt that failed: the old completion no longer counts.
    s.apply(&[started(102, 1), ended(102, "failed", 1, Vec::new())])
        .unwrap();
    assert_eq!(s.last_completion("image", "kickstart").unwrap(), None);
}
