//! `harness logs [NAME…] [--tail N] [--since T] [-f] [--timestamps]
//! [--no-prefix] [--json]`: the lines of every service (and job step), or
//! of those named, interleaved in the order they were captured.

use crate::args::LogsArgs;
use crate::client::Client;
use crate::error::CliError;
use crate::render::LogView;
use chrono::{DateTime, Local, NaiveDate, NaiveDateTime, TimeZone, Utc};
use harness_api::LogLine;
use harness_core::config::Config;
use harness_store::Project;
use http_body_util::BodyExt;
use hyper::Method;
use std::io::{IsTerminal, Write};

pub async fn logs(project: &Project, config: &Config, a: LogsArgs) -> Result<(), CliError> {
    let since_us = match &a.since {
        Some(text) => Some(since_us(text, Utc::now()).map_err(CliError::Usage)?),
        None => None,
    };
    let mut path = format!("/v1/logs?follow={}", a.follow);
    if !a.services.is_empty() {
        let names = a.services.join(",");
        let names =
            percent_encoding::utf8_percent_encode(&names, percent_encoding::NON_ALPHANUMERIC);
        path.push_str(&format!("&services={names}"));
    }
    if let Some(n) = a.tail {
        path.push_str(&format!("&tail={n}"));
    }
    if let Some(us) = since_us {
        path.push_str(&format!("&since_us={us}"));
    }
    let client = Client::connect(project).await?;
    let body = client.request(Method::GET, &path, None).await?.into_body();
    // A named service that never ran has no log: an empty answer, said so.
    for name in a.services.iter().filter(|n| config.service(n).is_some()) {
        if !project.log(name).exists() {
            eprintln!(
                "({name} has not run yet: no output{})",
                if a.follow { "; waiting for it" } else { "" }
            );
        }
    }
    // One service named: its lines as they are, like `tail`; more, or
    // all, each with its name.
    let one_service = a.services.len() == 1 && config.service(&a.services[0]).is_some();
    let stdout = std::io::stdout();
    let colour = !a.no_color
        && stdout.is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let mut view = LogView::new(
        !a.no_prefix && !one_service,
        shown_names(config, &a.services),
        colour,
        a.timestamps,
    );
    // Written in batches, flushed after each piece of the answer: a
    // follower sees a line as soon as it comes.
    let mut out = std::io::BufWriter::with_capacity(64 << 10, stdout.lock());
    each_line(body, |raw| match raw {
        Some(raw) if a.json => out.write_all(raw).and_then(|_| out.write_all(b"\n")),
        Some(raw) => match serde_json::from_slice::<LogLine>(raw) {
            Ok(line) => view.write(&mut out, &line),
            Err(_) => Ok(()),
        },
        None => out.flush(),
    })
    .await
}

/// The names lines may be shown under, in the file's order: every
/// service and every job's steps (`JOB/STEP`), or those `named` pick.
/// Their order gives each its colour; the longest, the prefix's width.
fn shown_names(config: &Config, named: &[String]) -> Vec<String> {
    let all: Vec<String> = config
        .services
        .iter()
        .map(|s| s.name.clone())
        .chain(config.jobs.iter().flat_map(|j| {
            j.steps
                .iter()
                .map(move |s| format!("{}/{}", j.name, s.name))
        }))
        .collect();
    if named.is_empty() {
        return all;
    }
    all.into_iter()
        .filter(|n| {
            named
                .iter()
                .any(|m| n == m || n.split_once('/').is_some_and(|(job, _)| job == m))
        })
        .collect()
}

/// Calls `line` with each line of an NDJSON answer as it streams in, and
/// with `None` after each piece of it, until it ends, `line` fails (a
/// closed pipe, `| head`: the command ends quietly), or Ctrl-C.
async fn each_line(
    body: hyper::body::Incoming,
    mut line: impl FnMut(Option<&[u8]>) -> std::io::Result<()>,
) -> Result<(), CliError> {
    let mut partial: Vec<u8> = Vec::new();
    let ended = each_piece(body, |data| {
        partial.extend_from_slice(data);
        let Some(last) = partial.iter().rposition(|&b| b == b'\n') else {
            return Ok(());
        };
        for raw in partial[..last].split(|&b| b == b'\n') {
            if !raw.is_empty() {
                line(Some(raw))?;
            }
        }
        partial.drain(..=last);
        line(None)
    })
    .await;
    if ended == Ended::Body {
        let _ = line(None);
    }
    Ok(())
}

/// How [`each_piece`] ended.
#[derive(PartialEq)]
enum Ended {
    /// The answer ended (or broke off).
    Body,
    /// Ctrl-C, or the caller's `piece` failed.
    Stopped,
}

/// Hands each piece of `body` to `piece` as it arrives, until the body
/// ends, `piece` fails, or Ctrl-C.
async fn each_piece(
    mut body: hyper::body::Incoming,
    mut piece: impl FnMut(&[u8]) -> std::io::Result<()>,
) -> Ended {
    loop {
        let frame = tokio::select! {
            f = body.frame() => f,
            _ = tokio::signal::ctrl_c() => return Ended::Stopped,
        };
        let Some(Ok(frame)) = frame else {
            return Ended::Body;
        };
        if let Ok(data) = frame.into_data()
            && piece(&data).is_err()
        {
            return Ended::Stopped;
        }
    }
}

/// `--since`: a duration ago (`10m`, `1h30m`, `2days`) or a time
/// (`2026-12-02T10:00:00`, also with a space, fractions of a second, or
/// only a date; local time unless it ends in `Z` or an offset), as µs
/// since the epoch.
fn since_us(text: &str, now: DateTime<Utc>) -> Result<u64, String> {
    let text = text.trim();
    let at: Option<DateTime<Utc>> = if let Ok(ago) = humantime::parse_duration(text) {
        chrono::Duration::from_std(ago)
            .ok()
            .and_then(|ago| now.checked_sub_signed(ago))
    } else if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        Some(t.with_timezone(&Utc))
    } else if let Some(t) = [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
    .or_else(|| {
        NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .ok()
            .and_then(|d| d.and_hms_opt(0, 0, 0))
    }) {
        Local
            .from_local_datetime(&t)
            .earliest()
            .map(|t| t.with_timezone(&Utc))
    } else {
        return Err(format!(
            "invalid --since `{text}`: write a duration ago (10m, 1h30m) or a time \
             (2026-12-02T10:00:00, local unless it ends in Z or +HH:MM)"
        ));
    };
    at.map(|t| t.timestamp_micros().max(0) as u64)
        .ok_or_else(|| format!("--since `{text}` is out of range"))
}

/// Prints the answer to `GET path` as it streams in, until it ends, the
/// reader goes away, or Ctrl-C.
pub(super) async fn print_stream(client: &Client, path: &str) -> Result<(), CliError> {
    let body = client.request(Method::GET, path, None).await?.into_body();
    let mut out = std::io::stdout().lock();
    // A closed pipe (`| head`) ends the command quietly.
    each_piece(body, |data| out.write_all(data).and_then(|_| out.flush())).await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_takes_a_duration_ago_or_a_time() {
        let now = DateTime::parse_from_rfc3339("2026-12-02T10:30:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let us = |t: &str| DateTime::parse_from_rfc3339(t).unwrap().timestamp_micros() as u64;
        assert_eq!(since_us("10m", now), Ok(us("2026-12-02T10:20:00Z")));
        assert_eq!(since_us("1h30m", now), Ok(us("2026-12-02T09:00:00Z")));
        assert_eq!(
            since_us("2026-12-02T10:00:00Z", now),
            Ok(us("2026-12-02T10:00:00Z"))
        );
        assert_eq!(
            since_us("2026-12-02T10:00:00.5+01:00", now),
            Ok(us("2026-12-02T09:00:00.5Z"))
        );
        // Without a zone: local time, as `date` shows it.
        let local = |t: &str| {
            let t = NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S").unwrap();
            Local
                .from_local_datetime(&t)
                .earliest()
                .unwrap()
                .timestamp_micros() as u64
        };
        assert_eq!(
            since_us("2026-12-02T10:00:00", now),
            Ok(local("2026-12-02T10:00:00"))
        );
        assert_eq!(
            since_us("2026-12-02 10:00:00", now),
            Ok(local("2026-12-02T10:00:00"))
        );
        assert_eq!(
            since_us("2026-12-02", now),
            Ok(local("2026-12-02T00:00:00"))
        );
        let bad = since_us("yesterday", now).unwrap_err();
        assert!(bad.starts_with("invalid --since `yesterday`"), "{bad}");
    }
}
