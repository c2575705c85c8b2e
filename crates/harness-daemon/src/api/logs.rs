//! `GET /v1/logs/NAME?tail=N&follow=true`: the last lines of a service's log,
//! then (when following) whatever is appended, across restarts and rotation.

use super::error;
use crate::supervisor::Handle;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use harness_api::{ApiError, ApiErrorKind};
use std::io::{Read, Seek, SeekFrom};
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
    let known = h
        .project
        .load()
        .map(|c| c.service(&service).is_some())
        .unwrap_or(false);
    if !known {
        return error(
            StatusCode::NOT_FOUND,
            ApiError {
                error: format!("unknown service `{service}`"),
                kind: ApiErrorKind::Usage,
            },
        );
    }
    let path = h.project.log(&service);
    let (head, offset, inode) = tail(&path, p.tail);
    if !p.follow {
        return head.into_response();
    }
    let state = Follow {
        path,
        offset,
        inode,
        first: Some(head),
    };
    let stream = futures_util::stream::unfold(state, |mut st| async move {
        if let Some(head) = st.first.take() {
            return Some((Ok::<_, std::io::Error>(head), st));
        }
        loop {
            if let Some(chunk) = st.read_more() {
                return Some((Ok(chunk), st));
            }
            tokio::time::sleep(FOLLOW_POLL).await;
        }
    });
    Body::from_stream(stream).into_response()
}

/// The last `n` lines (all when `None`), the offset after them, and the
/// file's inode.
pub(crate) fn tail(path: &std::path::Path, n: Option<usize>) -> (Vec<u8>, u64, u64) {
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

struct Follow {
    path: std::path::PathBuf,
    offset: u64,
    inode: u64,
    first: Option<Vec<u8>>,
}

impl Follow {
    /// New bytes since the last read; starts over when the file was
    /// replaced (rotation) or truncated.
    fn read_more(&mut self) -> Option<Vec<u8>> {
        let mut f = std::fs::File::open(&self.path).ok()?;
        let meta = f.metadata().ok()?;
        if meta.ino() != self.inode || meta.len() < self.offset {
            self.inode = meta.ino();
            self.offset = 0;
        }
        if meta.len() == self.offset {
            return None;
        }
        f.seek(SeekFrom::Start(self.offset)).ok()?;
        let mut buf = Vec::new();
        f.take(1 << 20).read_to_end(&mut buf).ok()?;
        // Only whole lines; the rest comes with the next read.
        let end = buf.iter().rposition(|&b| b == b'\n').map(|i| i + 1)?;
        buf.truncate(end);
        self.offset += end as u64;
        Some(buf)
    }
}
