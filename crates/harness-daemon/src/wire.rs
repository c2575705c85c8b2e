//! The one place where the core's reports become wire types
//! (`harness-api`). The core knows nothing of JSON; the wire knows nothing
//! of the engine. Every enum is matched exhaustively, so a new state in the
//! core cannot reach a client without a decision here.

use harness_api as api;
use harness_core::engine::OnFailure;
use harness_core::report as core;

/// A service's status row; `last_output` is what the daemon read from its
/// log (empty unless it failed).
pub fn service(v: core::ServiceView, last_output: Vec<String>) -> api::ServiceStatus {
    api::ServiceStatus {
        name: v.name,
        status: status(v.status),
        health: health(v.health),
        pid: v.pid,
        restarts: v.restarts,
        uptime_secs: v.uptime_secs,
        exit_code: v.exit_code,
        network: v.network,
        notes: v.notes,
        last_output,
        changes: v.changes,
        removed_from_file: v.removed,
    }
}

/// `GET /v1/status`, with each service's last output from `last_output`.
pub fn status_report(
    v: core::StatusView,
    mut last_output: impl FnMut(&core::ServiceView) -> Vec<String>,
) -> api::StatusReport {
    api::StatusReport {
        warning: None,
        system_state: system_state(v.system_state),
        services: v
            .services
            .into_iter()
            .map(|s| {
                let out = last_output(&s);
                service(s, out)
            })
            .collect(),
    }
}

fn status(s: core::Status) -> api::Status {
    match s {
        core::Status::Stopped => api::Status::Stopped,
        core::Status::Starting => api::Status::Starting,
        core::Status::Running => api::Status::Running,
        core::Status::Stopping => api::Status::Stopping,
        core::Status::Restarting => api::Status::Restarting,
        core::Status::Failed => api::Status::Failed,
        core::Status::Exited => api::Status::Exited,
        core::Status::External => api::Status::External,
    }
}

fn health(h: core::Health) -> api::Health {
    match h {
        core::Health::Healthy => api::Health::Healthy,
        core::Health::Unhealthy => api::Health::Unhealthy,
        core::Health::Starting => api::Health::Starting,
        core::Health::Blocked => api::Health::Blocked,
        core::Health::Failed => api::Health::Failed,
        core::Health::Unknown => api::Health::Unknown,
    }
}

fn system_state(s: core::SystemState) -> api::SystemState {
    match s {
        core::SystemState::Running => api::SystemState::Running,
        core::SystemState::Partial => api::SystemState::Partial,
        core::SystemState::Degraded => api::SystemState::Degraded,
        core::SystemState::Failed => api::SystemState::Failed,
        core::SystemState::Stopped => api::SystemState::Stopped,
    }
}

/// A `progress` event.
pub fn progress(p: core::Progress) -> api::Progress {
    api::Progress {
        service: p.service,
        phase: stage(p.stage),
        elapsed_ms: p.elapsed.as_millis() as u64,
        pid: p.pid,
        exit_code: p.exit_code,
        detail: p.detail,
    }
}

fn stage(s: core::Stage) -> api::Phase {
    match s {
        core::Stage::Waiting => api::Phase::Waiting,
        core::Stage::Existing => api::Phase::Existing,
        core::Stage::Starting => api::Phase::Starting,
        core::Stage::Healthy => api::Phase::Healthy,
        core::Stage::Started => api::Phase::Started,
        core::Stage::Warning => api::Phase::Warning,
        core::Stage::Failed => api::Phase::Failed,
        core::Stage::TimedOut => api::Phase::TimedOut,
        core::Stage::Blocked => api::Phase::Blocked,
        core::Stage::Stopping => api::Phase::Stopping,
        core::Stage::Stopped => api::Phase::Stopped,
    }
}

/// The `done` event.
pub fn summary(s: core::Summary) -> api::Summary {
    let warnings: Vec<api::Warning> = s
        .warned
        .into_iter()
        .map(|(service, why)| api::Warning {
            service,
            reason: match why {
                core::WarningReason::DependenciesNotHealthy => {
                    api::WarningReason::DependenciesNotHealthy
                }
                core::WarningReason::NotHealthy => api::WarningReason::NotHealthy,
            },
        })
        .collect();
    api::Summary {
        success: s.success,
        elapsed: s.elapsed.as_secs_f64(),
        started: s.started,
        failed: s.failed,
        blocked: s.blocked,
        stopped: s.stopped,
        left_running: s.left_running,
        warned: warnings.iter().map(|w| w.service.clone()).collect(),
        existing: s.existing,
        warnings,
        recovery: s.recovery.map(|r| Box::new(recovery(*r))),
    }
}

/// What a failed start's policy did.
fn recovery(r: core::Recovery) -> api::Recovery {
    api::Recovery {
        policy: policy(r.policy),
        stopped: r.stopped,
        elapsed: r.elapsed.as_secs_f64(),
        kept: r.kept,
        not_started: r.not_started,
        left_running: r.left_running,
        unhealthy: r.unhealthy,
    }
}

/// A start's `on_failure`, core to wire.
pub fn policy(p: OnFailure) -> api::OnFailure {
    match p {
        OnFailure::Keep => api::OnFailure::Keep,
        OnFailure::Teardown => api::OnFailure::Teardown,
        OnFailure::Rollback => api::OnFailure::Rollback,
        OnFailure::SmartRollback => api::OnFailure::SmartRollback,
    }
}

/// A start's `on_failure`, wire to core.
pub fn on_failure(p: api::OnFailure) -> OnFailure {
    match p {
        api::OnFailure::Keep => OnFailure::Keep,
        api::OnFailure::Teardown => OnFailure::Teardown,
        api::OnFailure::Rollback => OnFailure::Rollback,
        api::OnFailure::SmartRollback => OnFailure::SmartRollback,
    }
}

/// The answer of `POST /v1/plan`.
pub fn plan(p: core::Plan) -> api::Plan {
    api::Plan {
        services: p
            .services
            .into_iter()
            .map(|e| api::PlanEntry {
                current: service(e.current, Vec::new()),
                action: match e.action {
                    core::PlanAction::Use => api::PlanAction::Use,
                    core::PlanAction::Wait => api::PlanAction::Wait,
                    core::PlanAction::Start => api::PlanAction::Start,
                    core::PlanAction::Blocked => api::PlanAction::Blocked,
                },
                wave: e.wave,
                detail: e.detail,
            })
            .collect(),
    }
}

/// `POST /v1/deploy/plan`.
pub fn deploy_plan(p: core::DeployPlan, no_prune: bool) -> api::DeployPlan {
    api::DeployPlan {
        pending: p.pending_with(no_prune),
        digest: p.digest(),
        services: p
            .services
            .into_iter()
            .map(|e| api::DeployEntry {
                service: e.service,
                action: deploy_action(e.action),
                reasons: e.reasons,
                from: e.from,
                to: e.to,
            })
            .collect(),
    }
}

/// One event of a deploy.
pub fn deploy_event(e: core::DeployEvent) -> api::DeployEvent {
    match e {
        core::DeployEvent::Progress {
            service,
            phase,
            detail,
        } => api::DeployEvent::Progress(api::DeployProgress {
            service,
            node: (phase == core::DeployPhase::Scheduled).then(|| "local".to_string()),
            phase: match phase {
                core::DeployPhase::Scheduled => api::DeployPhase::Scheduled,
                core::DeployPhase::Stopping => api::DeployPhase::Stopping,
                core::DeployPhase::Starting => api::DeployPhase::Starting,
                core::DeployPhase::Healthy => api::DeployPhase::Healthy,
                core::DeployPhase::InPlace => api::DeployPhase::InPlace,
                core::DeployPhase::Removed => api::DeployPhase::Removed,
                core::DeployPhase::Kept => api::DeployPhase::Kept,
                core::DeployPhase::Reverting => api::DeployPhase::Reverting,
                core::DeployPhase::Blocked => api::DeployPhase::Blocked,
                core::DeployPhase::Cancelled => api::DeployPhase::Cancelled,
            },
            detail,
        }),
        core::DeployEvent::Failed {
            service,
            reason,
            kept,
        } => api::DeployEvent::Failed(api::DeployFailed {
            service,
            reason,
            kept: match kept {
                core::Kept::None => api::Kept::None,
                core::Kept::Previous => api::Kept::Previous,
                core::Kept::Reverted => api::Kept::Reverted,
            },
        }),
    }
}

/// The `done` event of deploy `id`.
pub fn deploy_done(id: u64, s: core::DeploySummary) -> api::DeployEvent {
    api::DeployEvent::Done(api::DeployDone {
        elapsed: s.elapsed.as_secs_f64(),
        success: s.success,
        deploy: id,
        deployed: s.deployed,
        in_place: s.in_place,
        unchanged: s.unchanged,
        removed: s.removed,
        kept: s.kept,
        failed: s.failed,
        reverted: s.reverted,
        blocked: s.blocked,
        cancelled: s.cancelled,
    })
}

/// A deploy's action on one service.
pub fn deploy_action(a: core::DeployAction) -> api::DeployAction {
    match a {
        core::DeployAction::Add => api::DeployAction::Add,
        core::DeployAction::Change => api::DeployAction::Change,
        core::DeployAction::Drifted => api::DeployAction::Drifted,
        core::DeployAction::InPlace => api::DeployAction::InPlace,
        core::DeployAction::Remove => api::DeployAction::Remove,
        core::DeployAction::Unchanged => api::DeployAction::Unchanged,
        core::DeployAction::External => api::DeployAction::External,
    }
}
