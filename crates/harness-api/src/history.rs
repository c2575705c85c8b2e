//! `GET /v1/history` rows, and the choices people make at prompts.

use serde::{Deserialize, Serialize};

/// One row of the history (`GET /v1/history`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// Local time, `YYYY-MM-DD HH:MM:SS.mmm`.
    pub ts: String,
    /// Service name.
    pub service: String,
    /// State before.
    pub from: String,
    /// State after.
    pub to: String,
    /// Why.
    pub reason: String,
    /// What request led to it, when a person or a follow-up asked
    /// ("retry chosen at prompt", "rollback: api failed
    /// (--rollback-on-failure)"). It is also part of `reason`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
}

/// `POST /v1/choice`: an answer given at a prompt, kept in the history as
/// a row of the pseudo-service [`CHOICE_SUBJECT`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Choice {
    /// The question ("partial system", "startup failed").
    pub prompt: String,
    /// The answer ("continue", "retry").
    pub answer: String,
    /// The situation it answered ("2 of 5 services running").
    pub detail: String,
}

/// The history's name for rows recording a person's choice; not a valid
/// service name, so it never collides with one.
pub const CHOICE_SUBJECT: &str = "(choice)";
