//! `harness start`: check the current state, decide what to do about a
//! partial system (a prompt on a terminal, flags otherwise), start, and
//! decide what to do about a failure the same way.

use super::operation::{self, LastSeen};
use crate::args::{FailureFlags, StartArgs};
use crate::client::Client;
use crate::error::CliError;
use crate::prompt;
use crate::render::{self, Style};
use harness_api::{
    Choice, Phase, Plan, PlanAction, PlanRequest, StartRequest, StopRequest, Summary, WarningReason,
};
use harness_core::config::Config;
use harness_core::graph::Graph;
use harness_store::Project;
use hyper::Method;
use std::collections::BTreeSet;

/// The pre-start prompt of seed 000.
const PARTIAL_MENU: &[(&str, &str)] = &[
    ("Continue", "Start remaining services"),
    ("Restart", "Stop all and start fresh"),
    ("Teardown", "Stop all services"),
    ("Abort", "Do nothing"),
];

pub async fn start(project: &Project, config: &Config, a: StartArgs) -> Result<(), CliError> {
    let client = Client::connect(project).await?;
    let req = StartRequest {
        services: a.targets.services.clone(),
        all: a.targets.all || (a.targets.services.is_empty() && !a.failed && !a.blocked),
        timeout_secs: a.flags.timeout.map(|d| d.as_secs_f64()),
        force: a.flags.force,
        no_wait: a.flags.no_wait,
        failed: a.failed,
        blocked: a.blocked,
        cause: None,
    };
    let plan = plan(&client, &req, false).await?;
    if plan.services.is_empty() {
        println!(
            "{}",
            if a.failed {
                "No failed services to start."
            } else if a.blocked {
                "No blocked services to start."
            } else {
                "Nothing to start."
            }
        );
        return Ok(());
    }
    render::state_check(&plan);
    let scope: Vec<String> = plan
        .services
        .iter()
        .map(|e| e.current.name.clone())
        .collect();
    let running = plan
        .services
        .iter()
        .filter(|e| e.current.pid.is_some())
        .count();
    let to_start = plan
        .services
        .iter()
        .filter(|e| e.action == PlanAction::Start)
        .count();
    if a.dry_run {
        let restart = a.restart && running > 0;
        let shown = if restart {
            self::plan(&client, &req, true).await?
        } else {
            plan
        };
        render::plan(&shown, restart);
        return Ok(());
    }
    let interactive = prompt::terminal()
        && !a.failure.no_interactive
        && !a.continue_
        && !a.restart
        && !a.failure.teardown_on_failure
        && !a.failure.rollback_on_failure
        && !a.failure.smart_rollback;
    let mut heading = if a.failed {
        "Starting previously failed services..."
    } else if a.blocked && a.flags.force {
        "Starting blocked services (ignoring dependencies)..."
    } else if a.blocked {
        "Starting blocked services..."
    } else {
        "Starting services..."
    };
    let all = scope.len() == config.services.len();
    let mut restarted = false;
    if a.restart && running > 0 {
        stop_scope(&client, &scope, all, true, "--restart").await?;
        heading = starting_heading(all);
        restarted = true;
    } else if running > 0 && to_start > 0 {
        let situation = format!("{running} of {} services running", plan.services.len());
        println!(
            "\nPartial system detected: {running} of {} {} running.",
            plan.services.len(),
            if running == 1 && plan.services.len() == 1 {
                "service is"
            } else {
                "services are"
            }
        );
        let choice = if interactive {
            let i = prompt::ask(PARTIAL_MENU).await?;
            record(&client, "partial system", PARTIAL_MENU[i].0, &situation).await;
            i
        } else {
            0
        };
        match choice {
            0 => {}
            1 => {
                stop_scope(&client, &scope, all, true, "restart chosen at prompt").await?;
                heading = starting_heading(all);
                restarted = true;
            }
            2 => {
                stop_scope(&client, &scope, all, false, "teardown chosen at prompt").await?;
                return Ok(());
            }
            _ => {
                println!("Aborted: nothing was changed.");
                return Err(CliError::Interrupted);
            }
        }
    }
    let running_before = if restarted {
        BTreeSet::new()
    } else {
        plan.services
            .iter()
            .filter(|e| e.current.pid.is_some())
            .map(|e| e.current.name.clone())
            .collect()
    };
    let run = Run {
        client: &client,
        graph: Graph::new(config),
        scope,
        all,
        failure: a.failure,
        interactive,
        no_wait: a.flags.no_wait,
        timeout_secs: req.timeout_secs,
        running_before,
    };
    run.start(req, heading).await
}

/// `harness restart`: stop, then start, with the same failure handling.
pub async fn restart(
    project: &Project,
    config: &Config,
    a: crate::args::RestartArgs,
) -> Result<(), CliError> {
    let client = Client::connect(project).await?;
    let all = a.targets.all || a.targets.services.is_empty();
    let req = StartRequest {
        services: a.targets.services.clone(),
        all,
        timeout_secs: a.flags.timeout.map(|d| d.as_secs_f64()),
        force: a.flags.force,
        no_wait: a.flags.no_wait,
        ..StartRequest::default()
    };
    let stop = StopRequest {
        services: a.targets.services.clone(),
        all,
        cause: Some("restart requested".into()),
        ..StopRequest::default()
    };
    let heading = if all {
        "Stopping all services..."
    } else {
        "Stopping services..."
    };
    operation::run(&client, "/v1/stop", &stop, heading, Style::Bars, false).await?;
    let scope = plan(&client, &req, false)
        .await?
        .services
        .into_iter()
        .map(|e| e.current.name)
        .collect();
    let run = Run {
        client: &client,
        graph: Graph::new(config),
        scope,
        all,
        failure: a.failure,
        interactive: prompt::terminal() && !a.failure.any(),
        no_wait: a.flags.no_wait,
        timeout_secs: req.timeout_secs,
        running_before: BTreeSet::new(),
    };
    run.start(req, starting_heading(all)).await
}

impl FailureFlags {
    /// Whether any flag answers the failure prompt.
    pub fn any(&self) -> bool {
        self.no_interactive
            || self.teardown_on_failure
            || self.rollback_on_failure
            || self.smart_rollback
    }
}

fn starting_heading(all: bool) -> &'static str {
    if all {
        "Starting all services..."
    } else {
        "Starting services..."
    }
}

async fn plan(client: &Client, req: &StartRequest, restart: bool) -> Result<Plan, CliError> {
    let body = PlanRequest {
        start: req.clone(),
        restart,
    };
    client
        .json(
            Method::POST,
            "/v1/plan",
            Some(serde_json::to_string(&body).unwrap_or_default()),
        )
        .await
}

/// Keeps a person's answer in the history. Best effort: losing the record
/// must not undo the choice.
async fn record(client: &Client, prompt: &str, answer: &str, detail: &str) {
    let c = Choice {
        prompt: prompt.into(),
        answer: answer.to_lowercase(),
        detail: detail.into(),
    };
    let body = serde_json::to_string(&c).unwrap_or_default();
    let _ = client.request(Method::POST, "/v1/choice", Some(body)).await;
}

/// Stops every service of the command's scope: with `exact` only those
/// (a restart starts exactly them again), else with what depends on them,
/// as every stop does (a teardown).
async fn stop_scope(
    client: &Client,
    scope: &[String],
    all: bool,
    exact: bool,
    why: &str,
) -> Result<(), CliError> {
    let req = StopRequest {
        services: scope.to_vec(),
        exact,
        cause: Some(why.to_string()),
        ..StopRequest::default()
    };
    let heading = if all {
        "Stopping all services..."
    } else {
        "Stopping services..."
    };
    let (s, _) = operation::run(client, "/v1/stop", &req, heading, Style::Bars, false).await?;
    println!(
        "Stopped {} in {:.1}s",
        render::count(s.stopped.len()),
        s.elapsed
    );
    Ok(())
}

/// What the failure prompt offers, in order.
const FAILURE_MENU: &[(&str, &str)] = &[
    ("Keep running", "Leave successful services running"),
    ("Teardown", "Stop all services"),
    ("Retry", "Try starting the failed services again"),
    ("Force continue", "Start remaining services anyway"),
];

/// One start and what follows a failure.
struct Run<'a> {
    client: &'a Client,
    graph: Graph,
    /// Every service the command acts on.
    scope: Vec<String>,
    /// The scope is the whole stack.
    all: bool,
    failure: FailureFlags,
    interactive: bool,
    no_wait: bool,
    /// `--timeout`, for follow-up starts.
    timeout_secs: Option<f64>,
    /// Services that had a process before this command: never "started by
    /// this command", so rollbacks leave them alone.
    running_before: BTreeSet<String>,
}

/// Phases in which a start left a process of its own running.
fn started_here(p: Phase) -> bool {
    matches!(
        p,
        Phase::Healthy | Phase::Started | Phase::Warning | Phase::TimedOut | Phase::Starting
    )
}

impl Run<'_> {
    async fn start(&self, mut req: StartRequest, heading: &str) -> Result<(), CliError> {
        let (mut s, mut last) = self.op(&req, heading).await?;
        // What this command started (rollbacks stop only these) and what
        // was running before it (left alone).
        let mut ours: BTreeSet<String> = BTreeSet::new();
        let mut existing: BTreeSet<String> = BTreeSet::new();
        loop {
            for p in last.values() {
                if self.running_before.contains(&p.service) {
                    existing.insert(p.service.clone());
                } else if started_here(p.phase) {
                    ours.insert(p.service.clone());
                } else if p.phase == Phase::Existing && !ours.contains(&p.service) {
                    existing.insert(p.service.clone());
                }
            }
            if s.success {
                return finish(&s, self.no_wait);
            }
            if self.failure.teardown_on_failure {
                return self.teardown("--teardown-on-failure").await;
            }
            if self.failure.rollback_on_failure {
                return self.rollback(&s, &ours, &existing).await;
            }
            if self.failure.smart_rollback {
                return self.smart_rollback(&s, &ours, &existing).await;
            }
            if !self.interactive {
                return fail(&s, &last);
            }
            let running = self.ordered(
                last.values()
                    .filter(|p| started_here(p.phase) || p.phase == Phase::Existing)
                    .map(|p| &p.service),
            );
            println!(
                "\nStartup failed. Currently running: {}",
                if running.is_empty() {
                    "nothing".to_string()
                } else {
                    running.join(", ")
                }
            );
            let situation = situation(&s);
            let retry = format!("Try starting '{}' again", s.failed.join("', '"));
            let menu: Vec<(&str, &str)> = FAILURE_MENU
                .iter()
                .map(|&(label, what)| {
                    if label == "Retry" && !s.failed.is_empty() {
                        (label, retry.as_str())
                    } else {
                        (label, what)
                    }
                })
                .collect();
            let choice = prompt::ask(&menu).await?;
            record(self.client, "startup failed", menu[choice].0, &situation).await;
            match choice {
                0 => return fail(&s, &last),
                1 => return self.teardown("teardown chosen at prompt").await,
                2 => {
                    req.cause = Some("retry chosen at prompt".into());
                    let heading = format!("Retrying {}...", s.failed.join(", "));
                    (s, last) = self.op(&req, &heading).await?;
                }
                _ => return self.force_continue(&s, &last).await,
            }
        }
    }

    /// Names in config order.
    fn ordered<'n>(&self, names: impl Iterator<Item = &'n String>) -> Vec<String> {
        let mut v: Vec<&String> = names.collect();
        v.sort_by_key(|n| self.graph.index(n));
        v.into_iter().cloned().collect()
    }

    async fn op(&self, req: &StartRequest, heading: &str) -> Result<(Summary, LastSeen), CliError> {
        operation::run(self.client, "/v1/start", req, heading, Style::Bars, true).await
    }

    /// Stops exactly `services` (dependents first among them), one
    /// `↶ Stopping NAME...` line each.
    async fn stop_exact(
        &self,
        services: Vec<String>,
        why: String,
        heading: &str,
    ) -> Result<(), CliError> {
        let req = StopRequest {
            services,
            exact: true,
            cause: Some(why),
            ..StopRequest::default()
        };
        operation::run(
            self.client,
            "/v1/stop",
            &req,
            heading,
            Style::Rollback,
            false,
        )
        .await?;
        Ok(())
    }

    async fn teardown(&self, why: &str) -> Result<(), CliError> {
        println!();
        stop_scope(self.client, &self.scope, self.all, false, why).await?;
        eprintln!("\nError: Startup failed, all services stopped");
        Err(CliError::ServiceFailed)
    }

    /// Stops what this command started, dependents first; what ran before
    /// it is left alone.
    async fn rollback(
        &self,
        s: &Summary,
        ours: &BTreeSet<String>,
        existing: &BTreeSet<String>,
    ) -> Result<(), CliError> {
        println!();
        if ours.is_empty() {
            println!("Nothing to roll back: this command started no service.");
        } else {
            let why = format!(
                "rollback: {} failed (--rollback-on-failure)",
                s.failed.join(", ")
            );
            self.stop_exact(
                ours.iter().cloned().collect(),
                why,
                "Rolling back due to failure...",
            )
            .await?;
        }
        if existing.is_empty() {
            eprintln!("\nError: Startup failed, all services stopped");
        } else {
            println!(
                "  Left running (already running before this command): {}",
                self.ordered(existing.iter()).join(", ")
            );
            eprintln!("\nError: Startup failed, services started by this command were stopped");
        }
        Err(CliError::ServiceFailed)
    }

    /// Keeps what does not depend on a failed service; stops what does
    /// (if this command started it) and reports what was never started.
    async fn smart_rollback(
        &self,
        s: &Summary,
        ours: &BTreeSet<String>,
        existing: &BTreeSet<String>,
    ) -> Result<(), CliError> {
        let failed: Vec<usize> = s
            .failed
            .iter()
            .filter_map(|n| self.graph.index(n))
            .collect();
        let dependents: BTreeSet<String> = self
            .graph
            .with_dependents(&failed)
            .into_iter()
            .map(|i| self.graph.name(i).to_string())
            .filter(|n| !s.failed.contains(n))
            .collect();
        let to_stop: Vec<String> = ours.intersection(&dependents).cloned().collect();
        if !to_stop.is_empty() {
            let why = format!("smart rollback: depends on failed {}", s.failed.join(", "));
            println!();
            self.stop_exact(
                to_stop.clone(),
                why,
                "Stopping dependents of the failed services...",
            )
            .await?;
        }
        let keep = self.ordered(
            ours.union(existing)
                .filter(|n| !dependents.contains(*n) && !s.failed.contains(n)),
        );
        let not_started =
            self.ordered(dependents.iter().filter(|n| {
                self.scope.contains(n) && !to_stop.contains(n) && !existing.contains(*n)
            }));
        let left = self.ordered(dependents.iter().filter(|n| existing.contains(*n)));
        let unhealthy = self.ordered(s.failed.iter().filter(|n| ours.contains(*n)));
        let to_stop = self.ordered(to_stop.iter());
        println!("\nPartial failure detected:");
        if !keep.is_empty() {
            println!("  Keeping independent services: {}", keep.join(", "));
        }
        if !to_stop.is_empty() {
            println!("  Stopped dependent services: {}", to_stop.join(", "));
        }
        if !not_started.is_empty() {
            println!(
                "  Not starting dependent services: {}",
                not_started.join(", ")
            );
        }
        if !left.is_empty() {
            println!(
                "  Left running (already running before this command): {}",
                left.join(", ")
            );
        }
        if !unhealthy.is_empty() {
            println!("  Still running, not healthy: {}", unhealthy.join(", "));
        }
        eprintln!(
            "\nError: Partial startup failure: {} failed",
            s.failed.join(", ")
        );
        Err(CliError::ServiceFailed)
    }

    /// Starts the blocked services without their dependencies, then reports
    /// the whole outcome (the failed services are still failed: exit 3).
    async fn force_continue(&self, s: &Summary, last: &LastSeen) -> Result<(), CliError> {
        if s.blocked.is_empty() {
            println!("Nothing is blocked: there is nothing more to start.");
            return fail(s, last);
        }
        let req = StartRequest {
            services: s.blocked.clone(),
            blocked: true,
            force: true,
            no_wait: self.no_wait,
            timeout_secs: self.timeout_secs,
            cause: Some("force continue chosen at prompt".into()),
            ..StartRequest::default()
        };
        let (forced, more) = self
            .op(&req, "Starting blocked services (ignoring dependencies)...")
            .await?;
        let mut all = last.clone();
        all.extend(more);
        let merged = Summary {
            started: s.started.clone(),
            warned: [s.warned.clone(), forced.warned, forced.started].concat(),
            failed: [s.failed.clone(), forced.failed].concat(),
            blocked: forced.blocked,
            ..s.clone()
        };
        fail(&merged, &all)
    }
}

/// "failed: api; blocked: worker, frontend".
fn situation(s: &Summary) -> String {
    let mut parts = Vec::new();
    if !s.failed.is_empty() {
        parts.push(format!("failed: {}", s.failed.join(", ")));
    }
    if !s.blocked.is_empty() {
        parts.push(format!("blocked: {}", s.blocked.join(", ")));
    }
    parts.join("; ")
}

/// Reports a failure as seed 000 does; exit 3.
fn fail(s: &Summary, last: &LastSeen) -> Result<(), CliError> {
    let timed_out: Vec<&harness_api::Progress> = last
        .values()
        .filter(|p| p.phase == Phase::TimedOut)
        .collect();
    render::failure_summary(s, &timed_out);
    Err(CliError::ServiceFailed)
}

fn finish(s: &Summary, no_wait: bool) -> Result<(), CliError> {
    if !s.warnings.is_empty() {
        println!();
        for w in &s.warnings {
            println!(
                "Warning: Service '{}' {}",
                w.service,
                match w.reason {
                    WarningReason::DependenciesNotHealthy => {
                        "started although its dependencies are not healthy"
                    }
                    WarningReason::NotHealthy => "started but is not healthy",
                }
            );
        }
        println!(
            "  • Check status: {hx} status\n  • View logs: {hx} logs {}",
            s.warned[0],
            hx = render::hx()
        );
    } else if no_wait {
        println!(
            "\nServices started. Check status with: {} status",
            render::hx()
        );
    } else if !s.started.is_empty() && s.existing.len() == s.started.len() {
        // Nothing was started: say what is true.
        let all = if s.started.len() == 1 { "" } else { "All " };
        let verb = if s.started.len() == 1 { "is" } else { "are" };
        println!(
            "\n{all}{} {verb} already running; nothing to start",
            render::count(s.started.len())
        );
    } else {
        // All of them are up now, some started by this command.
        println!(
            "\nAll {} started in {:.1}s",
            render::count(s.started.len()),
            s.elapsed
        );
    }
    Ok(())
}
