//! `harness jobs status|history|logs|mark|cancel`: where jobs stand, their
//! runs, an attempt's output, a step counted as completed, a run cancelled.

use crate::args::JobsCommand;
use crate::client::Client;
use crate::error::CliError;
use crate::render;
use harness_api::{JobMarkRequest, JobRecord, JobRunEntry};
use harness_store::Project;
use hyper::Method;

pub async fn jobs(project: &Project, command: JobsCommand) -> Result<(), CliError> {
    let client = Client::connect(project).await?;
    match command {
        JobsCommand::Status { job, json } => {
            let records: Vec<JobRecord> = match &job {
                Some(name) => vec![
                    client
                        .json(Method::GET, &format!("/v1/jobs/{name}"), None)
                        .await?,
                ],
                None => client.json(Method::GET, "/v1/jobs", None).await?,
            };
            if json {
                let text = match job {
                    Some(_) => serde_json::to_string_pretty(&records[0]),
                    None => serde_json::to_string_pretty(&records),
                };
                println!("{}", text.unwrap_or_default());
            } else {
                render::job_table(&records);
            }
            let stuck = records
                .iter()
                .any(|r| matches!(r.status.as_str(), "failed" | "needs_decision"));
            match stuck {
                true => Err(CliError::ServiceFailed),
                false => Ok(()),
            }
        }
        JobsCommand::History { job, json } => {
            let rows: Vec<JobRunEntry> = client
                .json(Method::GET, &format!("/v1/jobs/{job}/runs"), None)
                .await?;
            match json {
                true => println!(
                    "{}",
                    serde_json::to_string_pretty(&rows).unwrap_or_default()
                ),
                false => render::job_history(&job, &rows),
            }
            Ok(())
        }
        JobsCommand::Logs {
            job,
            step,
            attempt,
            tail,
            follow,
        } => {
            let mut path = format!("/v1/jobs/{job}/logs/{step}?follow={follow}");
            if let Some(n) = attempt {
                path.push_str(&format!("&attempt={n}"));
            }
            if let Some(n) = tail {
                path.push_str(&format!("&tail={n}"));
            }
            super::logs::print_stream(&client, &path).await
        }
        JobsCommand::Mark {
            job, step, reason, ..
        } => {
            let body = serde_json::to_string(&JobMarkRequest {
                step: step.clone(),
                reason,
            })
            .unwrap_or_default();
            let path = format!("/v1/jobs/{job}/mark");
            client.request(Method::POST, &path, Some(body)).await?;
            println!(
                "Marked {step} of job {job} completed; `{} run {job}` goes on after it.",
                render::hx()
            );
            Ok(())
        }
        JobsCommand::Cancel { job } => {
            let path = format!("/v1/jobs/{job}/cancel");
            client.request(Method::POST, &path, None).await?;
            println!("Cancelling job {job}: the step under way is stopped.");
            Ok(())
        }
    }
}
