//! # harness-shim: one small process per service
//!
//! Theory of operation. The daemon must be able to die without taking a
//! service, its log or its exit status along, so each service runs under a
//! shim (as containerd-shim, conmon and s6-supervise do):
//!
//! 1. The shim leaves the daemon's session (`setsid`) and becomes the
//!    subreaper of everything below it. Then it reads its job from stdin
//!    ([`Args::decode`]); the daemon keeps one shim waiting at this point,
//!    so a spawn costs one process creation instead of two.
//! 2. It spawns the service in a new process group whose id is the service's
//!    pid, with stdout and stderr on two pipes, and tells the daemon
//!    `started PID` on its own stdout (or `error …` when exec fails).
//! 3. It copies whole lines from both pipes to `logs/NAME.log`, rotating by
//!    size. It blocks on a slow disk rather than drop output: a full pipe
//!    slows the service, never loses a line.
//! 4. When the main process ends it stops whatever is left of the group
//!    (stop signal, grace, SIGKILL), kills descendants that escaped the
//!    group, drains the pipes, writes the exit status to the exit file and
//!    exits. The daemon learns of the end from the shim's pidfd.
//!
//! A service with `socket:` gets its listening socket as fd 3, which the
//! daemon puts there when it starts the shim; the shim keeps its copy open
//! for the run's life (so a daemon that died can take it back) and runs
//! the service through [`WITH_LISTEN_PID`], which sets `LISTEN_PID` to the
//! service's own pid — known only after the fork — before the exec.
//!
//! No async runtime and almost no allocation: a hundred shims must fit in a
//! few megabytes.

mod args;
pub mod exit_file;
pub mod log;
mod run;
mod sys;

pub use args::Args;
pub use log::LogWriter;
pub use run::main;

/// The shim's first argument when it is to set `LISTEN_PID` to its own
/// pid and exec the rest (`harness-shim --with-listen-pid ARGV…`).
pub const WITH_LISTEN_PID: &str = "--with-listen-pid";

/// Parses an exit file written by a shim: `(run, end)` where `end` is
/// `Ok(code)` for an exit and `Err(signal)` for a death by signal.
pub fn parse_exit_file(text: &str) -> Option<(u64, Result<i32, i32>)> {
    let mut run = None;
    let mut end = None;
    for line in text.lines() {
        match line.split_once('=') {
            Some(("run", v)) => run = v.parse().ok(),
            Some(("exit", v)) => end = v.parse().ok().map(Ok),
            Some(("signal", v)) => end = v.parse().ok().map(Err),
            _ => {}
        }
    }
    Some((run?, end?))
}
