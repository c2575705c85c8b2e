//! `GET /v1/logs?services=A,B&tail=N&since_us=T&follow=true`: the lines of
//! several logs (every service's and every job step's when `services` is
//! left out) interleaved in the order they were captured, one JSON
//! [`LogLine`] per line; then, when following, whatever any of them
//! appends, across restarts and rotation, including logs that begin after
//! the follow did.

use super::{error, gone};
use crate::log_lines::{self, Line, LineFollower, Window};
use crate::log_sources::{self, Pick, Source};
use crate::supervisor::{Handle, Msg};
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use harness_api::{ApiError, ApiErrorKind, LogLine, LogStream};
use std::collections::HashSet;
use std::time::Duration;

/// How often a follower looks for new output.
const FOLLOW_POLL: Duration = Duration::from_millis(50);

/// How many polls go by between looks for logs that began since (a
/// service added by a deploy, a step's next attempt).
const REDISCOVER_EVERY: u32 = 10;

#[derive(serde::Deserialize)]
pub(crate) struct Params {
    /// Comma-separated names; every log when left out.
    services: Option<String>,
    /// The last N lines of each name.
    tail: Option<usize>,
    /// Only lines captured at or after this time (µs since the epoch).
    since_us: Option<u64>,
    #[serde(default)]
    follow: bool,
}

pub(crate) async fn logs(State(h): State<Handle>, Query(p): Query<Params>) -> Response {
    let Some(services) = h.ask(Msg::Names).await else {
        return gone();
    };
    let picks = match &p.services {
        None => None,
        Some(names) => {
            let names: Vec<String> = names.split(',').map(str::to_string).collect();
            let project = h.project.clone();
            let jobs = tokio::task::spawn_blocking(move || jobs_and_steps(&project))
                .await
                .unwrap_or_default();
            match log_sources::picks(&names, &services, &jobs) {
                Ok(picks) => Some(picks),
                Err(e) => {
                    return error(StatusCode::NOT_FOUND, ApiError::new(ApiErrorKind::Usage, e));
                }
            }
        }
    };
    let logs_dir = h.project.logs_dir();
    let window = Window {
        tail: p.tail,
        since_us: p.since_us,
    };
    let head = {
        let (picks, services, logs_dir) = (picks.clone(), services.clone(), logs_dir.clone());
        tokio::task::spawn_blocking(move || {
            let sources = log_sources::sources(picks.as_deref(), &services, &logs_dir);
            head(sources, window)
        })
        .await
    };
    let Ok((head, followers)) = head else {
        return error(
            StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::new(ApiErrorKind::Internal, "reading the logs failed"),
        );
    };
    let ndjson = [(header::CONTENT_TYPE, "application/x-ndjson")];
    if !p.follow {
        return (ndjson, head).into_response();
    }
    let follow = Follow {
        h,
        picks,
        followers,
        polls: 0,
    };
    let stream = futures_util::stream::unfold((follow, Some(head)), |(mut f, head)| async move {
        if let Some(head) = head {
            return Some((Ok::<_, std::io::Error>(head), (f, None)));
        }
        loop {
            let chunk = f.poll().await?;
            if !chunk.is_empty() {
                return Some((Ok(chunk), (f, None)));
            }
            tokio::time::sleep(FOLLOW_POLL).await;
        }
    });
    (ndjson, Body::from_stream(stream)).into_response()
}

/// Each job of the file with its steps; none if the file does not load
/// (the services the daemon runs can still be read).
fn jobs_and_steps(project: &harness_store::Project) -> Vec<(String, Vec<String>)> {
    project
        .load()
        .map(|c| {
            c.jobs
                .iter()
                .map(|j| {
                    (
                        j.name.clone(),
                        j.steps.iter().map(|s| s.name.clone()).collect(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A followed log.
struct Followed {
    name: String,
    follower: LineFollower,
}

/// The window's lines of `sources` (the last `tail` of each name, whose
/// attempts' logs are taken together), interleaved, as NDJSON; and a
/// follower of each placed after them.
fn head(sources: Vec<Source>, window: Window) -> (Vec<u8>, Vec<(std::path::PathBuf, Followed)>) {
    let mut groups: Vec<(String, Vec<Vec<Line>>)> = Vec::new();
    let mut followers = Vec::new();
    for s in sources {
        let (lines, follower) = log_lines::read(&s.path, window);
        match groups.iter_mut().find(|(n, _)| *n == s.name) {
            Some((_, g)) => g.push(lines),
            None => groups.push((s.name.clone(), vec![lines])),
        }
        followers.push((
            s.path,
            Followed {
                name: s.name,
                follower,
            },
        ));
    }
    let named: Vec<(String, Vec<Line>)> = groups
        .into_iter()
        .map(|(name, attempts)| {
            let mut lines: Vec<Line> =
                log_lines::interleave(attempts.into_iter().map(|l| ((), l)).collect())
                    .into_iter()
                    .map(|(_, l)| l)
                    .collect();
            if let Some(n) = window.tail {
                lines.drain(..lines.len().saturating_sub(n));
            }
            (name, lines)
        })
        .collect();
    (ndjson(log_lines::interleave(named)), followers)
}

/// Following: the logs read so far, and the request, to find new ones.
struct Follow {
    h: Handle,
    picks: Option<Vec<Pick>>,
    followers: Vec<(std::path::PathBuf, Followed)>,
    polls: u32,
}

impl Follow {
    /// What every followed log appended since the last poll, interleaved;
    /// `None` once the daemon is going away.
    async fn poll(&mut self) -> Option<Vec<u8>> {
        self.polls += 1;
        if self.polls.is_multiple_of(REDISCOVER_EVERY) {
            let services = self.h.ask(Msg::Names).await?;
            let known: HashSet<_> = self.followers.iter().map(|(p, _)| p.clone()).collect();
            let found =
                log_sources::sources(self.picks.as_deref(), &services, &self.h.project.logs_dir());
            for s in found.into_iter().filter(|s| !known.contains(&s.path)) {
                // Begun since the follow did: all of it is new.
                let follower = LineFollower::from_start(&s.path);
                self.followers.push((
                    s.path,
                    Followed {
                        name: s.name,
                        follower,
                    },
                ));
            }
        }
        let fresh: Vec<(String, Vec<Line>)> = self
            .followers
            .iter_mut()
            .map(|(_, f)| (f.name.clone(), f.follower.read_more()))
            .filter(|(_, lines)| !lines.is_empty())
            .collect();
        Some(ndjson(log_lines::interleave(fresh)))
    }
}

/// `lines` as NDJSON [`LogLine`]s.
fn ndjson(lines: Vec<(String, Line)>) -> Vec<u8> {
    let mut out = Vec::new();
    for (service, line) in lines {
        let wire = LogLine {
            service,
            stream: if line.stderr {
                LogStream::Stderr
            } else {
                LogStream::Stdout
            },
            ts: (line.ts_us > 0).then(|| rfc3339_us(line.ts_us)),
            line: line.text,
        };
        if serde_json::to_writer(&mut out, &wire).is_ok() {
            out.push(b'\n');
        }
    }
    out
}

/// `2026-12-02T10:00:00.123456Z`.
fn rfc3339_us(us: u64) -> String {
    chrono::DateTime::from_timestamp_micros(us as i64)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string())
        .unwrap_or_default()
}
