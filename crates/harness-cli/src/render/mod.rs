//! Everything the CLI prints: progress (bars on a terminal, one plain line
//! per change otherwise), summaries, the status table, the history. Each
//! report is a `write_*` function over any `io::Write` (tested against
//! snapshots); the plain-named function prints it.

mod deploy;
mod external;
mod history;
mod job;
mod logs;
mod outcome;
mod plan;
mod progress;
mod status;
#[cfg(test)]
mod tests;

pub use deploy::{
    deploy_done, deploy_event, deploy_history, deploy_plan, deploy_record, event_width,
};
pub use external::found;
pub use history::history;
pub use job::{cleanup, job_done, job_history, job_plan, job_table, step_event, step_width};
pub use logs::LogView;
pub use outcome::{failure_summary, interrupted, recovery, stopped, success};
pub use plan::{plan, state_check};
pub use progress::{Progress, Style, recovery_heading};
pub use status::status;

use std::io;
static COMMAND: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// How hints spell the command: `harness`, or `harness -f FILE` when the
/// config was named on the command line.
pub fn set_command(cmd: String) {
    let _ = COMMAND.set(cmd);
}

/// The command as hints spell it.
pub fn hx() -> &'static str {
    COMMAND.get().map(String::as_str).unwrap_or("harness")
}

/// "1 service", "3 services".
pub fn count(n: usize) -> String {
    if n == 1 {
        "1 service".into()
    } else {
        format!("{n} services")
    }
}

/// "Stopping all services..." or "Stopping services...".
pub fn stopping_heading(all: bool) -> &'static str {
    if all {
        "Stopping all services..."
    } else {
        "Stopping services..."
    }
}

/// Renders into memory, then prints it in one go: writing to a `Vec`
/// cannot fail, and a closed stdout ends the command as `println!` does
/// (see `lib.rs`).
fn to_stdout(f: impl FnOnce(&mut Vec<u8>) -> io::Result<()>) {
    let mut buf = Vec::new();
    let _ = f(&mut buf);
    print!("{}", String::from_utf8_lossy(&buf));
}

/// [`to_stdout`] for stderr.
fn to_stderr(f: impl FnOnce(&mut Vec<u8>) -> io::Result<()>) {
    let mut buf = Vec::new();
    let _ = f(&mut buf);
    eprint!("{}", String::from_utf8_lossy(&buf));
}
