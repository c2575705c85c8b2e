//! Every report the CLI prints, against checked-in snapshots
//! (`src/render/snapshots/`): a change to what users read shows up in review
//! as a changed snapshot.

use super::history::write_history;
use super::outcome::{
    write_failure_summary, write_interrupted, write_recovery, write_smart_rollback, write_success,
};
use super::plan::{write_plan, write_state_check};
use super::progress::{plain_line, rollback_line};
use super::status::write_status;
use harness_api::*;
use std::collections::BTreeMap;

fn text(f: impl FnOnce(&mut Vec<u8>) -> std::io::Result<()>) -> String {
    let mut buf = Vec::new();
    f(&mut buf).expect("writing to memory");
    String::from_utf8(buf).expect("utf-8")
}

fn svc(name: &str, status: Status, health: Health) -> ServiceStatus {
    ServiceStatus {
        name: name.into(),
        status,
        health,
        pid: None,
        restarts: 0,
        uptime_secs: None,
        exit_code: None,
        network: "local".into(),
        notes: String::new(),
        last_output: Vec::new(),
        changes: Vec::new(),
        removed_from_file: false,
    }
}

fn running(name: &str, pid: u32, uptime: u64) -> ServiceStatus {
    ServiceStatus {
        pid: Some(pid),
        uptime_secs: Some(uptime),
        ..svc(name, Status::Running, Health::Healthy)
    }
}

/// db up, api failed with output, worker blocked, cache restarting.
fn partial() -> StatusReport {
    StatusReport {
        warning: None,
        system_state: SystemState::Partial,
        services: vec![
            running("db", 4242, 3725),
            ServiceStatus {
                exit_code: Some(1),
                notes: "exit code 1".into(),
                last_output: vec!["api is broken".into()],
                ..svc("api", Status::Stopped, Health::Failed)
            },
            ServiceStatus {
                notes: "dependency failed: api".into(),
                ..svc("worker", Status::Stopped, Health::Blocked)
            },
            ServiceStatus {
                restarts: 2,
                notes: "restarting in 2s (attempt 3 of 5)".into(),
                ..svc("cache", Status::Restarting, Health::Unhealthy)
            },
            ServiceStatus {
                notes: "running an older definition: command changed".into(),
                changes: vec!["command changed".into()],
                ..running("web", 4343, 61)
            },
        ],
    }
}

#[test]
fn status_of_a_partial_stack() {
    insta::assert_snapshot!(text(|w| write_status(w, &partial())));
}

#[test]
fn status_of_a_running_and_of_a_failed_stack() {
    let up = StatusReport {
        warning: None,
        system_state: SystemState::Running,
        services: vec![running("db", 11, 59), running("api", 12, 61)],
    };
    let down = StatusReport {
        warning: None,
        system_state: SystemState::Failed,
        services: vec![ServiceStatus {
            exit_code: Some(2),
            notes: "exit code 2".into(),
            ..svc("db", Status::Stopped, Health::Failed)
        }],
    };
    insta::assert_snapshot!(format!(
        "{}\n---\n{}",
        text(|w| write_status(w, &up)),
        text(|w| write_status(w, &down))
    ));
}

fn row(ts: &str, service: &str, from: &str, to: &str, reason: &str) -> HistoryEntry {
    HistoryEntry {
        ts: ts.into(),
        service: service.into(),
        from: from.into(),
        to: to.into(),
        reason: reason.into(),
        cause: None,
    }
}

#[test]
fn history_joins_each_services_chain_and_keeps_the_cause() {
    let retry = Some("retry chosen at prompt".to_string());
    let rows = vec![
        row(
            "2026-12-02 10:00:00.001",
            "db",
            "stopped",
            "starting",
            "start requested",
        ),
        row(
            "2026-12-02 10:00:00.002",
            "api",
            "stopped",
            "starting",
            "start requested",
        ),
        row(
            "2026-12-02 10:00:00.300",
            "db",
            "starting",
            "running",
            "healthy",
        ),
        row(
            "2026-12-02 10:00:00.400",
            "api",
            "starting",
            "stopped",
            "failed: exit code 1",
        ),
        row(
            "2026-12-02 10:00:01.000",
            CHOICE_SUBJECT,
            "startup failed",
            "retry",
            "failed: api",
        ),
        HistoryEntry {
            cause: retry.clone(),
            ..row(
                "2026-12-02 10:00:01.100",
                "api",
                "stopped",
                "starting",
                "start requested (retry chosen at prompt)",
            )
        },
        row(
            "2026-12-02 10:00:01.400",
            "api",
            "starting",
            "running",
            "healthy",
        ),
        HistoryEntry {
            cause: Some("rollback: web failed (--rollback-on-failure)".into()),
            ..row(
                "2026-12-02 10:00:05.000",
                "db",
                "running",
                "stopping",
                "stop requested (rollback: web failed (--rollback-on-failure))",
            )
        },
        row(
            "2026-12-02 10:00:05.020",
            "db",
            "stopping",
            "stopped",
            "stop requested; ended by SIGTERM",
        ),
    ];
    insta::assert_snapshot!(text(|w| write_history(w, &rows)));
}

fn entry(current: ServiceStatus, action: PlanAction, wave: Option<u32>, detail: &str) -> PlanEntry {
    PlanEntry {
        current,
        action,
        wave,
        detail: detail.into(),
    }
}

fn a_plan() -> Plan {
    Plan {
        services: vec![
            entry(running("db", 7, 10), PlanAction::Use, None, ""),
            entry(
                ServiceStatus {
                    changes: vec!["command changed".into(), "env PGPORT changed".into()],
                    ..running("cache", 9, 10)
                },
                PlanAction::Use,
                None,
                "",
            ),
            entry(
                ServiceStatus {
                    pid: Some(8),
                    ..svc("queue", Status::Running, Health::Unhealthy)
                },
                PlanAction::Wait,
                None,
                "",
            ),
            entry(
                ServiceStatus {
                    exit_code: Some(1),
                    ..svc("api", Status::Stopped, Health::Failed)
                },
                PlanAction::Start,
                Some(1),
                "",
            ),
            entry(
                svc("worker", Status::Stopped, Health::Unknown),
                PlanAction::Start,
                Some(2),
                "forced: api not up",
            ),
            entry(
                ServiceStatus {
                    notes: "dependency failed: api".into(),
                    ..svc("frontend", Status::Stopped, Health::Blocked)
                },
                PlanAction::Blocked,
                None,
                "dependency failed: api",
            ),
            entry(
                svc("migrate", Status::Exited, Health::Unknown),
                PlanAction::Start,
                Some(1),
                "",
            ),
            entry(
                ServiceStatus {
                    pid: Some(1234),
                    ..svc("postgres", Status::External, Health::Healthy)
                },
                PlanAction::Use,
                None,
                "running, not managed by harness (PID 1234)",
            ),
        ],
    }
}

#[test]
fn state_check_and_dry_run_plan() {
    let plan = a_plan();
    insta::assert_snapshot!(format!(
        "{}---{}---{}",
        text(|w| write_state_check(w, &plan, 12)),
        text(|w| write_plan(w, &plan, false)),
        text(|w| write_plan(w, &plan, true)),
    ));
}

fn summary() -> Summary {
    Summary {
        success: false,
        elapsed: 4.2,
        started: vec!["db".into(), "cache".into()],
        failed: vec!["api".into(), "search".into()],
        blocked: vec!["worker".into()],
        warned: vec!["metrics".into()],
        warnings: vec![Warning {
            service: "metrics".into(),
            reason: WarningReason::DependenciesNotHealthy,
        }],
        ..Summary::default()
    }
}

fn progress(service: &str, phase: Phase, detail: &str) -> Progress {
    Progress {
        service: service.into(),
        phase,
        elapsed_ms: 1200,
        pid: Some(99),
        exit_code: None,
        detail: detail.into(),
    }
}

#[test]
fn failure_report_names_every_way_out() {
    let timed_out = progress("search", Phase::TimedOut, "timeout after 5s");
    let nothing = Summary {
        started: Vec::new(),
        warned: Vec::new(),
        warnings: Vec::new(),
        blocked: Vec::new(),
        failed: vec!["db".into()],
        ..summary()
    };
    insta::assert_snapshot!(format!(
        "{}---\n{}",
        text(|w| write_failure_summary(w, &summary(), &[&timed_out])),
        text(|w| write_failure_summary(w, &nothing, &[])),
    ));
}

#[test]
fn a_start_cut_short_by_a_stop_says_what_the_stop_took_down() {
    let cut = Summary {
        started: Vec::new(),
        warned: Vec::new(),
        warnings: Vec::new(),
        blocked: Vec::new(),
        failed: vec!["slow".into()],
        stopped: vec!["db".into()],
        ..summary()
    };
    insta::assert_snapshot!(text(|w| write_failure_summary(w, &cut, &[])));
}

#[test]
fn interrupted_start_says_what_was_left() {
    let last: BTreeMap<String, Progress> = [
        progress("db", Phase::Healthy, ""),
        progress("api", Phase::Starting, ""),
        progress("worker", Phase::Waiting, "waiting for api"),
    ]
    .into_iter()
    .map(|p| (p.service.clone(), p))
    .collect();
    insta::assert_snapshot!(text(|w| write_interrupted(w, &last)));
}

#[test]
fn smart_rollback_report() {
    let r = Recovery {
        policy: OnFailure::SmartRollback,
        stopped: vec!["web".into()],
        elapsed: 0.3,
        kept: vec!["db".into(), "cache".into()],
        not_started: vec!["docs".into()],
        left_running: vec!["admin".into()],
        unhealthy: vec!["api".into()],
    };
    insta::assert_snapshot!(text(|w| write_smart_rollback(w, &r)));
}

#[test]
fn success_says_what_was_started_and_what_already_ran() {
    let up = Summary {
        success: true,
        elapsed: 1.25,
        started: vec!["db".into(), "api".into()],
        ..Summary::default()
    };
    let found = Summary {
        existing: up.started.clone(),
        ..up.clone()
    };
    let warned = Summary {
        warned: vec!["api".into()],
        warnings: vec![Warning {
            service: "api".into(),
            reason: WarningReason::NotHealthy,
        }],
        ..up.clone()
    };
    let some = Summary {
        existing: vec!["db".into()],
        ..up.clone()
    };
    let all = found.started.clone();
    let db = ["db".to_string()];
    insta::assert_snapshot!(
        [
            text(|w| write_success(w, &up, false, &[])),
            text(|w| write_success(w, &up, true, &[])),
            text(|w| write_success(w, &found, false, &all)),
            text(|w| write_success(w, &found, true, &all)),
            text(|w| write_success(w, &warned, false, &[])),
            // db ran before the command: 1 started, 1 already running.
            text(|w| write_success(w, &some, false, &db)),
            // db was started by this command's first attempt (a retry).
            text(|w| write_success(w, &some, false, &[])),
        ]
        .join("---")
    );
}

#[test]
fn recovery_reports_of_each_policy() {
    let s = Summary {
        failed: vec!["api".into()],
        ..summary()
    };
    let report = |policy, stopped: &[&str], left: &[&str]| Recovery {
        policy,
        stopped: stopped.iter().map(|n| n.to_string()).collect(),
        elapsed: 0.2,
        left_running: left.iter().map(|n| n.to_string()).collect(),
        ..Recovery::default()
    };
    let both = |r: &Recovery| {
        let mut err = Vec::new();
        let out = text(|w| write_recovery(w, &mut err, &s, r));
        format!("stdout:\n{out}stderr:\n{}", String::from_utf8_lossy(&err))
    };
    insta::assert_snapshot!(
        [
            both(&report(OnFailure::Teardown, &["db", "cache"], &[])),
            both(&report(OnFailure::Rollback, &["db"], &[])),
            both(&report(OnFailure::Rollback, &["db"], &["cache"])),
            both(&report(OnFailure::Rollback, &[], &["db"])),
            both(&Recovery {
                kept: vec!["db".into()],
                ..report(OnFailure::SmartRollback, &["web"], &[])
            }),
        ]
        .join("---\n")
    );
}

#[test]
fn progress_lines_off_a_terminal() {
    let lines: Vec<String> = [
        progress("api", Phase::Waiting, "waiting for db"),
        progress("db", Phase::Starting, ""),
        progress("db", Phase::Healthy, "healthy in 251ms"),
        progress("cache", Phase::Existing, "using existing (healthy)"),
        progress("api", Phase::Failed, "exit code 1"),
        progress("web", Phase::Blocked, "dependency failed: api"),
        progress("search", Phase::TimedOut, "timeout after 5s"),
        progress("metrics", Phase::Warning, "started, deps unhealthy"),
        progress("once", Phase::Started, ""),
        progress("db", Phase::Stopping, ""),
        progress("db", Phase::Stopped, ""),
    ]
    .iter()
    .map(|p| plain_line(p, 12))
    .chain(
        [
            progress("db", Phase::Stopping, ""),
            progress("db", Phase::Stopped, ""),
        ]
        .iter()
        .filter_map(rollback_line),
    )
    .collect();
    insta::assert_snapshot!(lines.join("\n"));
}

fn deploy_entry(service: &str, action: DeployAction, reasons: &[&str]) -> DeployEntry {
    DeployEntry {
        service: service.into(),
        action,
        reasons: reasons.iter().map(|r| r.to_string()).collect(),
        from: (action != DeployAction::Add).then(|| "3f2a9c".into()),
        to: (action != DeployAction::Remove).then(|| match action {
            DeployAction::Change => "8b1e44".into(),
            _ => "3f2a9c".into(),
        }),
    }
}

fn dprogress(service: &str, phase: DeployPhase, detail: &str) -> DeployEvent {
    DeployEvent::Progress(DeployProgress {
        service: service.into(),
        phase,
        node: (phase == DeployPhase::Scheduled).then(|| "local".into()),
        detail: detail.into(),
    })
}

/// Seed 002's deploy: a plan of every action, the events one per line,
/// and both endings.
#[test]
fn deploy_plan_events_and_endings() {
    use super::deploy::{event_width, write_deploy_done, write_deploy_event, write_deploy_plan};
    let plan = DeployPlan {
        services: vec![
            deploy_entry("old", DeployAction::Remove, &["removed from the file"]),
            deploy_entry("db", DeployAction::Unchanged, &[]),
            deploy_entry(
                "web",
                DeployAction::Change,
                &["command changed", "env PGPORT changed"],
            ),
            deploy_entry("api", DeployAction::InPlace, &["health_check changed"]),
            deploy_entry("broken", DeployAction::Add, &[]),
            deploy_entry("front", DeployAction::Change, &["env_file changed"]),
            deploy_entry(
                "search",
                DeployAction::Drifted,
                &["deploy 16 failed: exit code 7; reverted", "command changed"],
            ),
        ],
        pending: true,
        digest: "8b1e443f2a9c".into(),
    };
    let events = [
        dprogress("old", DeployPhase::Stopping, "removed from the file"),
        dprogress("old", DeployPhase::Removed, ""),
        dprogress("api", DeployPhase::InPlace, "health_check changed"),
        dprogress("web", DeployPhase::Scheduled, ""),
        dprogress("web", DeployPhase::Stopping, ""),
        dprogress("web", DeployPhase::Starting, ""),
        dprogress("broken", DeployPhase::Scheduled, ""),
        dprogress("broken", DeployPhase::Starting, ""),
        dprogress("web", DeployPhase::Healthy, ""),
        DeployEvent::Failed(DeployFailed {
            service: "broken".into(),
            reason: "command not found: broken-binary".into(),
            kept: Kept::None,
        }),
        dprogress(
            "front",
            DeployPhase::Blocked,
            "dependency failed: broken (still running what it ran)",
        ),
        dprogress("api", DeployPhase::Reverting, ""),
        DeployEvent::Failed(DeployFailed {
            service: "api".into(),
            reason: "exit code 7".into(),
            kept: Kept::Reverted,
        }),
    ];
    let width = event_width(&plan);
    let failed = DeployDone {
        elapsed: 12.4,
        success: false,
        deploy: 17,
        deployed: vec!["web".into()],
        in_place: vec!["api".into()],
        unchanged: vec!["db".into()],
        removed: vec!["old".into()],
        failed: vec!["broken".into(), "api".into()],
        reverted: vec!["api".into()],
        blocked: vec!["front".into()],
        ..DeployDone::default()
    };
    let good = DeployDone {
        success: true,
        failed: Vec::new(),
        reverted: Vec::new(),
        blocked: Vec::new(),
        ..failed.clone()
    };
    let nothing = DeployPlan {
        services: vec![deploy_entry("db", DeployAction::Unchanged, &[])],
        pending: false,
        digest: "5e2a1b0c9d8f".into(),
    };
    insta::assert_snapshot!(format!(
        "{}---\n{}---\n{}---\n{}---\n{}",
        text(|w| write_deploy_plan(w, &plan, "services.yaml", false)),
        text(|w| {
            for e in &events {
                write_deploy_event(w, e, width)?;
            }
            Ok(())
        }),
        text(|w| write_deploy_done(w, &failed)),
        text(|w| write_deploy_done(w, &good)),
        text(|w| write_deploy_plan(w, &nothing, "services.yaml", true)),
    ));
}

#[test]
fn deploy_history_and_one_deploy() {
    use super::deploy::{write_deploy_history, write_deploy_record};
    let svc = |service: &str,
               action,
               from: Option<&str>,
               to: Option<&str>,
               outcome: &str,
               detail: &str| {
        DeployedService {
            service: service.into(),
            action,
            reasons: Vec::new(),
            from: from.map(str::to_string),
            to: to.map(str::to_string),
            outcome: Some(outcome.into()),
            detail: detail.into(),
        }
    };
    let failed = DeployRecord {
        id: 17,
        started: "2026-12-03 06:44:10.361".into(),
        ended: Some("2026-12-03 06:44:11.661".into()),
        took_secs: Some(1.3),
        config: "services.yaml".into(),
        status: "failed".into(),
        services: vec![
            svc(
                "old",
                DeployAction::Remove,
                Some("77aa01"),
                None,
                "removed",
                "",
            ),
            svc(
                "db",
                DeployAction::Unchanged,
                Some("3f2a9c"),
                Some("3f2a9c"),
                "unchanged",
                "",
            ),
            svc(
                "web",
                DeployAction::Change,
                Some("3f2a9c"),
                Some("8b1e44"),
                "deployed",
                "",
            ),
            svc(
                "broken",
                DeployAction::Add,
                None,
                Some("1a2b3c"),
                "failed",
                "exit code 127",
            ),
            svc(
                "front",
                DeployAction::Change,
                Some("0c0c0c"),
                Some("0d0d0d"),
                "blocked",
                "dependency failed: broken",
            ),
        ],
    };
    let running = DeployRecord {
        id: 18,
        ended: None,
        took_secs: None,
        status: "running".into(),
        services: vec![DeployedService {
            outcome: None,
            ..svc(
                "web",
                DeployAction::Change,
                Some("8b1e44"),
                Some("9c9c9c"),
                "",
                "",
            )
        }],
        ..failed.clone()
    };
    insta::assert_snapshot!(format!(
        "{}---\n{}---\n{}",
        text(|w| write_deploy_history(w, &[running.clone(), failed.clone()])),
        text(|w| write_deploy_record(w, &failed)),
        text(|w| write_deploy_record(w, &running)),
    ));
}

fn step(name: &str, index: usize, status: StepStatus, attempt: u32, max: u32) -> StepEvent {
    StepEvent {
        step: name.into(),
        index,
        status,
        attempt,
        max_attempts: max,
        class: None,
        exit_code: None,
        error: None,
        why: None,
        retry_in_ms: None,
        log: None,
    }
}

/// Seed 003's kickstart timeline as `harness run image` prints it: the
/// plan with its reasons, each attempt, the retry with its wait, a give-up
/// and a completion.
#[test]
fn a_jobs_plan_its_steps_and_how_it_ended() {
    use super::job::{step_width, write_job_done, write_job_plan, write_step_event};
    let planned = |step: &str, index: usize, action: &str, why: &str| PlannedStep {
        step: step.into(),
        index,
        action: action.into(),
        why: why.into(),
    };
    let plan = JobPlan {
        job: "image".into(),
        run: 3,
        continues: true,
        steps: vec![
            planned("base", 0, "skip", "up to date"),
            planned("kickstart", 1, "run", "never completed"),
            planned("ansible", 2, "run", "an earlier step runs (kickstart)"),
            planned("tests", 3, "run", "an earlier step runs (kickstart)"),
        ],
    };
    let failed = |attempt, status, retry_in_ms| StepEvent {
        class: Some("transient".into()),
        exit_code: Some(75),
        error: Some("curl: (28) Connection timed out\nNetwork timeout".into()),
        why: Some("exit code 75 is transient".into()),
        retry_in_ms,
        ..step("kickstart", 1, status, attempt, 3)
    };
    let events = [
        StepEvent {
            why: Some("up to date".into()),
            ..step("base", 0, StepStatus::Cached, 0, 3)
        },
        StepEvent {
            log: Some("logs/image+kickstart@41.log".into()),
            ..step("kickstart", 1, StepStatus::Started, 1, 3)
        },
        failed(1, StepStatus::Retrying, Some(60_000)),
        step("kickstart", 1, StepStatus::Started, 2, 3),
        step("kickstart", 1, StepStatus::Completed, 2, 3),
        StepEvent {
            why: Some("flaky runner, checked by hand".into()),
            ..step("ansible", 2, StepStatus::Marked, 0, 3)
        },
        step("tests", 3, StepStatus::Started, 1, 1),
        step("tests", 3, StepStatus::Cancelled, 1, 1),
        step("tests", 3, StepStatus::Interrupted, 1, 1),
        failed(3, StepStatus::Failed, None),
    ];
    let width = step_width(&plan);
    let mut out = text(|w| write_job_plan(w, &plan));
    for e in &events {
        out += &text(|w| write_step_event(w, e, plan.steps.len(), width));
    }
    let done = |success: bool, status: &str, kind: &str, command: Option<&str>| JobDone {
        success,
        current_state: if success { "tests" } else { "kickstart" }.into(),
        status: status.into(),
        next_action: NextAction {
            kind: kind.into(),
            at: None,
            command: command.map(str::to_string),
        },
        elapsed_ms: 1_832_400,
        error: (status == "failed").then(|| "needs db up, and it did not come up".into()),
    };
    for success in [true, false] {
        let c = CleanupEvent {
            success,
            detail: if success {
                "exit code 0"
            } else {
                "exit code 2"
            }
            .into(),
            log: "logs/image@cleanup.log".into(),
        };
        out += &text(|w| super::job::write_cleanup(w, "image", &c));
    }
    out += &text(|w| write_job_done(w, "image", &done(true, "completed", "none", None)));
    out += &text(|w| {
        write_job_done(
            w,
            "image",
            &done(false, "failed", "manual", Some("harness run image")),
        )
    });
    out += &text(|w| {
        write_job_done(
            w,
            "image",
            &done(
                false,
                "needs_decision",
                "manual",
                Some("harness run image --from kickstart"),
            ),
        )
    });
    insta::assert_snapshot!(out);
}

/// `harness jobs status`: one line per job, a failure's class, last line
/// and log beneath it.
#[test]
fn the_jobs_table_shows_state_status_attempt_and_what_comes_next() {
    use super::job::write_job_table;
    let record = |job: &str, status: &str, attempt: i64, next: NextAction| JobRecord {
        job: job.into(),
        run: 2,
        current_state: "kickstart".into(),
        current_state_index: 1,
        status: status.into(),
        attempt,
        max_attempts: 3,
        failure: None,
        next_action: next,
        state_history: Vec::new(),
        started: None,
        ended: None,
    };
    let records = [
        JobRecord {
            failure: Some(JobFailure {
                class: Some("transient".into()),
                exit_code: Some(75),
                signal: None,
                error: Some("curl: (28)\nNetwork timeout".into()),
                log: Some("logs/image+kickstart@43.log".into()),
            }),
            ..record(
                "image",
                "failed",
                3,
                NextAction {
                    kind: "manual".into(),
                    at: None,
                    command: Some("harness run image".into()),
                },
            )
        },
        record(
            "nightly",
            "waiting_retry",
            2,
            NextAction {
                kind: "auto_retry".into(),
                at: Some("2026-12-03 10:17:00.000".into()),
                command: None,
            },
        ),
        JobRecord {
            run: 0,
            current_state: "fetch".into(),
            ..record("docs", "never_run", 0, NextAction::none())
        },
    ];
    let out = text(|w| write_job_table(w, &records)) + &text(|w| write_job_table(w, &[]));
    insta::assert_snapshot!(out);
}

/// `harness jobs history`: one line per run, newest first.
#[test]
fn a_jobs_history_shows_each_run() {
    use super::job::write_job_history;
    let entry =
        |run: i64, status: &str, state: &str, start: &str, ended: Option<&str>| JobRunEntry {
            run,
            start: start.into(),
            started: format!("2026-12-03 10:0{run}:00.000"),
            ended: ended.map(str::to_string),
            current_state: state.into(),
            status: status.into(),
        };
    let rows = [
        entry(3, "running", "kickstart", "from kickstart", None),
        entry(
            2,
            "completed",
            "tests",
            "resume",
            Some("2026-12-03 10:32:00.120"),
        ),
        entry(
            1,
            "failed",
            "kickstart",
            "resume",
            Some("2026-12-03 10:15:00.004"),
        ),
    ];
    let out = text(|w| write_job_history(w, "image", &rows))
        + &text(|w| write_job_history(w, "image", &[]));
    insta::assert_snapshot!(out);
}

#[test]
fn log_lines_plain_prefixed_coloured_and_with_times() {
    use super::LogView;
    let line = |service: &str, stream, ts: Option<&str>, text: &str| LogLine {
        service: service.into(),
        stream,
        ts: ts.map(String::from),
        line: text.into(),
    };
    let lines = [
        line(
            "db",
            LogStream::Stdout,
            Some("2026-12-02T10:00:00.000100Z"),
            "ready to accept connections",
        ),
        line(
            "api",
            LogStream::Stderr,
            Some("2026-12-02T10:00:00.250000Z"),
            "listening on 8080",
        ),
        line(
            "worker",
            LogStream::Stdout,
            Some("2026-12-02T10:00:01.000000Z"),
            "polling",
        ),
        line(
            "api",
            LogStream::Stdout,
            None,
            "a line from before capture times",
        ),
        // A name longer than any the file has: the prefix grows from here.
        line(
            "image/kickstart",
            LogStream::Stdout,
            Some("2026-12-02T10:00:02.000000Z"),
            "kicked",
        ),
        line(
            "db",
            LogStream::Stdout,
            Some("2026-12-02T10:00:03.000000Z"),
            "checkpoint",
        ),
    ];
    let names: Vec<String> = ["db", "api", "worker"].map(String::from).into();
    let show = |mut view: LogView| {
        text(|out| lines.iter().try_for_each(|l| view.write(out, l))).replace('\x1b', "\\e")
    };
    let views = [
        (
            "plain",
            show(LogView::new(true, names.clone(), false, false)),
        ),
        (
            "timestamps",
            show(LogView::new(true, names.clone(), false, true)),
        ),
        (
            "no prefix",
            show(LogView::new(false, names.clone(), false, false)),
        ),
        (
            "colour",
            show(LogView::new(true, names.clone(), true, false)),
        ),
    ];
    let all: Vec<String> = views
        .iter()
        .map(|(what, text)| format!("--- {what}\n{text}"))
        .collect();
    insta::assert_snapshot!(all.join(""));
}

#[test]
fn status_says_when_the_state_database_has_no_room() {
    let r = StatusReport {
        warning: Some("no room for the state database: history and outcomes wait in memory until there is (daemon.log)".into()),
        ..partial()
    };
    let text = text(|w| write_status(w, &r));
    let from = text.find("System state").unwrap();
    insta::assert_snapshot!(&text[from..]);
}

#[test]
fn an_instance_outside_harness_as_adopt_shows_it() {
    let pg = ExternalInstance {
        service: "postgres".into(),
        pid: Some(1234),
        start_time: Some(5000),
        started_at_ms: Some(0),
        command: vec![
            "/usr/bin/postgres".into(),
            "-D".into(),
            "/var/lib/postgresql/data".into(),
            "-c".into(),
            "listen_addresses=it's here".into(),
        ],
        user: Some("postgres".into()),
        ports: vec![5432],
        evidence: "port 5432".into(),
        healthy: true,
        refused: None,
    };
    let two_ports = ExternalInstance {
        ports: vec![5432, 5433],
        healthy: false,
        ..pg.clone()
    };
    let theirs = ExternalInstance {
        pid: None,
        start_time: None,
        started_at_ms: None,
        command: Vec::new(),
        user: Some("115".into()),
        refused: Some("the process behind postgres could not be named".into()),
        ..pg.clone()
    };
    let out = [
        text(|w| super::external::write_found(w, &pg, Some("2026-12-03 10:15:02"))),
        text(|w| super::external::write_found(w, &two_ports, None)),
        text(|w| super::external::write_found(w, &theirs, None)),
    ]
    .join("---\n");
    insta::assert_snapshot!(out);
}
