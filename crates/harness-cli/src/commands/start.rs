//! `harness start [SVC…|--all] [--timeout S] [--force] [--no-wait]`.

use crate::args::StartArgs;
use crate::client::{Client, SseReader};
use crate::error::CliError;
use crate::render::{self, Progress};
use harness_api::{Phase, StartRequest, Summary};
use harness_store::Project;
use hyper::Method;
use std::collections::BTreeMap;

pub async fn start(project: &Project, a: StartArgs) -> Result<(), CliError> {
    let client = Client::connect(project).await?;
    let req = StartRequest {
        services: a.targets.services.clone(),
        all: a.targets.all || a.targets.services.is_empty(),
        timeout_secs: a.timeout.map(|d| d.as_secs_f64()),
        force: a.force,
        no_wait: a.no_wait,
    };
    let resp = client
        .request(
            Method::POST,
            "/v1/start",
            Some(serde_json::to_string(&req).unwrap_or_default()),
        )
        .await?;
    println!("Starting services...");
    let mut progress = Progress::new();
    let mut last: BTreeMap<String, harness_api::Progress> = BTreeMap::new();
    let mut events = SseReader::new(resp);
    loop {
        let next = tokio::select! {
            e = events.next() => e?,
            _ = tokio::signal::ctrl_c() => {
                progress.finish();
                render::interrupted(&last);
                return Err(CliError::Interrupted);
            }
        };
        let Some((event, data)) = next else {
            progress.finish();
            return Err(
                anyhow::anyhow!("the daemon closed the stream before the start finished").into(),
            );
        };
        match event.as_str() {
            "progress" => {
                let Ok(p) = serde_json::from_str::<harness_api::Progress>(&data) else {
                    continue;
                };
                progress.update(&p);
                last.insert(p.service.clone(), p);
            }
            "done" => {
                progress.finish();
                let s: Summary = serde_json::from_str(&data).unwrap_or_default();
                return finish(&a, &s, &last);
            }
            _ => {}
        }
    }
}

fn finish(
    a: &StartArgs,
    s: &Summary,
    last: &BTreeMap<String, harness_api::Progress>,
) -> Result<(), CliError> {
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
