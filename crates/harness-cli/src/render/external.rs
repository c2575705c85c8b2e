//! What `harness adopt` shows of an instance outside harness before it
//! asks (seed 000's "Found postgres process (PID 1234): …").

use super::to_stdout;
use harness_api::ExternalInstance;
use std::io::{self, Write};

/// The instance found, and why harness will not touch it if it will not.
pub fn found(e: &ExternalInstance) {
    let started = e.started_at_ms.and_then(local_time);
    to_stdout(|w| write_found(w, e, started.as_deref()));
}

/// [`found`], with its start time as it is printed (local time).
pub fn write_found(
    w: &mut impl Write,
    e: &ExternalInstance,
    started: Option<&str>,
) -> io::Result<()> {
    match e.pid {
        Some(pid) => writeln!(w, "Found {} process (PID {pid}):", e.service)?,
        None => writeln!(w, "Found {} running outside harness:", e.service)?,
    }
    if !e.command.is_empty() {
        writeln!(w, "  Command: {}", command_line(&e.command))?;
    }
    match e.ports.as_slice() {
        [] => {}
        [port] => writeln!(w, "  Port: {port}")?,
        ports => {
            let ports: Vec<String> = ports.iter().map(u16::to_string).collect();
            writeln!(w, "  Ports: {}", ports.join(", "))?;
        }
    }
    if let Some(user) = &e.user {
        writeln!(w, "  User: {user}")?;
    }
    if let Some(started) = started {
        writeln!(w, "  Started: {started}")?;
    }
    let check = if e.healthy {
        "passes"
    } else {
        "has not passed"
    };
    writeln!(w, "  Found by: {}; its health check {check}", e.evidence)?;
    if let Some(why) = &e.refused {
        writeln!(w, "\nharness will not adopt it: {why}")?;
    }
    Ok(())
}

/// A command line as a shell would take it back (a word with a NUL,
/// which no shell can quote, as it is).
fn command_line(argv: &[String]) -> String {
    shlex::try_join(argv.iter().map(String::as_str)).unwrap_or_else(|_| argv.join(" "))
}

/// `ms` since the Unix epoch as local time, `2026-12-03 10:15:02`.
fn local_time(ms: i64) -> Option<String> {
    use chrono::TimeZone;
    let t = chrono::Local.timestamp_millis_opt(ms).single()?;
    Some(t.format("%Y-%m-%d %H:%M:%S").to_string())
}
