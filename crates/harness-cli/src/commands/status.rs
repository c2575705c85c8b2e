//! `harness status [SVC…] [--json] [--history]`.

use crate::args::StatusArgs;
use crate::client::Client;
use crate::error::CliError;
use crate::render;
use harness_api::{Health, HistoryEntry, StatusReport};
use harness_store::Project;
use hyper::Method;

pub async fn status(project: &Project, a: StatusArgs) -> Result<(), CliError> {
    let client = Client::connect(project).await?;
    if a.history {
        let path = match a.services.as_slice() {
            [one] => format!("/v1/history?service={one}"),
            _ => "/v1/history".to_string(),
        };
        let rows: Vec<HistoryEntry> = client.json(hyper::Method::GET, &path, None).await?;
        let rows: Vec<HistoryEntry> = rows
            .into_iter()
            .filter(|r| a.services.is_empty() || a.services.contains(&r.service))
            .collect();
        if a.json {
            println!(
                "{}",
                serde_json::to_string_pretty(&rows).unwrap_or_default()
            );
        } else {
            render::history(&rows);
        }
        return Ok(());
    }
    let mut report: StatusReport = client.json(Method::GET, "/v1/status", None).await?;
    for name in &a.services {
        if !report.services.iter().any(|s| &s.name == name) {
            let names: Vec<&str> = report.services.iter().map(|s| s.name.as_str()).collect();
            return Err(CliError::Usage(format!(
                "unknown service `{name}`; services are: {}",
                names.join(", ")
            )));
        }
    }
    if !a.services.is_empty() {
        report.services.retain(|s| a.services.contains(&s.name));
    }
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).unwrap_or_default()
        );
    } else {
        render::status(&report);
    }
    // As `systemctl status` does, and as every other command: a script
    // that asks must not read 0 while a service it shows has failed.
    let failed = report
        .services
        .iter()
        .any(|s| matches!(s.health, Health::Failed | Health::Blocked));
    match failed {
        true => Err(CliError::ServiceFailed),
        false => Ok(()),
    }
}
