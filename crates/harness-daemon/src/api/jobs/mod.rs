//! Jobs' routes: `acting` — `POST /v1/jobs/NAME/run` (SSE `plan`, `step`,
//! `cleanup`, `done`; a client that goes away does not stop the run),
//! `/decide`, `/mark`, `/interrupt`, `/cancel`; `reading` — `GET /v1/jobs`,
//! `GET /v1/jobs/NAME` (the record), `/runs`, `/logs/STEP`.

mod acting;
mod reading;

pub(crate) use acting::{cancel, decide, interrupt, mark, run};
pub(crate) use reading::{list, logs, runs, show};

use harness_api::{ApiError, ApiErrorKind};
use std::time::Duration;

/// How long a request waits for the writes sent before it to be on disk
/// before it reads the store.
const READ_AFTER_WRITES: Duration = Duration::from_secs(2);

fn internal(e: harness_store::StoreError) -> ApiError {
    ApiError::new(ApiErrorKind::Internal, e.to_string())
}
