//! `GET /metrics` (Prometheus text) and `GET /v1/services/{name}/health`
//! (200 when healthy, 503 otherwise, with the status row): health for other
//! tools — scrapers, load balancers, uptime checkers.

use super::{error, gone};
use crate::supervisor::{Handle, Msg};
use crate::wire;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use harness_api::{ApiError, ApiErrorKind};
use harness_core::report::Health;
use tokio::sync::oneshot;

pub(crate) async fn metrics(State(h): State<Handle>) -> Response {
    let (tx, rx) = oneshot::channel();
    if !h.send(Msg::Metrics(tx)) {
        return gone();
    }
    match rx.await {
        Ok(text) => (
            [(
                header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            )],
            text,
        )
            .into_response(),
        Err(_) => gone(),
    }
}

pub(crate) async fn service_health(State(h): State<Handle>, Path(name): Path<String>) -> Response {
    let (tx, rx) = oneshot::channel();
    if !h.send(Msg::Status(tx)) {
        return gone();
    }
    let Ok(view) = rx.await else {
        return gone();
    };
    match view.services.into_iter().find(|s| s.name == name) {
        Some(row) => {
            let code = if row.health == Health::Healthy {
                StatusCode::OK
            } else {
                StatusCode::SERVICE_UNAVAILABLE
            };
            let out = super::status::last_output(&h.project, &row);
            (code, Json(wire::service(row, out))).into_response()
        }
        None => error(
            StatusCode::NOT_FOUND,
            ApiError {
                error: format!("unknown service `{name}`"),
                kind: ApiErrorKind::Usage,
            },
        ),
    }
}
