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
    print_stream(&client, &path).await
}

/// Prints the answer to `GET path` as it streams in, until it ends, the
/// reader goes away, or Ctrl-C.
pub(super) async fn print_stream(client: &Client, path: &str) -> Result<(), CliError> {
    let mut body = client.request(Method::GET, path, None).await?.into_body();
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
