//! # harness-cli: the `harness` command
//!
//! Theory of operation: parse the arguments, find and validate the config
//! (config errors exit 2 before anything runs), make sure the project's
//! daemon is up (starting it detached if not), then speak to it over its Unix
//! socket — the same HTTP/SSE API any other client uses — and render what it
//! says: progress lines or bars, tables, JSON. No supervision logic lives
//! here. [`CliError`] maps every failure to one exit code.

mod args;
mod client;
mod commands;
mod error;
mod prompt;
mod render;

pub use error::CliError;

use clap::Parser;

/// What `harness daemon run` runs: the supervisor of a project, in the
/// foreground. The binary passes it in, so that the command line does not
/// link the daemon (the layers stay apart; a test can pass its own).
pub type DaemonMain = fn(harness_store::Project) -> anyhow::Result<()>;

/// Runs the CLI; returns the process exit code.
pub fn main(daemon: DaemonMain) -> i32 {
    quiet_on_closed_stdout();
    let args = args::Cli::parse();
    match commands::dispatch(args, daemon) {
        Ok(()) => 0,
        Err(e) => e.report(),
    }
}

/// `harness status | head -1`: when the reader goes away, end the way every
/// Unix tool does — killed by SIGPIPE, without a word — instead of
/// panicking in `println!`. Rust ignores SIGPIPE so that writes to a closed
/// socket are errors, not deaths; only stdout gets the Unix behaviour back.
fn quiet_on_closed_stdout() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let text = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .unwrap_or_default();
        if text.starts_with("failed printing to stdout") && text.contains("Broken pipe") {
            // SAFETY: restoring the default disposition and raising the
            // signal ends the process as a closed pipe would; if SIGPIPE
            // is blocked, the exit status a shell shows for it.
            unsafe {
                libc::signal(libc::SIGPIPE, libc::SIG_DFL);
                libc::raise(libc::SIGPIPE);
                libc::_exit(128 + libc::SIGPIPE);
            }
        }
        default(info);
    }));
}
