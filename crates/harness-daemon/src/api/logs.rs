//! `GET /v1/logs?services=A,B&tail=N&since_us=T&follow=true`: the lines of
//! several logs (every service's and every job step's when `services` is
//! left out) interleaved in the order they were captured, one JSON
//! [`LogLine`] per line; then, when following, whatever any of them
//! appends, across restarts and rotation, including logs that begin after
//! the follow did.

use super::{error, gone};
use crate::adopted_output;
use crate::log_cursor::Cursor;
use crate::log_lines::{Line, Merge, Window};
use crate::log_sources::{self, Pick, Source};
use crate::supervisor::{Handle, Msg};
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use harness_api::{ApiError, ApiErrorKind, LogLine, LogStream};
use std::collections::HashSet;
use std::path::PathBuf;
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
    let Some(adopted) = h.ask(Msg::Adopted).await else {
        return gone();
    };
    let logs_dir = h.project.logs_dir();
    let window = Window {
        tail: p.tail,
        since_us: p.since_us,
    };
    let opened = {
        let (picks, services, logs_dir) = (picks.clone(), services.clone(), logs_dir.clone());
        tokio::task::spawn_blocking(move || {
            let sources = log_sources::sources(picks.as_deref(), &services, &logs_dir);
            let (sources, notes) = adopted_output::with_outputs(sources, &adopted);
            let mut logs = Logs::open(sources, window);
            logs.notes = notes;
            logs
        })
        .await
    };
    let Ok(mut logs) = opened else {
        return error(
            StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::new(ApiErrorKind::Internal, "reading the logs failed"),
        );
    };
    if p.follow {
        logs.follow = Some(Follow { h, picks, polls: 0 });
    }
    let stream = futures_util::stream::unfold(logs, |logs| async move {
        let (piece, logs) = logs.next().await?;
        Some((Ok::<_, std::io::Error>(piece), logs))
    });
    let ndjson = [(header::CONTENT_TYPE, "application/x-ndjson")];
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

/// How many lines go in one piece of the answer: the window is read a
/// piece at a time, never held whole.
const PIECE: usize = 8192;

/// The logs an answer reads.
struct Logs {
    /// Each log's name, by its index in the merge.
    names: Vec<String>,
    merge: Merge<Cursor>,
    /// What is said first of each adopted service (see
    /// [`adopted_output`]), by name; sent before the window.
    notes: Vec<(String, String)>,
    /// Whether the window has been sent.
    sent_window: bool,
    /// The files read, to tell which ones began since.
    known: HashSet<PathBuf>,
    /// Set when the answer goes on with what the logs get.
    follow: Option<Follow>,
}

/// Following: the request, to find logs that began since.
struct Follow {
    h: Handle,
    picks: Option<Vec<Pick>>,
    polls: u32,
}

impl Logs {
    /// The window's lines of `sources` (the last `tail` of each, a step's
    /// attempts taken together).
    fn open(sources: Vec<Source>, window: Window) -> Logs {
        let known = sources.iter().flat_map(|s| s.paths.clone()).collect();
        let (names, cursors): (Vec<String>, Vec<Cursor>) = sources
            .into_iter()
            .map(|s| (s.name, Cursor::open(&s.paths, window)))
            .unzip();
        Logs {
            names,
            merge: Merge::new(cursors),
            notes: Vec::new(),
            sent_window: false,
            known,
            follow: None,
        }
    }

    /// The next piece of the answer, as NDJSON; `None` at its end: the
    /// window sent, when not following, or the daemon going away.
    async fn next(mut self) -> Option<(Vec<u8>, Logs)> {
        if !self.notes.is_empty() {
            let notes = std::mem::take(&mut self.notes);
            return Some((notes_ndjson(notes), self));
        }
        loop {
            if self.follow.is_some() && self.sent_window {
                self.look_for_new_logs().await?;
            }
            // File reads off the runtime's threads.
            let (back, piece) = tokio::task::spawn_blocking(move || {
                let piece = self.read_piece();
                (self, piece)
            })
            .await
            .ok()?;
            self = back;
            if let Some(piece) = piece {
                return Some((piece, self));
            }
            self.follow.as_ref()?;
            tokio::time::sleep(FOLLOW_POLL).await;
        }
    }

    /// The next lines of the window, or once it is sent (and following)
    /// what the logs got since; `None` if there are none for now.
    fn read_piece(&mut self) -> Option<Vec<u8>> {
        if self.sent_window {
            self.merge.resume();
        }
        let lines = self.merge.next(PIECE);
        if lines.is_empty() && !self.sent_window {
            self.sent_window = true;
            if self.follow.is_some() {
                self.merge.logs_mut().for_each(Cursor::follow);
                self.merge.resume();
                return self.read_piece();
            }
        }
        (!lines.is_empty()).then(|| ndjson(&self.names, lines))
    }

    /// Every few polls, adds the logs that began since (a service started
    /// or deployed, a step's next attempt); `None` if the daemon is going
    /// away.
    async fn look_for_new_logs(&mut self) -> Option<()> {
        let follow = self.follow.as_mut()?;
        follow.polls += 1;
        if !follow.polls.is_multiple_of(REDISCOVER_EVERY) {
            return Some(());
        }
        let services = follow.h.ask(Msg::Names).await?;
        let logs_dir = follow.h.project.logs_dir();
        for s in log_sources::sources(follow.picks.as_deref(), &services, &logs_dir) {
            for path in s.paths {
                if self.known.insert(path.clone()) {
                    // Begun since the answer did: all of it is new.
                    let mut cursor = Cursor::open(std::slice::from_ref(&path), Window::default());
                    cursor.follow();
                    self.names.push(s.name.clone());
                    self.merge.push(cursor);
                }
            }
        }
        Some(())
    }
}

/// `lines`, each of the log named `names[k]`, as NDJSON [`LogLine`]s.
fn ndjson(names: &[impl AsRef<str>], lines: Vec<(usize, Line)>) -> Vec<u8> {
    let mut out = Vec::with_capacity(lines.iter().map(|(_, l)| l.bytes.len() + 96).sum());
    for (k, line) in lines {
        let wire = LogLine {
            service: names[k].as_ref().to_string(),
            stream: if line.stderr {
                LogStream::Stderr
            } else {
                LogStream::Stdout
            },
            ts: (line.ts_us > 0).then(|| rfc3339_us(line.ts_us)),
            line: line.text().into_owned(),
        };
        if serde_json::to_writer(&mut out, &wire).is_ok() {
            out.push(b'\n');
        }
    }
    out
}

/// Harness's `notes`, each of the service it names, as NDJSON lines
/// marked as the daemon's own (`[harness] …`, as the marks in a log are),
/// with no capture time: nothing captured them.
fn notes_ndjson(notes: Vec<(String, String)>) -> Vec<u8> {
    let mut out = Vec::new();
    for (service, note) in notes {
        let wire = LogLine {
            service,
            stream: LogStream::Stdout,
            ts: None,
            line: format!("[harness] {note}"),
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
