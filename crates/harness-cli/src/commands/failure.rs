//! One start and what follows its failure: the report of what the daemon's
//! `on_failure` policy did, or (on a terminal, with no flag) seed 000's
//! failure prompt.

use super::operation::{self, LastSeen, Show};
use super::start::{record, stop_scope};
use crate::client::Client;
use crate::error::CliError;
use crate::prompt::{self, Answer};
use crate::render::{self, Style};
use harness_api::{OnFailure, Phase, Recovery, StartRequest, Summary};
use harness_core::graph::Graph;

/// The answers of the failure prompt, in the order shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OnFailed {
    KeepRunning,
    Teardown,
    Retry,
    ForceContinue,
}

impl Answer for OnFailed {
    fn label(self) -> &'static str {
        match self {
            OnFailed::KeepRunning => "Keep running",
            OnFailed::Teardown => "Teardown",
            OnFailed::Retry => "Retry",
            OnFailed::ForceContinue => "Force continue",
        }
    }
}

impl OnFailed {
    /// The menu; "Retry" names what it retries.
    fn menu(failed: &[String]) -> Vec<(OnFailed, String)> {
        let retry = if failed.is_empty() {
            "Try starting the failed services again".to_string()
        } else {
            format!("Try starting '{}' again", failed.join("', '"))
        };
        vec![
            (
                OnFailed::KeepRunning,
                "Leave successful services running".into(),
            ),
            (OnFailed::Teardown, "Stop all services".into()),
            (OnFailed::Retry, retry),
            (
                OnFailed::ForceContinue,
                "Start remaining services anyway".into(),
            ),
        ]
    }
}

/// One start and what follows a failure.
pub(super) struct StartSession<'a> {
    pub client: &'a Client,
    pub graph: Graph,
    /// Every service the command acts on.
    pub scope: Vec<String>,
    /// The scope is the whole stack.
    pub all: bool,
    pub interactive: bool,
    pub no_wait: bool,
    /// `--timeout`, for follow-up starts.
    pub timeout_secs: Option<f64>,
    /// What ran before the command: of what a start used as it was, only
    /// these were not started by the command (a retry's are).
    pub running_before: Vec<String>,
    /// Services that ran an older definition than the file's: a start uses
    /// them as they are, and says how to run the file's.
    pub older: Vec<String>,
}

/// Phases in which a start left a process of its own running.
fn started_here(p: Phase) -> bool {
    matches!(
        p,
        Phase::Healthy | Phase::Started | Phase::Warning | Phase::TimedOut | Phase::Starting
    )
}

impl StartSession<'_> {
    pub async fn start(&self, mut req: StartRequest, heading: &str) -> Result<(), CliError> {
        let (mut s, mut last) = self.op(&req, heading).await?;
        loop {
            if s.success {
                finish(&s, self.no_wait, &self.running_before)?;
                if !self.older.is_empty() {
                    println!(
                        "  • Run the file's definition of {}: {} deploy {}",
                        self.older.join(", "),
                        render::hx(),
                        self.older.join(" ")
                    );
                }
                return Ok(());
            }
            if let Some(r) = &s.recovery {
                return recovered(&s, r);
            }
            if req.on_failure != OnFailure::Keep {
                // A daemon from an older harness, still running after an
                // upgrade, ignores `on_failure`: say so rather than let
                // the flag pass as done.
                let _ = fail(&s, &last);
                eprintln!(
                    "\nError: the running daemon did not carry out the failure policy \
                     ({}); it may be an older harness: run `{} daemon stop` and start again",
                    policy_flag(req.on_failure),
                    render::hx()
                );
                return Err(CliError::ServiceFailed);
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
            let answer = prompt::ask(&OnFailed::menu(&s.failed)).await?;
            record(
                self.client,
                "startup failed",
                answer.label(),
                &situation(&s),
            )
            .await;
            match answer {
                OnFailed::KeepRunning => return fail(&s, &last),
                OnFailed::Teardown => return self.teardown().await,
                OnFailed::Retry => {
                    req.cause = Some("retry chosen at prompt".into());
                    let heading = format!("Retrying {}...", s.failed.join(", "));
                    (s, last) = self.op(&req, &heading).await?;
                }
                OnFailed::ForceContinue => return self.force_continue(&s, &last).await,
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
        let show = Show {
            heading,
            style: Style::Bars,
            interruptible: true,
            all: self.all,
        };
        operation::run(self.client, "/v1/start", req, show).await
    }

    /// The prompt's teardown: a stop of the whole scope.
    async fn teardown(&self) -> Result<(), CliError> {
        println!();
        stop_scope(
            self.client,
            &self.scope,
            self.all,
            false,
            "teardown chosen at prompt",
        )
        .await?;
        eprintln!("\nError: Startup failed, all services stopped");
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

/// The flag that asks for `policy`.
fn policy_flag(policy: OnFailure) -> &'static str {
    match policy {
        OnFailure::Keep => "--no-interactive",
        OnFailure::Teardown => "--teardown-on-failure",
        OnFailure::Rollback => "--rollback-on-failure",
        OnFailure::SmartRollback => "--smart-rollback",
    }
}

/// Reports what the daemon's `on_failure` policy did; exit 3.
fn recovered(s: &Summary, r: &Recovery) -> Result<(), CliError> {
    if r.policy == OnFailure::Keep {
        return fail(s, &LastSeen::new());
    }
    render::recovery(s, r);
    Err(CliError::ServiceFailed)
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

/// Reports a start that succeeded; exit 0.
fn finish(s: &Summary, no_wait: bool, running_before: &[String]) -> Result<(), CliError> {
    let already: Vec<String> = s
        .existing
        .iter()
        .filter(|n| running_before.contains(n))
        .cloned()
        .collect();
    render::success(s, no_wait, &already);
    Ok(())
}
