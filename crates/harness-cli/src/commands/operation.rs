//! Shared by `start` and `stop`: send the request, render its progress
//! events as they stream in, and return the final summary.

use crate::client::{Client, SseReader};
use crate::error::CliError;
use crate::render::{self, Progress, Style};
use harness_api::{OpEvent, Summary};
use hyper::Method;
use std::collections::BTreeMap;

/// The last progress event seen for each service.
pub type LastSeen = BTreeMap<String, harness_api::Progress>;

/// Runs one operation (`/v1/start` or `/v1/stop`) to its `done` event.
/// With `interruptible`, Ctrl-C ends the wait (the daemon cancels the
/// operation when the stream closes) and reports what was left running.
pub async fn run(
    client: &Client,
    path: &str,
    body: &impl serde::Serialize,
    heading: &str,
    style: Style,
    interruptible: bool,
) -> Result<(Summary, LastSeen), CliError> {
    let body = serde_json::to_string(body).unwrap_or_default();
    let resp = client.request(Method::POST, path, Some(body)).await?;
    println!("{heading}");
    let mut progress = Progress::new(style);
    let mut last = LastSeen::new();
    let mut events = SseReader::new(resp);
    loop {
        let next = tokio::select! {
            e = events.next() => e?,
            _ = tokio::signal::ctrl_c(), if interruptible => {
                progress.finish();
                render::interrupted(&last);
                return Err(CliError::Interrupted);
            }
        };
        let Some((event, data)) = next else {
            progress.finish();
            return Err(
                anyhow::anyhow!("the daemon closed the stream before {path} finished").into(),
            );
        };
        let event = OpEvent::parse(&event, &data).map_err(|e| {
            anyhow::anyhow!("the daemon sent an event this harness cannot read: {e}")
        })?;
        match event {
            Some(OpEvent::Progress(p)) => {
                progress.update(&p);
                last.insert(p.service.clone(), p);
            }
            Some(OpEvent::Done(summary)) => {
                progress.finish();
                return Ok((summary, last));
            }
            None => {} // an event a newer daemon sends; nothing to show
        }
    }
}
