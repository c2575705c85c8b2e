//! `POST /v1/stop`: streams the stop's progress as SSE, like start.

use super::start::operation;
use crate::supervisor::{Handle, Msg};
use axum::Json;
use axum::extract::State;
use axum::response::Response;
use harness_api::StopRequest;

pub(crate) async fn stop(State(h): State<Handle>, Json(req): Json<StopRequest>) -> Response {
    operation(h, |reply| Msg::Stop(req, reply)).await
}
