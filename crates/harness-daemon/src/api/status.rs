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
        Ok(view) => {
            let mut report = wire::status_report(view, |s| last_output(&h.project, s));
            note_full_disks(&h.project, &mut report);
            report.warning = h.store.trouble();
            Json(report).into_response()
        }
        Err(_) => gone(),
    }
}

/// Notes each service whose shim cannot write its log for want of room
/// (`run/NAME@RUN.logfull`, made and removed by the shim): its output,
/// and soon the service itself, wait.
fn note_full_disks(project: &Project, report: &mut harness_api::StatusReport) {
    let Ok(entries) = std::fs::read_dir(project.run_dir()) else {
        return;
    };
    let full: Vec<String> = entries
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let (unit, _) = name.strip_suffix(".logfull")?.rsplit_once('@')?;
            Some(unit.to_string())
        })
        .collect();
    for s in report
        .services
        .iter_mut()
        .filter(|s| full.contains(&s.name))
    {
        let note = "log disk full: output waits";
        s.notes = match s.notes.is_empty() {
            true => note.to_string(),
            false => format!("{}; {note}", s.notes),
        };
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
