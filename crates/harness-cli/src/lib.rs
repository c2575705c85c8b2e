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

/// Runs the CLI; returns the process exit code.
pub fn main() -> i32 {
    let args = args::Cli::parse();
    match commands::dispatch(args) {
        Ok(()) => 0,
        Err(e) => e.report(),
    }
}
