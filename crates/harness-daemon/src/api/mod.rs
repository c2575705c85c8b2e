//! The HTTP API on `.harness/harness.sock`. One file per endpoint; every
//! handler only talks to the supervisor through its [`Handle`].

mod adopt;
mod choice;
mod connections;
mod deploy;
mod health;
mod history;
mod info;
mod jobs;
mod logs;
mod metrics;
mod plan;
mod service_log;
mod start;
mod status;
mod stop;

pub(crate) use history::format_ts;

use crate::supervisor::Handle;
use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use harness_api::{ApiError, ApiErrorKind, CONFIG_HEADER};
use harness_store::Project;
use std::os::unix::fs::PermissionsExt;

/// Serves the API until `shutdown` or a shutdown request.
pub async fn serve(
    project: &Project,
    handle: Handle,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let path = project.socket();
    let _ = std::fs::remove_file(&path); // stale: we hold the lock
    let listener = tokio::net::UnixListener::bind(&path)?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
    tracing::info!(socket = %path.display(), pid = std::process::id(), "daemon listening");
    // The routes that act on the definitions of the file: made with
    // another file, they are refused.
    let acting = axum::Router::new()
        .route("/v1/plan", post(plan::plan))
        .route("/v1/deploy/plan", post(plan::deploy_plan))
        .route("/v1/deploy", post(deploy::deploy))
        .route("/v1/rollback", post(deploy::rollback))
        .route("/v1/start", post(start::start))
        .route("/v1/stop", post(stop::stop))
        .route("/v1/health", post(health::health))
        .route("/v1/external/{name}", get(adopt::external))
        .route("/v1/adopt", post(adopt::adopt))
        .route("/v1/replace", post(adopt::replace))
        .route("/v1/jobs/{name}/run", post(jobs::run))
        .route("/v1/jobs/{name}/decide", post(jobs::decide))
        .route("/v1/jobs/{name}/mark", post(jobs::mark))
        .route_layer(axum::middleware::from_fn_with_state(
            handle.clone(),
            same_config,
        ));
    let app = read_only()
        .merge(acting)
        .route("/v1/info", get(info::info))
        .route("/v1/shutdown", post(info::shutdown))
        .route("/v1/history", get(history::history))
        .route("/v1/deploys", get(deploy::list))
        .route("/v1/deploys/{id}", get(deploy::show))
        .route("/v1/deploys/{id}/events", get(deploy::events))
        .route("/v1/deploys/{id}/cancel", post(deploy::cancel))
        .route("/v1/choice", post(choice::choice))
        .route("/v1/jobs", get(jobs::list))
        .route("/v1/jobs/{name}", get(jobs::show))
        .route("/v1/jobs/{name}/interrupt", post(jobs::interrupt))
        .route("/v1/jobs/{name}/cancel", post(jobs::cancel))
        .route("/v1/jobs/{name}/runs", get(jobs::runs))
        .route("/v1/jobs/{name}/logs/{step}", get(jobs::logs))
        .route("/v1/logs", get(logs::logs))
        .route("/v1/logs/{service}", get(service_log::log))
        .with_state(handle.clone());
    if let Some(addr) = &handle.listen {
        match tokio::net::TcpListener::bind(addr.as_str()).await {
            Ok(tcp) => {
                tracing::info!(address = %addr, "serving status, health and metrics over TCP (read-only)");
                let app = read_only().with_state(handle.clone());
                let done = handle.shutdown_requested();
                tokio::spawn(connections::serve(tcp, app, done));
            }
            Err(e) => tracing::warn!(address = %addr, error = %e, "cannot listen on TCP"),
        }
    }
    let asked = handle.shutdown_requested();
    let stopping = async move {
        tokio::select! {
            _ = shutdown => {}
            _ = asked => {}
        }
    };
    connections::serve(listener, app, stopping).await;
    let _ = std::fs::remove_file(&path);
    Ok(())
}

/// Refuses a request made with another config file than the one this
/// daemon serves ([`CONFIG_HEADER`]); one without the header (curl) is
/// taken as made for this daemon's file.
async fn same_config(
    axum::extract::State(h): axum::extract::State<Handle>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let named = req.headers().get(CONFIG_HEADER).map(|v| {
        use std::os::unix::ffi::OsStrExt;
        let bytes: Vec<u8> = percent_encoding::percent_decode(v.as_bytes()).collect();
        std::path::PathBuf::from(std::ffi::OsStr::from_bytes(&bytes))
    });
    match named {
        Some(file) if !harness_store::same_file(&file, &h.project.config) => error(
            StatusCode::CONFLICT,
            ApiError::new(
                ApiErrorKind::Usage,
                format!(
                    "this daemon serves {}; the request was made with {}",
                    h.project.config.display(),
                    file.display()
                ),
            ),
        ),
        _ => next.run(req).await,
    }
}

/// The routes that only read: served on the Unix socket and, when
/// `settings.listen` asks for it, on TCP.
fn read_only() -> axum::Router<Handle> {
    axum::Router::new()
        .route("/v1/status", get(status::status))
        .route("/v1/services/{name}/health", get(metrics::service_health))
        .route("/v1/metrics", get(metrics::metrics))
        .route("/metrics", get(metrics::metrics))
}

/// An error answer with its kind, so the CLI can pick the exit code.
pub(crate) fn error(status: StatusCode, e: ApiError) -> Response {
    (status, Json(e)).into_response()
}

pub(crate) fn gone() -> Response {
    error(
        StatusCode::SERVICE_UNAVAILABLE,
        ApiError {
            error: "daemon is shutting down".into(),
            kind: ApiErrorKind::Internal,
        },
    )
}

pub(crate) fn api_error(e: ApiError) -> Response {
    let status = match e.kind {
        ApiErrorKind::Usage | ApiErrorKind::Config => StatusCode::UNPROCESSABLE_ENTITY,
        ApiErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        ApiErrorKind::Busy | ApiErrorKind::Changed => StatusCode::CONFLICT,
        ApiErrorKind::Refused => StatusCode::FORBIDDEN,
    };
    error(status, e)
}
