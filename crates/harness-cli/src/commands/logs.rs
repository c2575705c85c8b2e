//! `harness logs SVC [--tail N] [-f]`.

use crate::args::LogsArgs;
use crate::client::Client;
use crate::error::CliError;
use harness_store::Project;
use http_body_util::BodyExt;
use hyper::Method;
use std::io::Write;

pub async fn logs(project: &Project, a: LogsArgs) -> Result<(), CliError> {
    let client = Client::connect(project).await?;
    let mut path = format!("/v1/logs/{}?follow={}", a.service, a.follow);
    if let Some(n) = a.tail {
        path.push_str(&format!("&tail={n}"));
    }
    // A service the file has (the daemon refused any other) that never
    // ran has no log: an empty answer, said so.
    let never_ran = !project.log(&a.service).exists();
    print_stream_after(&client, &path, || {
        if never_ran {
            eprintln!(
                "({} has not run yet: no output{})",
                a.service,
                if a.follow { "; waiting for it" } else { "" }
            );
        }
    })
    .await
}

/// Prints the answer to `GET path` as it streams in, until it ends, the
/// reader goes away, or Ctrl-C.
pub(super) async fn print_stream(client: &Client, path: &str) -> Result<(), CliError> {
    print_stream_after(client, path, || {}).await
}

/// [`print_stream`], calling `accepted` once the daemon answered 200.
async fn print_stream_after(
    client: &Client,
    path: &str,
    accepted: impl FnOnce(),
) -> Result<(), CliError> {
    let mut body = client.request(Method::GET, path, None).await?.into_body();
    accepted();
    let mut out = std::io::stdout().lock();
    loop {
        let frame = tokio::select! {
            f = body.frame() => f,
            _ = tokio::signal::ctrl_c() => return Ok(()),
        };
        let Some(frame) = frame else { return Ok(()) };
        let Ok(frame) = frame else { return Ok(()) };
        if let Ok(data) = frame.into_data() {
            // A closed pipe (`| head`) ends the command quietly.
            if out.write_all(&data).and_then(|_| out.flush()).is_err() {
                return Ok(());
            }
        }
    }
}
