//! `GET /v1/status`.

use super::gone;
use crate::supervisor::{Handle, Msg};
use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use harness_api::Health;
use tokio::sync::oneshot;

/// Lines of output shown for a failed service.
const LAST_LINES: usize = 3;

pub(crate) async fn status(State(h): State<Handle>) -> Response {
    let (tx, rx) = oneshot::channel();
    if !h.send(Msg::Status(tx)) {
        return gone();
    }
    match rx.await {
        Ok(mut report) => {
            // A failed service shows what it said last: the answer is
            // usually there.
            for row in &mut report.services {
                if row.health == Health::Failed {
                    let (bytes, _, _) =
                        super::logs::tail(&h.project.log(&row.name), Some(LAST_LINES));
                    row.last_output = String::from_utf8_lossy(&bytes)
                        .lines()
                        .map(str::to_string)
                        .collect();
                }
            }
            Json(report).into_response()
        }
        Err(_) => gone(),
    }
}
