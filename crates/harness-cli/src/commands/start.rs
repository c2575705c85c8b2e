//! `harness start` and `harness restart`: check the current state, decide
//! what to do about a partial system (a prompt on a terminal, flags
//! otherwise), then start; what follows a failure is in `failure.rs`.

use super::failure::StartSession;
use super::operation::{self, Show};
use crate::args::{FailureFlags, RestartArgs, StartArgs};
use crate::client::Client;
use crate::error::CliError;
use crate::prompt::{self, Answer};
use crate::render::{self, Style};
use harness_api::{
    Choice, OnFailure, Plan, PlanAction, PlanRequest, StartRequest, Status, StopRequest,
};
use harness_core::config::Config;
use harness_core::graph::Graph;
use harness_store::Project;
use hyper::Method;

/// The answers of seed 000's pre-start prompt, in the order shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OnPartial {
    Continue,
    Restart,
    Teardown,
    Abort,
}

impl Answer for OnPartial {
    fn label(self) -> &'static str {
        match self {
            OnPartial::Continue => "Continue",
            OnPartial::Restart => "Restart",
            OnPartial::Teardown => "Teardown",
            OnPartial::Abort => "Abort",
        }
    }
}

impl OnPartial {
    fn menu() -> Vec<(OnPartial, String)> {
        [
            (OnPartial::Continue, "Start remaining services"),
            (OnPartial::Restart, "Stop all and start fresh"),
            (OnPartial::Teardown, "Stop all services"),
            (OnPartial::Abort, "Do nothing"),
        ]
        .into_iter()
        .map(|(a, what)| (a, what.to_string()))
        .collect()
    }
}

pub async fn start(project: &Project, config: &Config, a: StartArgs) -> Result<(), CliError> {
    let client = Client::connect(project).await?;
    let interactive = prompt::terminal() && !a.failure.any() && !a.continue_ && !a.restart;
    let req = start_request(&a);
    let plan = plan(&client, &req, false).await?;
    if plan.services.is_empty() {
        println!("{}", nothing_to_start(&a));
        return Ok(());
    }
    render::state_check(&plan);
    let scope: Vec<String> = plan
        .services
        .iter()
        .map(|e| e.current.name.clone())
        .collect();
    // What runs outside harness is asked about on its own, not as part
    // of a partial system.
    let outside: Vec<String> = plan
        .services
        .iter()
        .filter(|e| e.current.status == Status::External)
        .map(|e| e.current.name.clone())
        .collect();
    let running = plan
        .services
        .iter()
        .filter(|e| e.current.pid.is_some() && e.current.status != Status::External)
        .count();
    if a.dry_run {
        return dry_run(&client, &req, plan, a.restart && running > 0).await;
    }
    if !outside.is_empty() {
        let asked = match a.targets.services.as_slice() {
            [] => "the rest".to_string(),
            names => names.join(", "),
        };
        let ask = prompt::terminal() && !a.failure.no_interactive;
        super::outside::settle(&client, &a.outside, &outside, &asked, ask).await?;
    }
    let all = scope.len() == config.services.len();
    let mut heading = starting_what(&a);
    let mut running_before = running_in(&plan);
    match on_partial(&client, &a, &plan, running, interactive).await? {
        None | Some(OnPartial::Continue) => {}
        Some(OnPartial::Restart) => {
            running_before.clear();
            let why = if a.restart {
                "--restart"
            } else {
                "restart chosen at prompt"
            };
            stop_scope(&client, &scope, all, true, why).await?;
            heading = starting_heading(all);
        }
        Some(OnPartial::Teardown) => {
            stop_scope(&client, &scope, all, false, "teardown chosen at prompt").await?;
            return Ok(());
        }
        Some(OnPartial::Abort) => {
            println!("Aborted: nothing was changed.");
            return Err(CliError::Interrupted);
        }
    }
    let session = StartSession {
        client: &client,
        graph: Graph::new(config),
        scope,
        all,
        interactive,
        no_wait: a.flags.no_wait,
        timeout_secs: req.timeout_secs,
        older: older_in(&plan),
        running_before,
    };
    session.start(req, heading).await
}

/// The services of `plan` that run an older definition than the file's.
fn older_in(plan: &Plan) -> Vec<String> {
    plan.services
        .iter()
        .filter(|e| !e.current.changes.is_empty() && !e.current.removed_from_file)
        .map(|e| e.current.name.clone())
        .collect()
}

/// The services of `plan` that have a process: running before the command.
fn running_in(plan: &Plan) -> Vec<String> {
    plan.services
        .iter()
        .filter(|e| e.current.pid.is_some())
        .map(|e| e.current.name.clone())
        .collect()
}

/// The request `start`'s arguments make.
fn start_request(a: &StartArgs) -> StartRequest {
    StartRequest {
        services: a.targets.services.clone(),
        all: a.targets.all || (a.targets.services.is_empty() && !a.failed && !a.blocked),
        timeout_secs: a.flags.timeout.map(|d| d.as_secs_f64()),
        force: a.flags.force,
        no_wait: a.flags.no_wait,
        failed: a.failed,
        blocked: a.blocked,
        cause: None,
        on_failure: a.failure.on_failure(),
    }
}

/// `start --dry-run`: the plan (as if the scope were stopped first, with
/// `--restart`), and nothing changed.
async fn dry_run(
    client: &Client,
    req: &StartRequest,
    plan: Plan,
    restart: bool,
) -> Result<(), CliError> {
    let shown = if restart {
        self::plan(client, req, true).await?
    } else {
        plan
    };
    render::plan(&shown, restart);
    Ok(())
}

/// What `start` says when its scope is empty.
fn nothing_to_start(a: &StartArgs) -> &'static str {
    if a.failed {
        "No failed services to start."
    } else if a.blocked {
        "No blocked services to start."
    } else {
        "Nothing to start."
    }
}

/// The heading of a start that stopped nothing first.
fn starting_what(a: &StartArgs) -> &'static str {
    if a.failed {
        "Starting previously failed services..."
    } else if a.blocked && a.flags.force {
        "Starting blocked services (ignoring dependencies)..."
    } else if a.blocked {
        "Starting blocked services..."
    } else {
        "Starting services..."
    }
}

/// What to do before starting, with `running` of the plan's services
/// running: `--restart` with something running stops
/// the scope first; a partial system (some running, some to start) is
/// reported and asked about; else nothing.
async fn on_partial(
    client: &Client,
    a: &StartArgs,
    plan: &Plan,
    running: usize,
    interactive: bool,
) -> Result<Option<OnPartial>, CliError> {
    let to_start = plan
        .services
        .iter()
        .filter(|e| e.action == PlanAction::Start)
        .count();
    Ok(if a.restart && running > 0 {
        Some(OnPartial::Restart)
    } else if running > 0 && to_start > 0 {
        Some(partial(client, running, plan.services.len(), interactive).await?)
    } else {
        None
    })
}

/// Seed 000's partial-system report, and what to do about it: asked on a
/// terminal, "continue" otherwise.
async fn partial(
    client: &Client,
    running: usize,
    of: usize,
    interactive: bool,
) -> Result<OnPartial, CliError> {
    let verb = if running == 1 && of == 1 {
        "service is"
    } else {
        "services are"
    };
    println!("\nPartial system detected: {running} of {of} {verb} running.");
    if !interactive {
        return Ok(OnPartial::Continue);
    }
    let answer = prompt::ask(&OnPartial::menu()).await?;
    let situation = format!("{running} of {of} services running");
    record(client, "partial system", answer.label(), &situation).await;
    Ok(answer)
}

/// `harness restart`: stop, then start, with the same failure handling.
pub async fn restart(project: &Project, config: &Config, a: RestartArgs) -> Result<(), CliError> {
    let client = Client::connect(project).await?;
    let all = a.targets.all || a.targets.services.is_empty();
    let req = StartRequest {
        services: a.targets.services.clone(),
        all,
        timeout_secs: a.flags.timeout.map(|d| d.as_secs_f64()),
        force: a.flags.force,
        no_wait: a.flags.no_wait,
        on_failure: a.failure.on_failure(),
        ..StartRequest::default()
    };
    let stop = StopRequest {
        services: a.targets.services.clone(),
        all,
        cause: Some("restart requested".into()),
        ..StopRequest::default()
    };
    let show = Show {
        heading: render::stopping_heading(all),
        style: Style::Bars,
        interruptible: false,
        all,
    };
    operation::run(&client, "/v1/stop", &stop, show).await?;
    let after_stop = plan(&client, &req, false).await?;
    let running_before = running_in(&after_stop);
    let older = older_in(&after_stop);
    let scope = after_stop
        .services
        .into_iter()
        .map(|e| e.current.name)
        .collect();
    let session = StartSession {
        client: &client,
        graph: Graph::new(config),
        scope,
        all,
        interactive: prompt::terminal() && !a.failure.any(),
        no_wait: a.flags.no_wait,
        timeout_secs: req.timeout_secs,
        older,
        running_before,
    };
    session.start(req, starting_heading(all)).await
}

impl FailureFlags {
    /// Whether any flag answers the failure prompt.
    pub fn any(&self) -> bool {
        self.no_interactive
            || self.teardown_on_failure
            || self.rollback_on_failure
            || self.smart_rollback
    }

    /// The policy the flags ask the daemon to carry out on a failure.
    pub fn on_failure(&self) -> OnFailure {
        if self.teardown_on_failure {
            OnFailure::Teardown
        } else if self.rollback_on_failure {
            OnFailure::Rollback
        } else if self.smart_rollback {
            OnFailure::SmartRollback
        } else {
            OnFailure::Keep
        }
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
pub(super) async fn record(client: &Client, prompt: &str, answer: &str, detail: &str) {
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
pub(super) async fn stop_scope(
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
    let show = Show {
        heading: render::stopping_heading(all),
        style: Style::Bars,
        interruptible: false,
        all,
    };
    let (s, _) = operation::run(client, "/v1/stop", &req, show).await?;
    println!("{}", render::stopped(s.stopped.len(), s.elapsed));
    Ok(())
}
