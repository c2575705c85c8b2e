//! `GET /v1/info` and `POST /v1/shutdown`.

use crate::supervisor::Handle;
use axum::Json;
use axum::extract::State;
use harness_api::DaemonInfo;

pub(crate) async fn info(State(h): State<Handle>) -> Json<DaemonInfo> {
    Json(DaemonInfo {
        pid: std::process::id(),
        config: h.project.config.display().to_string(),
        version: env!("CARGO_PKG_VERSION").to_string(),
    })
}

pub(crate) async fn shutdown(State(h): State<Handle>) -> &'static str {
    tracing::info!("shutdown requested; services keep running");
    h.shutdown();
    "ok\n"
}
