//! `harness deploy [SVC…] [--dry-run [--detailed-exitcode]] [--no-prune]`:
//! the plan first, then the deploy's events as they stream in.

use crate::args::DeployArgs;
use crate::client::{Client, SseReader};
use crate::error::CliError;
use crate::render;
use harness_api::{DEPLOY_HEADER, DeployEvent, DeployPlan, DeployRequest};
use harness_store::Project;
use hyper::Method;

pub async fn deploy(project: &Project, a: DeployArgs) -> Result<(), CliError> {
    let client = Client::connect(project).await?;
    let req = DeployRequest {
        services: a.services.clone(),
        no_prune: a.no_prune,
    };
    let body = serde_json::to_string(&req).unwrap_or_default();
    let plan: DeployPlan = client
        .json(Method::POST, "/v1/deploy/plan", Some(body.clone()))
        .await?;
    let file = project
        .config
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_else(|| project.config.display().to_string());
    render::deploy_plan(&plan, &file, a.no_prune);
    if a.dry_run {
        return match a.detailed_exitcode && plan.pending {
            true => Err(CliError::Pending),
            false => Ok(()),
        };
    }
    if !plan.pending {
        return Ok(());
    }
    let resp = client
        .request(Method::POST, "/v1/deploy", Some(body))
        .await?;
    let id = resp
        .headers()
        .get(DEPLOY_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("?")
        .to_string();
    println!("Deploying (deploy {id})...");
    let width = render::event_width(&plan);
    let mut events = SseReader::new(resp);
    loop {
        let next = tokio::select! {
            e = events.next() => e?,
            _ = tokio::signal::ctrl_c() => {
                eprintln!(
                    "interrupted: deploy {id} goes on in the daemon (it is never left half \
                     done); `{} status` shows where it stands",
                    render::hx()
                );
                return Err(CliError::Interrupted);
            }
        };
        let Some((name, data)) = next else {
            return Err(anyhow::anyhow!(
                "the daemon closed the stream before deploy {id} finished"
            )
            .into());
        };
        let event = DeployEvent::parse(&name, &data).map_err(|e| {
            anyhow::anyhow!("the daemon sent an event this harness cannot read: {e}")
        })?;
        match event {
            Some(DeployEvent::Done(done)) => {
                render::deploy_done(&done);
                return match done.success {
                    true => Ok(()),
                    false => Err(CliError::ServiceFailed),
                };
            }
            Some(e) => render::deploy_event(&e, width),
            None => {} // an event a newer daemon sends
        }
    }
}
