//! `POST /v1/stop`: streams the stop's progress as SSE, like start.

use super::start::sse;
use super::{api_error, gone};
use crate::supervisor::{Handle, Msg};
use axum::Json;
use axum::extract::State;
use axum::response::Response;
use harness_api::StopRequest;
use tokio::sync::oneshot;

pub(crate) async fn stop(State(h): State<Handle>, Json(req): Json<StopRequest>) -> Response {
    let (tx, rx) = oneshot::channel();
    if !h.send(Msg::Stop(req, tx)) {
        return gone();
    }
    match rx.await {
        Ok(Ok((op, events))) => sse(h, op, events),
        Ok(Err(e)) => api_error(e),
        Err(_) => gone(),
    }
}
