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

/// How one operation is shown.
#[derive(Debug, Clone, Copy)]
pub struct Show<'a> {
    /// The line printed before its progress.
    pub heading: &'a str,
    /// How its progress is drawn.
    pub style: Style,
    /// Ctrl-C ends the wait (the daemon cancels the operation when the
    /// stream closes) and reports what was left running.
    pub interruptible: bool,
    /// The scope is the whole stack: a recovery's teardown says "all".
    pub all: bool,
}

/// Runs one operation (`/v1/start` or `/v1/stop`) to its `done` event. A
/// failed start's recovery (the `recovery` event) gets its own heading and
/// style; its stop's progress follows in the same stream.
pub async fn run(
    client: &Client,
    path: &str,
    body: &impl serde::Serialize,
    show: Show<'_>,
) -> Result<(Summary, LastSeen), CliError> {
    let body = serde_json::to_string(body).unwrap_or_default();
    let resp = client.request(Method::POST, path, Some(body)).await?;
    println!("{}", show.heading);
    let mut progress = Progress::new(show.style);
    let mut last = LastSeen::new();
    let mut events = SseReader::new(resp);
    loop {
        let next = tokio::select! {
            e = events.next() => e?,
            _ = tokio::signal::ctrl_c(), if show.interruptible => {
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
            Some(OpEvent::Recovery(r)) => {
                progress.finish();
                let (heading, style) = render::recovery_heading(r.policy, show.all);
                println!("\n{heading}");
                progress = Progress::new(style);
            }
            Some(OpEvent::Done(summary)) => {
                progress.finish();
                return Ok((summary, last));
            }
            None => {} // an event a newer daemon sends; nothing to show
        }
    }
}
