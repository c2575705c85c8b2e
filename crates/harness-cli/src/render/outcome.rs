//! What a start ended with: the failure report, an interrupted start, and
//! what a smart rollback kept and stopped.

use super::{count, hx, to_stderr, to_stdout};
use harness_api::{OnFailure, Phase, Progress as Event, Recovery, Summary, WarningReason};
use std::collections::BTreeMap;
use std::io::{self, Write};

/// The partial-failure report of seed 000 / 001.
pub fn failure_summary(s: &Summary, timed_out: &[&Event]) {
    println!();
    to_stderr(|w| write_failure_summary(w, s, timed_out));
}

/// [`failure_summary`], after its blank line.
pub fn write_failure_summary(
    w: &mut impl Write,
    s: &Summary,
    timed_out: &[&Event],
) -> io::Result<()> {
    let list = |v: &[String]| format!("{} ({})", v.join(", "), count(v.len()));
    if !s.stopped.is_empty() {
        writeln!(w, "Error: Startup cut short by a stop")?;
    } else if s.started.is_empty() && s.warned.is_empty() {
        writeln!(w, "Error: Service startup failed")?;
    } else {
        writeln!(w, "Error: Partial startup failure")?;
    }
    if !s.started.is_empty() {
        writeln!(w, "  Started: {}", list(&s.started))?;
    }
    if !s.warned.is_empty() {
        writeln!(w, "  Started with warnings: {}", list(&s.warned))?;
    }
    if !s.failed.is_empty() {
        writeln!(w, "  Failed: {}", list(&s.failed))?;
    }
    if !s.blocked.is_empty() {
        writeln!(w, "  Blocked: {}", list(&s.blocked))?;
    }
    if !s.stopped.is_empty() {
        writeln!(w, "  Stopped meanwhile: {}", list(&s.stopped))?;
    }
    for t in timed_out {
        writeln!(
            w,
            "\nService '{}' did not become healthy ({}). It is still running but not healthy.",
            t.service, t.detail
        )?;
    }
    write_ways_out(w, s, timed_out)
}

/// "You can:" and a command for each way out of the failure.
fn write_ways_out(w: &mut impl Write, s: &Summary, timed_out: &[&Event]) -> io::Result<()> {
    writeln!(w)?;
    if !s.started.is_empty() || !timed_out.is_empty() {
        writeln!(w, "Started services are still running. You can:")?;
    } else {
        writeln!(w, "You can:")?;
    }
    if let Some(f) = s.failed.first() {
        writeln!(w, "  • Check logs: {hx} logs {f} --tail 100", hx = hx())?;
        writeln!(
            w,
            "  • Retry failed: {hx} start {}",
            s.failed.join(" "),
            hx = hx()
        )?;
    }
    if let Some(t) = timed_out.first() {
        writeln!(
            w,
            "  • Increase timeout: {hx} start {} --timeout 600",
            t.service,
            hx = hx()
        )?;
    }
    if !s.blocked.is_empty() {
        writeln!(
            w,
            "  • Force continue: {hx} start {} --force",
            s.blocked.join(" "),
            hx = hx()
        )?;
    }
    writeln!(w, "  • Stop all: {hx} stop --all", hx = hx())
}

/// What to say when Ctrl-C interrupts a start.
pub fn interrupted(last: &BTreeMap<String, Event>) {
    to_stderr(|w| write_interrupted(w, last));
}

/// [`interrupted`].
pub fn write_interrupted(w: &mut impl Write, last: &BTreeMap<String, Event>) -> io::Result<()> {
    let pick = |f: fn(Phase) -> bool| {
        last.values()
            .filter(|p| f(p.phase))
            .map(|p| p.service.clone())
            .collect::<Vec<_>>()
    };
    let running = pick(|p| {
        matches!(
            p,
            Phase::Healthy
                | Phase::Started
                | Phase::Existing
                | Phase::Warning
                | Phase::Starting
                | Phase::TimedOut
        )
    });
    let not_started = pick(|p| matches!(p, Phase::Waiting | Phase::Blocked));
    writeln!(w, "\nInterrupted: no further services will be started.")?;
    if !running.is_empty() {
        writeln!(w, "  Left running: {}", running.join(", "))?;
    }
    if !not_started.is_empty() {
        writeln!(w, "  Not started: {}", not_started.join(", "))?;
    }
    writeln!(w, "  Stop all: {hx} stop --all", hx = hx())
}

/// What a smart rollback kept, stopped and never started.
pub fn write_smart_rollback(w: &mut impl Write, r: &Recovery) -> io::Result<()> {
    writeln!(w, "\nPartial failure detected:")?;
    let lines = [
        ("Keeping independent services", &r.kept),
        ("Stopped dependent services", &r.stopped),
        ("Not starting dependent services", &r.not_started),
        (
            "Left running (already running before this command)",
            &r.left_running,
        ),
        ("Still running, not healthy", &r.unhealthy),
    ];
    for (what, names) in lines {
        if !names.is_empty() {
            writeln!(w, "  {what}: {}", names.join(", "))?;
        }
    }
    Ok(())
}

/// What a start that succeeded says: its warnings, that nothing needed
/// starting, or how long it took.
pub fn success(s: &Summary, no_wait: bool, already: &[String]) {
    to_stdout(|w| write_success(w, s, no_wait, already));
}

/// [`success`]: `already` are those of `s.started` that ran before the
/// command (a retry's `existing` may have been started by the command).
pub fn write_success(
    w: &mut impl Write,
    s: &Summary,
    no_wait: bool,
    already: &[String],
) -> io::Result<()> {
    if !s.warnings.is_empty() {
        writeln!(w)?;
        for warning in &s.warnings {
            let why = match warning.reason {
                WarningReason::DependenciesNotHealthy => {
                    "started although its dependencies are not healthy"
                }
                WarningReason::NotHealthy => "started but is not healthy",
            };
            writeln!(w, "Warning: Service '{}' {why}", warning.service)?;
        }
        writeln!(
            w,
            "  • Check status: {hx} status\n  • View logs: {hx} logs {}",
            s.warned[0],
            hx = hx()
        )
    } else if !s.started.is_empty() && already.len() == s.started.len() {
        // Nothing was started (with or without --no-wait): say what is
        // true.
        let all = if s.started.len() == 1 { "" } else { "All " };
        let verb = if s.started.len() == 1 { "is" } else { "are" };
        writeln!(
            w,
            "\n{all}{} {verb} already running; nothing to start",
            count(s.started.len())
        )
    } else if no_wait {
        writeln!(w, "\nServices started. Check status with: {} status", hx())
    } else if already.is_empty() {
        writeln!(
            w,
            "\nAll {} started in {:.1}s",
            count(s.started.len()),
            s.elapsed
        )
    } else {
        // All of them are up now, some started by this command.
        writeln!(
            w,
            "\nAll {} up in {:.1}s ({} started, {} already running)",
            count(s.started.len()),
            s.elapsed,
            s.started.len() - already.len(),
            already.len()
        )
    }
}

/// What a failed start's recovery did: on stdout what was stopped and
/// left, on stderr the error.
pub fn recovery(s: &Summary, r: &Recovery) {
    let mut err = Vec::new();
    to_stdout(|w| write_recovery(w, &mut err, s, r));
    eprint!("{}", String::from_utf8_lossy(&err));
}

/// [`recovery`]: the report to `w`, the error to `err`.
pub fn write_recovery(
    w: &mut impl Write,
    err: &mut impl Write,
    s: &Summary,
    r: &Recovery,
) -> io::Result<()> {
    match r.policy {
        OnFailure::Keep => Ok(()),
        OnFailure::Teardown => {
            writeln!(w, "{}", stopped(r.stopped.len(), r.elapsed))?;
            writeln!(err, "\nError: Startup failed, all services stopped")
        }
        OnFailure::Rollback => {
            if r.stopped.is_empty() {
                writeln!(
                    w,
                    "\nNothing to roll back: this command started no service."
                )?;
            }
            if !r.left_running.is_empty() {
                writeln!(
                    w,
                    "  Left running (already running before this command): {}",
                    r.left_running.join(", ")
                )?;
            }
            let what = match (r.stopped.is_empty(), r.left_running.is_empty()) {
                (true, _) => "nothing was stopped",
                (false, true) => "all services stopped",
                (false, false) => "services started by this command were stopped",
            };
            writeln!(err, "\nError: Startup failed, {what}")
        }
        OnFailure::SmartRollback => {
            write_smart_rollback(w, r)?;
            writeln!(
                err,
                "\nError: Partial startup failure: {} failed",
                s.failed.join(", ")
            )
        }
    }
}

/// "Stopped 3 services in 0.1s": the end of every stop; counting only what
/// it stopped, not what was down already.
pub fn stopped(n: usize, elapsed: f64) -> String {
    if n == 0 {
        "Nothing was running; nothing was stopped".to_string()
    } else {
        format!("Stopped {} in {elapsed:.1}s", count(n))
    }
}
