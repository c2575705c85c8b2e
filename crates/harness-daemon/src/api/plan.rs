//! `POST /v1/plan`: what a start would do (`start --dry-run` and the state
//! check before every start). Changes nothing.

use super::{api_error, gone};
use crate::supervisor::{Handle, Msg};
use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use harness_api::{DeployRequest, PlanRequest};
use tokio::sync::oneshot;

pub(crate) async fn plan(State(h): State<Handle>, Json(req): Json<PlanRequest>) -> Response {
    let (tx, rx) = oneshot::channel();
    if !h.send(Msg::Plan(req, tx)) {
        return gone();
    }
    match rx.await {
        Ok(Ok(plan)) => Json(plan).into_response(),
        Ok(Err(e)) => api_error(e),
        Err(_) => gone(),
    }
}

/// `POST /v1/deploy/plan`: what a deploy would do (`deploy --dry-run`, and
/// the plan every deploy prints first). Changes nothing.
pub(crate) async fn deploy_plan(
    State(h): State<Handle>,
    Json(req): Json<DeployRequest>,
) -> Response {
    let observed = super::deploy::observed(&h).await;
    let (tx, rx) = oneshot::channel();
    if !h.send(Msg::DeployPlan(req, observed, tx)) {
        return gone();
    }
    match rx.await {
        Ok(Ok(plan)) => Json(plan).into_response(),
        Ok(Err(e)) => api_error(e),
        Err(_) => gone(),
    }
}
