//! `GET /v1/status`.

use super::gone;
use crate::supervisor::{Handle, Msg};
use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use tokio::sync::oneshot;

pub(crate) async fn status(State(h): State<Handle>) -> Response {
    let (tx, rx) = oneshot::channel();
    if !h.send(Msg::Status(tx)) {
        return gone();
    }
    match rx.await {
        Ok(report) => Json(report).into_response(),
        Err(_) => gone(),
    }
}
