//! `GET /v1/external/NAME`: the instance of a service outside harness, as
//! found now; `POST /v1/adopt`: make it the service's run; `POST
//! /v1/replace`: stop it, so that a start runs harness's own.

use super::{api_error, gone};
use crate::supervisor::{Handle, Msg};
use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use harness_api::ExternalRequest;

pub(crate) async fn external(State(h): State<Handle>, Path(name): Path<String>) -> Response {
    match h.ask(|tx| Msg::External(name, tx)).await {
        Some(Ok(found)) => Json(found).into_response(),
        Some(Err(e)) => api_error(e),
        None => gone(),
    }
}

pub(crate) async fn adopt(State(h): State<Handle>, Json(req): Json<ExternalRequest>) -> Response {
    match h.ask(|tx| Msg::Adopt(req, tx)).await {
        Some(Ok(adopted)) => Json(adopted).into_response(),
        Some(Err(e)) => api_error(e),
        None => gone(),
    }
}

pub(crate) async fn replace(State(h): State<Handle>, Json(req): Json<ExternalRequest>) -> Response {
    match h.ask(|tx| Msg::Replace(req, tx)).await {
        Some(Ok(replaced)) => Json(replaced).into_response(),
        Some(Err(e)) => api_error(e),
        None => gone(),
    }
}
