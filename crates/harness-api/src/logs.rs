//! `GET /v1/logs` lines (NDJSON), which `harness logs --json` prints as
//! they are.

use serde::{Deserialize, Serialize};

/// One line of a log, as captured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogLine {
    /// The service it came from, or `JOB/STEP` for an attempt at a job's
    /// step.
    pub service: String,
    /// Which of its outputs.
    pub stream: LogStream,
    /// When the shim captured it: RFC 3339 in UTC, to the microsecond
    /// (`2026-12-02T10:00:00.123456Z`); `null` for a line of a log written
    /// before harness recorded capture times.
    pub ts: Option<String>,
    /// The line, without its newline.
    pub line: String,
}

/// stdout or stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogStream {
    /// The service's stdout (and harness's own `[harness] …` marks).
    Stdout,
    /// The service's stderr.
    Stderr,
}
