//! # harness-daemon: the supervisor of one project
//!
//! Theory of operation. One daemon serves one project folder. It holds the
//! lock `.harness/daemon.lock`, listens on `.harness/harness.sock`, and runs a
//! single supervisor task ([`supervisor`]) that owns the pure
//! [`harness_core::engine::Engine`]. Everything else is a fact source or an
//! action executor around it:
//!
//! - API handlers ([`api`]) send requests in and stream progress out (SSE);
//!   [`wire`] turns the engine's reports into the API's types;
//! - [`process`] spawns services under shims (keeping a spare one ready), watches them through pidfds, reads their exit
//!   files and stops process groups;
//! - [`probe`] runs tcp / http / command health checks;
//! - [`log_cursor`] reads a log forward with each line's capture time and
//!   stream (the shim's index), its window first, then as it grows, across
//!   rotation (`harness logs`, log-line readiness); [`log_lines`] merges
//!   several logs by time; [`log_sources`] finds the logs a name means;
//! - [`store_writer`] persists runs and history on its own thread, so the
//!   supervisor never waits on the disk.
//!
//! On start the daemon re-attaches to the runs recorded in the store, trusting
//! a pid only when its process start time matches the recorded one.

pub mod adopted_output;
pub mod api;
pub mod external_scan;
pub mod fd_limit;
pub mod file_hashes;
pub mod job_prep;
pub mod job_prints;
pub mod job_record;
pub mod listeners;
pub mod lock;
pub mod log_cursor;
pub mod log_lines;
pub mod log_sources;
pub mod metrics;
pub mod notify;
pub mod probe;
pub mod process;
pub mod sock_diag;
pub mod store_writer;
pub mod supervisor;
pub mod wire;

use harness_store::Project;
use std::future::Future;

/// Runs the daemon for `project` until `shutdown` completes or a client asks
/// it to exit. Services keep running after it returns.
pub async fn run(
    project: Project,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    if let Some((from, to)) = fd_limit::raise() {
        tracing::debug!(
            from,
            to,
            "raised the daemon's open-file limit (its children keep the one it was started with)"
        );
    }
    // The state folder holds the services' output and what they were
    // started with: the user's alone (`harness_store::private`). Repaired
    // under the lock, so no other daemon creates files meanwhile.
    harness_store::private::dir(&project.state_dir())?;
    let _lock = lock::DaemonLock::acquire(&project.lock())?;
    let opened = harness_store::private::repair(&project.state_dir())?;
    if !opened.is_empty() {
        tracing::warn!(
            count = opened.len(),
            first = %opened[0].display(),
            "made the state folder private: these were open to other users (now folders 0700, files 0600)"
        );
    }
    harness_store::private::dir(&project.logs_dir())?;
    harness_store::private::dir(&project.run_dir())?;
    let config = project
        .load()
        .map_err(|e| anyhow::anyhow!("invalid config:\n{e}"))?;
    let (handle, sup) = supervisor::Supervisor::boot(project.clone(), config)?;
    // A supervisor that fails (a bug) takes the daemon down with it rather
    // than leave a socket that answers nothing: the services run on under
    // their shims, and the next command's daemon re-attaches to them.
    let sup_task = {
        let handle = handle.clone();
        tokio::spawn(async move {
            if let Err(e) = tokio::spawn(sup.run()).await {
                tracing::error!(error = %e, "the supervisor failed; the daemon exits, services keep running");
            }
            handle.shutdown();
        })
    };
    let served = api::serve(&project, handle.clone(), shutdown).await;
    handle.shutdown();
    let _ = sup_task.await;
    served
}

/// Builds a single-threaded runtime and runs the daemon until SIGTERM or
/// SIGINT. This is `harness daemon run`.
pub fn run_blocking(project: Project) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let shutdown = async {
            use tokio::signal::unix::{SignalKind, signal};
            let (Ok(mut term), Ok(mut int)) = (
                signal(SignalKind::terminate()),
                signal(SignalKind::interrupt()),
            ) else {
                return std::future::pending().await;
            };
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        };
        run(project, shutdown).await
    })
}
