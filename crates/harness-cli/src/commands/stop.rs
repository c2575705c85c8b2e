//! `harness stop [SVC…|--all]`.

use super::operation;
use crate::args::Targets;
use crate::client::Client;
use crate::error::CliError;
use crate::render::{self, Style};
use harness_api::StopRequest;
use harness_store::Project;

/// Stops services (and what depends on them).
pub async fn stop(project: &Project, t: &Targets) -> Result<(), CliError> {
    let client = Client::connect(project).await?;
    let req = StopRequest {
        services: t.services.clone(),
        all: t.all || t.services.is_empty(),
        ..StopRequest::default()
    };
    let heading = if req.all {
        "Stopping all services..."
    } else {
        "Stopping services..."
    };
    let (s, _) = operation::run(&client, "/v1/stop", &req, heading, Style::Bars, false).await?;
    println!(
        "Stopped {} in {:.1}s",
        render::count(s.stopped.len()),
        s.elapsed
    );
    Ok(())
}
