//! `harness health [SVC…]`: run the checks now.

use crate::args::Targets;
use crate::client::Client;
use crate::error::CliError;
use harness_api::{HealthRequest, HealthResult};
use harness_store::Project;
use hyper::Method;

pub async fn health(project: &Project, t: Targets) -> Result<(), CliError> {
    let client = Client::connect(project).await?;
    let req = HealthRequest {
        services: if t.all { Vec::new() } else { t.services },
    };
    let results: Vec<HealthResult> = client
        .json(
            Method::POST,
            "/v1/health",
            Some(serde_json::to_string(&req).unwrap_or_default()),
        )
        .await?;
    let width = results.iter().map(|r| r.service.len()).max().unwrap_or(0);
    for r in &results {
        let mark = if r.healthy { "✓" } else { "✗" };
        println!(
            "  {mark} {:<width$}  {} ({}ms)",
            r.service, r.detail, r.took_ms
        );
    }
    if results.iter().all(|r| r.healthy) {
        Ok(())
    } else {
        Err(CliError::ServiceFailed)
    }
}
