//! `harness run JOB [--from STEP | --restart] [--no-wait]` and `harness
//! jobs status|cancel`. A run goes on in the daemon whatever happens to
//! this command: Ctrl-C interrupts it (the step under way runs to its end,
//! no further one begins) and exits 130.

use crate::args::{JobsCommand, RunArgs};
use crate::client::{Client, SseReader};
use crate::error::CliError;
use crate::render;
use harness_api::{JobEvent, JobRecord, JobRunRequest};
use harness_store::Project;
use hyper::Method;

pub async fn run(project: &Project, a: RunArgs) -> Result<(), CliError> {
    let client = Client::connect(project).await?;
    let req = JobRunRequest {
        from: a.from.clone(),
        restart: a.restart,
    };
    let body = serde_json::to_string(&req).unwrap_or_default();
    let path = format!("/v1/jobs/{}/run", a.job);
    let resp = client.request(Method::POST, &path, Some(body)).await?;
    let mut events = SseReader::new(resp);
    let (mut total, mut width) = (0, 0);
    loop {
        let lost = |why: String| -> CliError {
            anyhow::anyhow!(
                "the daemon went away before job {} finished ({why}); `{} jobs status {}` \
                 shows where it stands",
                a.job,
                render::hx(),
                a.job
            )
            .into()
        };
        let next = tokio::select! {
            e = events.next() => e.map_err(|e| lost(e.to_string()))?,
            _ = tokio::signal::ctrl_c() => return interrupt(&client, &a.job).await,
        };
        let Some((name, data)) = next else {
            return Err(lost("it closed the stream".into()));
        };
        let event = JobEvent::parse(&name, &data).map_err(|e| {
            anyhow::anyhow!("the daemon sent an event this harness cannot read: {e}")
        })?;
        match event {
            Some(JobEvent::Plan(plan)) => {
                render::job_plan(&plan);
                (total, width) = (plan.steps.len(), render::step_width(&plan));
                if a.no_wait {
                    println!(
                        "Running in the daemon; `{} jobs status {}` shows where it stands.",
                        render::hx(),
                        a.job
                    );
                    return Ok(());
                }
            }
            Some(JobEvent::Step(e)) => render::step_event(&e, total, width),
            Some(JobEvent::Done(done)) => {
                render::job_done(&a.job, &done);
                return match done.success {
                    true => Ok(()),
                    false => Err(CliError::ServiceFailed),
                };
            }
            None => {} // an event a newer daemon sends
        }
    }
}

/// Ctrl-C: the run is told to begin no further attempt; the one under way
/// keeps running.
async fn interrupt(client: &Client, job: &str) -> Result<(), CliError> {
    let path = format!("/v1/jobs/{job}/interrupt");
    let asked = client.request(Method::POST, &path, None).await;
    eprintln!(
        "interrupted: the step under way runs to its end, no further step starts; `{} jobs \
         status {job}` shows where it stands{}",
        render::hx(),
        asked.err().map(|e| format!(" [{e}]")).unwrap_or_default()
    );
    Err(CliError::Interrupted)
}

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
        JobsCommand::Cancel { job } => {
            let path = format!("/v1/jobs/{job}/cancel");
            client.request(Method::POST, &path, None).await?;
            println!("Cancelling job {job}: the step under way is stopped.");
            Ok(())
        }
    }
}
