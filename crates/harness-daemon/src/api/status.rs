//! `GET /v1/status`.

use super::gone;
use crate::supervisor::{Handle, Msg, is_restart_mark};
use crate::wire;
use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use harness_core::report::{Health, ServiceView};
use harness_store::Project;
use tokio::sync::oneshot;

/// Lines of output shown for a failed service.
const LAST_LINES: usize = 3;

pub(crate) async fn status(State(h): State<Handle>) -> Response {
    let (tx, rx) = oneshot::channel();
    if !h.send(Msg::Status(tx)) {
        return gone();
    }
    match rx.await {
        Ok(view) => Json(wire::status_report(view, |s| last_output(&h.project, s))).into_response(),
        Err(_) => gone(),
    }
}

/// A failed service shows what it said last: the answer is usually there.
/// The daemon's own restart marks are skipped.
pub(crate) fn last_output(project: &Project, s: &ServiceView) -> Vec<String> {
    if s.health != Health::Failed {
        return Vec::new();
    }
    let mut own: Vec<String> =
        super::service_log::last_lines(&project.log(&s.name), LAST_LINES * 8)
            .into_iter()
            .filter(|l| !is_restart_mark(l))
            .collect();
    own.drain(..own.len().saturating_sub(LAST_LINES));
    own
}
