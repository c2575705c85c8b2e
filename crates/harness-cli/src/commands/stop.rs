//! `harness stop [SVC…|--all]`.

use super::operation::{self, Show};
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
    let show = Show {
        heading: render::stopping_heading(req.all),
        style: Style::Bars,
        interruptible: false,
        all: req.all,
    };
    let (s, _) = operation::run(&client, "/v1/stop", &req, show).await?;
    println!("{}", render::stopped(s.stopped.len(), s.elapsed));
    for name in &s.left_running {
        println!("{name} is external: left running");
    }
    Ok(())
}
