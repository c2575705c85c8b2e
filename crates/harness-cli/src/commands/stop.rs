//! `harness stop [SVC…|--all]`.

use crate::args::Targets;
use crate::client::{Client, SseReader};
use crate::error::CliError;
use crate::render::Progress;
use harness_api::{StopRequest, Summary};
use harness_store::Project;
use hyper::Method;

/// Stops services (and what depends on them).
pub async fn stop(project: &Project, t: &Targets) -> Result<(), CliError> {
    let client = Client::connect(project).await?;
    let req = StopRequest {
        services: t.services.clone(),
        all: t.all || t.services.is_empty(),
    };
    let resp = client
        .request(
            Method::POST,
            "/v1/stop",
            Some(serde_json::to_string(&req).unwrap_or_default()),
        )
        .await?;
    println!("Stopping services...");
    let mut progress = Progress::new();
    let mut events = SseReader::new(resp);
    while let Some((event, data)) = events.next().await? {
        match event.as_str() {
            "progress" => {
                if let Ok(p) = serde_json::from_str(&data) {
                    progress.update(&p);
                }
            }
            "done" => {
                let s: Summary = serde_json::from_str(&data).unwrap_or_default();
                progress.finish();
                println!("Stopped {} in {:.1}s", plural(s.stopped.len()), s.elapsed);
                return Ok(());
            }
            _ => {}
        }
    }
    Err(anyhow::anyhow!("the daemon closed the stream before the stop finished").into())
}

fn plural(n: usize) -> String {
    if n == 1 {
        "1 service".into()
    } else {
        format!("{n} services")
    }
}
