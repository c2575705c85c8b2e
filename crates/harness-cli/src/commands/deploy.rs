//! `harness deploy [SVC…] [--dry-run [--detailed-exitcode]] [--no-prune]`:
//! the plan first, then the deploy's events as they stream in.

use crate::args::{DeployArgs, DeployCommand, RollbackArgs};
use crate::client::{Client, SseReader};
use crate::error::CliError;
use crate::render;
use harness_api::{
    DEPLOY_HEADER, DeployEvent, DeployPlan, DeployRecord, DeployRequest, RollbackRequest,
};
use harness_store::Project;
use hyper::Method;

pub async fn deploy(project: &Project, a: DeployArgs) -> Result<(), CliError> {
    let client = Client::connect(project).await?;
    match a.command {
        Some(DeployCommand::History { json }) => return history(&client, json).await,
        Some(DeployCommand::Status { id, json }) => return status(&client, id, json).await,
        None => {}
    }
    let mut req = DeployRequest {
        services: a.services.clone(),
        no_prune: a.no_prune,
        plan: None,
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
    // What runs must be what was printed: the daemon refuses the deploy if
    // its plan is no longer this one.
    req.plan = Some(plan.digest.clone());
    let body = serde_json::to_string(&req).unwrap_or_default();
    let resp = client
        .request(Method::POST, "/v1/deploy", Some(body))
        .await?;
    let id = deploy_id(&resp);
    println!("Deploying (deploy {id})...");
    follow(&client, resp, render::event_width(&plan), &id).await
}

/// `harness rollback SVC [--to VERSION]`: an earlier version of one
/// service, deployed (health gate, revert, events and exit codes as a
/// deploy's).
pub async fn rollback(project: &Project, a: RollbackArgs) -> Result<(), CliError> {
    let client = Client::connect(project).await?;
    let req = RollbackRequest {
        service: a.service.clone(),
        to: a.to.clone(),
    };
    let body = serde_json::to_string(&req).unwrap_or_default();
    let resp = client
        .request(Method::POST, "/v1/rollback", Some(body))
        .await?;
    let id = deploy_id(&resp);
    let to = a.to.as_deref().unwrap_or("its previous version");
    println!("Rolling back {} to {to} (deploy {id})...", a.service);
    follow(&client, resp, a.service.len() + 1, &id).await
}

/// The deploy id a `POST /v1/deploy` or `/v1/rollback` answer names.
fn deploy_id(resp: &hyper::Response<hyper::body::Incoming>) -> String {
    resp.headers()
        .get(DEPLOY_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("?")
        .to_string()
}

/// Prints a deploy's events to its `done`; the exit code follows from it.
async fn follow(
    client: &Client,
    resp: hyper::Response<hyper::body::Incoming>,
    width: usize,
    id: &str,
) -> Result<(), CliError> {
    let mut events = SseReader::new(resp);
    let mut cancelled = false;
    loop {
        let lost = |why: String| -> CliError {
            anyhow::anyhow!(
                "the daemon went away before deploy {id} finished ({why}); `{} deploy status \
                 {id}` shows where it stands (the next daemon marks it interrupted and \
                 finishes its removals)",
                render::hx()
            )
            .into()
        };
        let next = tokio::select! {
            e = events.next() => e.map_err(|e| lost(e.to_string()))?,
            _ = tokio::signal::ctrl_c() => {
                if !cancelled {
                    // First Ctrl-C: no further service begins; the ones
                    // under way finish or go back, and we wait for them.
                    cancelled = true;
                    let path = format!("/v1/deploys/{id}/cancel");
                    let asked = client.request(Method::POST, &path, None).await;
                    eprintln!(
                        "interrupted: no further service begins; waiting for the ones under \
                         way (Ctrl-C again to stop waiting){}",
                        asked.err().map(|e| format!(" [{e}]")).unwrap_or_default()
                    );
                    continue;
                }
                eprintln!(
                    "interrupted: deploy {id} goes on in the daemon (it is never left half \
                     done); `{} deploy status {id}` shows where it stands",
                    render::hx()
                );
                return Err(CliError::Interrupted);
            }
        };
        let Some((name, data)) = next else {
            return Err(lost("it closed the stream".into()));
        };
        let event = DeployEvent::parse(&name, &data).map_err(|e| {
            anyhow::anyhow!("the daemon sent an event this harness cannot read: {e}")
        })?;
        match event {
            Some(DeployEvent::Done(done)) => {
                render::deploy_done(&done);
                return match (cancelled, done.success) {
                    (true, _) => Err(CliError::Interrupted),
                    (false, true) => Ok(()),
                    (false, false) => Err(CliError::ServiceFailed),
                };
            }
            Some(e) => render::deploy_event(&e, width),
            None => {} // an event a newer daemon sends
        }
    }
}

/// `harness deploy history [--json]`.
async fn history(client: &Client, json: bool) -> Result<(), CliError> {
    let rows: Vec<DeployRecord> = client.json(Method::GET, "/v1/deploys", None).await?;
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&rows).unwrap_or_default()
        );
    } else {
        render::deploy_history(&rows);
    }
    Ok(())
}

/// `harness deploy status [ID] [--json]`: the last deploy by default.
async fn status(client: &Client, id: Option<u64>, json: bool) -> Result<(), CliError> {
    let record: DeployRecord = match id {
        Some(id) => {
            client
                .json(Method::GET, &format!("/v1/deploys/{id}"), None)
                .await?
        }
        None => {
            let rows: Vec<DeployRecord> = client
                .json(Method::GET, "/v1/deploys?limit=1", None)
                .await?;
            rows.into_iter()
                .next()
                .ok_or_else(|| CliError::Usage("no deploy has run here yet".into()))?
        }
    };
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&record).unwrap_or_default()
        );
    } else {
        render::deploy_record(&record);
    }
    Ok(())
}
