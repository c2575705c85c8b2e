//! `GET /v1/info` and `POST /v1/shutdown`.

use crate::supervisor::{Handle, Msg};
use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use harness_api::{ApiError, ApiErrorKind, DaemonInfo};

pub(crate) async fn info(State(h): State<Handle>) -> Json<DaemonInfo> {
    Json(DaemonInfo {
        pid: std::process::id(),
        config: h.project.config.display().to_string(),
        version: env!("CARGO_PKG_VERSION").to_string(),
    })
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub(crate) struct ShutdownParams {
    /// Exit only if nothing happens (the CLI making way for a daemon for
    /// another file of the folder).
    if_idle: bool,
}

pub(crate) async fn shutdown(State(h): State<Handle>, Query(p): Query<ShutdownParams>) -> Response {
    if p.if_idle {
        let Some(idle) = h.ask(Msg::ShutdownIfIdle).await else {
            return super::gone();
        };
        if !idle {
            return super::error(
                StatusCode::CONFLICT,
                ApiError::new(
                    ApiErrorKind::Usage,
                    "the daemon is not idle: services run here",
                ),
            );
        }
    }
    tracing::info!("shutdown requested; services keep running");
    h.shutdown();
    "ok\n".into_response()
}
