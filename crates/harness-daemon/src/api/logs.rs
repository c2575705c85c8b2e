//! `GET /v1/logs/NAME?tail=N&follow=true`: the last lines of a service's log,
//! then (when following) whatever is appended, across restarts and rotation.

use super::{error, gone};
use crate::log_follow::LogFollower;
use crate::supervisor::{Handle, Msg};
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use harness_api::{ApiError, ApiErrorKind};
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::time::Duration;

/// How often a follower looks for new output.
const FOLLOW_POLL: Duration = Duration::from_millis(50);

#[derive(serde::Deserialize)]
pub(crate) struct Params {
    tail: Option<usize>,
    #[serde(default)]
    follow: bool,
}

pub(crate) async fn logs(
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

/// The last `n` lines of the log at `path` (all with `None`), then, when
/// `follow`ing, whatever is appended to it.
pub(crate) fn file(path: &std::path::Path, n: Option<usize>, follow: bool) -> Response {
    let (head, offset, inode) = tail(path, n);
    if !follow {
        return head.into_response();
    }
    let follower = LogFollower::from(path, offset, inode);
    let stream =
        futures_util::stream::unfold((follower, Some(head)), |(mut follower, head)| async move {
            if let Some(head) = head {
                return Some((Ok::<_, std::io::Error>(head), (follower, None)));
            }
            loop {
                if let Some(chunk) = follower.read_more() {
                    return Some((Ok(chunk), (follower, None)));
                }
                tokio::time::sleep(FOLLOW_POLL).await;
            }
        });
    Body::from_stream(stream).into_response()
}

/// The last `n` lines (all when `None`) of the log at `path` and of the
/// files it was rotated to before it (`PATH.1`, `PATH.2`, …, oldest
/// first), the offset after them in `path`, and `path`'s inode. A rotated
/// file is read only when the newer ones do not hold `n` lines.
pub(crate) fn tail(path: &std::path::Path, n: Option<usize>) -> (Vec<u8>, u64, u64) {
    let (mut head, offset, inode) = tail_of_one(path, n);
    let lines = |b: &[u8]| b.iter().filter(|&&c| c == b'\n').count();
    let mut k = 1;
    while n.is_none_or(|n| lines(&head) < n) {
        let mut older = path.as_os_str().to_owned();
        older.push(format!(".{k}"));
        let older = std::path::PathBuf::from(older);
        if !older.exists() {
            break;
        }
        let want = n.map(|n| n - lines(&head));
        let (mut before, _, _) = tail_of_one(&older, want);
        before.extend_from_slice(&head);
        head = before;
        k += 1;
    }
    (head, offset, inode)
}

/// [`tail`] of one file.
fn tail_of_one(path: &std::path::Path, n: Option<usize>) -> (Vec<u8>, u64, u64) {
    let Ok(mut f) = std::fs::File::open(path) else {
        return (Vec::new(), 0, 0);
    };
    let mut bytes = Vec::new();
    let _ = f.read_to_end(&mut bytes);
    let inode = f.metadata().map(|m| m.ino()).unwrap_or(0);
    let len = bytes.len() as u64;
    let start = match n {
        None => 0,
        Some(n) => {
            let body = bytes.strip_suffix(b"\n").unwrap_or(&bytes);
            body.iter()
                .enumerate()
                .rev()
                .filter(|(_, b)| **b == b'\n')
                .nth(n.saturating_sub(1))
                .map(|(i, _)| i + 1)
                .filter(|_| n > 0)
                .unwrap_or(if n == 0 { bytes.len() } else { 0 })
        }
    };
    (bytes.split_off(start), len, inode)
}
