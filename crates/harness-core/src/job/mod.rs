//! Jobs (seed 003): ordered steps that resume where they failed. Only the
//! pure decisions live here, each a function of its inputs with time as a
//! value, so every rule is table-tested:
//!
//! - [`classify`]: the class of a failed attempt — transient (retried on
//!   its own) or persistent (waits for a person) — from its exit code,
//!   signal, timeout or output;
//! - [`retry`]: after a failed attempt, whether and when the next one
//!   runs: `max_attempts` counts every attempt, the first included;
//! - [`resume`]: which steps a run runs and which it skips, and why: a
//!   completed step is skipped only while its fingerprint and its declared
//!   outputs are what they were when it completed;
//! - [`run`]: one run as a state machine — the state is the step reached,
//!   the status how it stands (running, waiting to retry, completed,
//!   failed, needs a decision, cancelled). A failed step keeps the state;
//!   an attempt cut short with the host runs again if the step is
//!   idempotent (it does not count as an attempt: the step did not fail),
//!   else the run waits for a decision; a person's decision about a step
//!   that failed for good (retry now, skip it as completed with a reason,
//!   stop, clean up) is an input like any other;
//! - [`runner`]: a run with its processes — each attempt's run id, its
//!   spawn (recorded as started and made durable first), its `timeout`
//!   (stopped, then failed as timed out), a cancel's stop (not counted as
//!   an attempt).
//!
//! The config's `jobs:` key is read by `config::parse`; the runtime
//! (`harness-daemon`'s `supervisor::jobs` and the files beside it:
//! spawning steps under the shim, recording attempts, hashing files), the
//! API and `harness run` / `harness jobs` come on top of these.

pub mod classify;
pub mod resume;
pub mod retry;
pub mod run;
pub mod runner;

#[cfg(test)]
mod tests;
