//! Commands on a real pseudo-terminal, for the prompts.

use super::Stack;
use rexpect::process::wait::WaitStatus;
use rexpect::session::{PtySession, spawn_command};
use std::time::{Duration, Instant};

/// What every numbered prompt ends with (seed 000's four answers).
pub const CHOICE: &str = "Choice [1-4]: ";

/// `harness ARGS` with stdin and stdout on a pseudo-terminal.
///
/// Each expectation fails after 30 s. A session dropped with harness still
/// running (a failed expectation) sends it SIGTERM, and SIGKILL 5 s later
/// if it is still there.
pub fn on_terminal(s: &Stack, args: &[&str]) -> PtySession {
    let mut cmd = s.command(args);
    cmd.env("TERM", "xterm");
    let mut p = spawn_command(cmd, Some(30_000)).expect("spawn on a pty");
    p.process.set_kill_timeout(Some(5_000));
    p
}

/// Reads to the end and returns the exit code.
pub fn finish(mut p: PtySession) -> (i32, String) {
    let rest = p.exp_eof().expect("harness ends");
    // The terminal is closed; harness should be gone a moment later.
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        match p.process.status() {
            Some(WaitStatus::StillAlive) | None if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(10));
            }
            Some(WaitStatus::StillAlive) | None => {
                // The session's own process group (rexpect runs it in a
                // session of its own).
                let pid = p.process.child_pid.as_raw();
                // SAFETY: SIGKILL to the process group this test started.
                unsafe { libc::kill(-pid, libc::SIGKILL) };
                panic!("harness closed the terminal but did not exit:\n{rest}");
            }
            Some(status) => break status,
        }
    };
    match status {
        WaitStatus::Exited(_, code) => (code, rest),
        other => panic!("harness did not exit normally: {other:?}"),
    }
}
