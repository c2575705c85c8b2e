//! `POST /v1/choice`: records an answer given at a prompt in the history,
//! so the history says which choice led to which action.

use super::gone;
use crate::supervisor::{Handle, Msg};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use harness_api::Choice;

pub(crate) async fn choice(State(h): State<Handle>, Json(c): Json<Choice>) -> Response {
    if h.send(Msg::Choice(c)) {
        StatusCode::OK.into_response()
    } else {
        gone()
    }
}
