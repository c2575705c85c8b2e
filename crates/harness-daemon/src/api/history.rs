//! `GET /v1/history?service=NAME&limit=N`, read from the store.

use super::error;
use crate::supervisor::Handle;
use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use harness_api::{ApiError, ApiErrorKind, HistoryEntry};
use harness_store::Store;

#[derive(serde::Deserialize)]
pub(crate) struct Params {
    service: Option<String>,
    limit: Option<u32>,
}

pub(crate) async fn history(State(h): State<Handle>, Query(p): Query<Params>) -> Response {
    let db = h.project.database();
    let rows = tokio::task::spawn_blocking(move || {
        Store::open_read_only(&db)
            .and_then(|s| s.history(p.service.as_deref(), p.limit.unwrap_or(1000)))
    })
    .await;
    match rows {
        Ok(Ok(rows)) => Json(
            rows.into_iter()
                .map(|r| HistoryEntry {
                    ts: format_ts(r.ts_ms),
                    service: r.service,
                    from: r.from,
                    to: r.to,
                    reason: r.reason,
                    cause: r.cause,
                })
                .collect::<Vec<_>>(),
        )
        .into_response(),
        Ok(Err(e)) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            ApiError {
                error: e.to_string(),
                kind: ApiErrorKind::Internal,
            },
        ),
        Err(e) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            ApiError {
                error: e.to_string(),
                kind: ApiErrorKind::Internal,
            },
        ),
    }
}

/// Local time with milliseconds: `2024-01-24 10:15:23.412`.
pub(crate) fn format_ts(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| {
            t.with_timezone(&chrono::Local)
                .format("%Y-%m-%d %H:%M:%S%.3f")
                .to_string()
        })
        .unwrap_or_default()
}
