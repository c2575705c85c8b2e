//! `harness start [SVC…|--all] [--timeout S] [--force] [--no-wait]`.

use super::operation::{self, LastSeen};
use crate::args::StartArgs;
use crate::client::Client;
use crate::error::CliError;
use crate::render;
use harness_api::{Phase, StartRequest, Summary};
use harness_store::Project;

pub async fn start(project: &Project, a: StartArgs) -> Result<(), CliError> {
    let client = Client::connect(project).await?;
    let req = StartRequest {
        services: a.targets.services.clone(),
        all: a.targets.all || a.targets.services.is_empty(),
        timeout_secs: a.timeout.map(|d| d.as_secs_f64()),
        force: a.force,
        no_wait: a.no_wait,
    };
    let (s, last) =
        operation::run(&client, "/v1/start", &req, "Starting services...", true).await?;
    finish(&a, &s, &last)
}

fn finish(a: &StartArgs, s: &Summary, last: &LastSeen) -> Result<(), CliError> {
    let timed_out: Vec<&harness_api::Progress> = last
        .values()
        .filter(|p| p.phase == Phase::TimedOut)
        .collect();
    if s.success {
        if !s.warned.is_empty() {
            println!();
            for w in &s.warned {
                let detail = last.get(w).map(|p| p.detail.as_str()).unwrap_or("");
                println!(
                    "Warning: Service '{w}' {}",
                    if detail.contains("deps") {
                        "started although its dependencies are not healthy"
                    } else {
                        "started but is not healthy"
                    }
                );
            }
            println!(
                "  • Check status: {hx} status\n  • View logs: {hx} logs {}",
                s.warned[0],
                hx = render::hx()
            );
        } else if a.no_wait {
            println!(
                "\nServices started. Check status with: {} status",
                render::hx()
            );
        } else {
            println!(
                "\nAll {} started in {:.1}s",
                render::count(s.started.len()),
                s.elapsed
            );
        }
        return Ok(());
    }
    render::failure_summary(s, &timed_out);
    Err(CliError::ServiceFailed)
}
