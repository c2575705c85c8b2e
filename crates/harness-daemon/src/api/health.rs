//! `POST /v1/health`: run the checks now.

use super::{api_error, gone};
use crate::supervisor::{Handle, Msg};
use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use harness_api::HealthRequest;
use tokio::sync::oneshot;

pub(crate) async fn health(State(h): State<Handle>, Json(req): Json<HealthRequest>) -> Response {
    let (tx, rx) = oneshot::channel();
    if !h.send(Msg::Health(req.services, tx)) {
        return gone();
    }
    match rx.await {
        Ok(Ok(results)) => Json(results).into_response(),
        Ok(Err(e)) => api_error(e),
        Err(_) => gone(),
    }
}
