//! The body of an error answer, and its kind.

use serde::{Deserialize, Serialize};

/// The body of an error answer (4xx/5xx).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    /// What went wrong.
    pub error: String,
    /// What kind of error: picks the HTTP status and the CLI's exit code.
    pub kind: ApiErrorKind,
}

impl ApiError {
    /// An error of `kind` saying `error`.
    pub fn new(kind: ApiErrorKind, error: impl Into<String>) -> Self {
        ApiError {
            error: error.into(),
            kind,
        }
    }
}

/// The kinds of [`ApiError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApiErrorKind {
    /// The request names something that does not exist or asks for
    /// something impossible (CLI exit 2; HTTP 422, or 404 for an unknown
    /// service in the path).
    Usage,
    /// The config file is invalid (CLI exit 2; HTTP 422).
    Config,
    /// harness itself failed (CLI exit 1; HTTP 500 or 503).
    Internal,
    /// Another operation holds what the request needs: a deploy runs, or
    /// a deploy was asked for while a start or stop runs (CLI exit 1;
    /// HTTP 409). The message names it.
    Busy,
    /// What the request was made against has changed: a deploy asked for
    /// with the plan the user read, when the file no longer gives that
    /// plan (CLI exit 1; HTTP 409). Nothing was done.
    Changed,
    /// harness will not do it, and never would: adopt or stop PID 1,
    /// harness's own processes, or (unless it runs as root) another
    /// user's; or a process it was to stop refused to end (CLI exit 3;
    /// HTTP 403). Nothing else was done.
    Refused,
}
