//! `GET /v1/logs/NAME?tail=N&follow=true`: the last lines of a service's log
//! as plain text, then (when following) whatever is appended, across
//! restarts and rotation.

use super::{error, gone};
use crate::log_cursor::Cursor;
use crate::log_lines::{Line, Window};
use crate::supervisor::{Handle, Msg};
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use harness_api::{ApiError, ApiErrorKind};
use std::time::Duration;

/// How often a follower looks for new output.
const FOLLOW_POLL: Duration = Duration::from_millis(50);

#[derive(serde::Deserialize)]
pub(crate) struct Params {
    tail: Option<usize>,
    #[serde(default)]
    follow: bool,
}

pub(crate) async fn log(
    State(h): State<Handle>,
    Path(service): Path<String>,
    Query(p): Query<Params>,
) -> Response {
    let Some(names) = h.ask(Msg::Names).await else {
        return gone();
    };
    if !names.contains(&service) {
        return error(
            StatusCode::NOT_FOUND,
            ApiError {
                error: format!(
                    "unknown service `{service}`; services are: {}",
                    names.join(", ")
                ),
                kind: ApiErrorKind::Usage,
            },
        );
    }
    file(&h.project.log(&service), p.tail, p.follow)
}

/// The last `n` lines of the log at `path` (all with `None`) as plain
/// text, across the files it was rotated to, then, when `follow`ing,
/// whatever is appended to it.
pub(crate) fn file(path: &std::path::Path, n: Option<usize>, follow: bool) -> Response {
    let window = Window {
        tail: n,
        since_us: None,
    };
    let mut cursor = Cursor::open(&[path.to_path_buf()], window);
    if follow {
        cursor.follow();
    }
    let stream = futures_util::stream::unfold(cursor, move |mut c| async move {
        loop {
            // File reads off the runtime's threads.
            let (back, lines) = tokio::task::spawn_blocking(move || {
                let lines = c.read_more();
                (c, lines)
            })
            .await
            .ok()?;
            c = back;
            if !lines.is_empty() {
                return Some((Ok::<_, std::io::Error>(text(lines)), c));
            }
            if !follow {
                return None;
            }
            tokio::time::sleep(FOLLOW_POLL).await;
        }
    });
    Body::from_stream(stream).into_response()
}

/// The last `n` lines of the log at `path`, across its rotated files.
pub(crate) fn last_lines(path: &std::path::Path, n: usize) -> Vec<String> {
    let window = Window {
        tail: Some(n),
        since_us: None,
    };
    let mut c = Cursor::open(&[path.to_path_buf()], window);
    let mut out = Vec::new();
    loop {
        let lines = c.read_more();
        if lines.is_empty() {
            return out;
        }
        out.extend(lines.iter().map(|l| l.text().into_owned()));
    }
}

/// Lines as they were written, each with its newline.
fn text(lines: Vec<Line>) -> Vec<u8> {
    let mut out = Vec::with_capacity(lines.iter().map(|l| l.bytes.len() + 1).sum());
    for l in lines {
        out.extend_from_slice(&l.bytes);
        out.push(b'\n');
    }
    out
}
