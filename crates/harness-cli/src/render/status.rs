//! The status table, the system state and the recovery hints.

use super::{count, hx, to_stdout};
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use harness_api::{Health, ServiceStatus, Status, StatusReport, SystemState};
use std::io::{self, Write};

/// The Health cell, with seed 004's indicators: ✓ healthy, ↻ starting or
/// restarting, ✗ unhealthy or failed, ✗✗ given up on, ○ nothing known.
fn health_cell(s: &harness_api::ServiceStatus) -> String {
    match (s.status, s.health) {
        (Status::Restarting, _) => "↻ restarting",
        (Status::Failed, _) => "✗✗ failed",
        (_, Health::Healthy) => "✓ healthy",
        (_, Health::Unhealthy) => "✗ unhealthy",
        (_, Health::Starting) => "↻ starting",
        (_, Health::Blocked) => "- blocked",
        (_, Health::Failed) => "✗ failed",
        (_, Health::Unknown) => "○ -",
    }
    .to_string()
}

pub(super) fn status_word(s: Status) -> &'static str {
    match s {
        Status::Stopped => "stopped",
        Status::Starting => "starting",
        Status::Running => "running",
        Status::Stopping => "stopping",
        Status::Restarting => "restarting",
        Status::Failed => "failed",
        Status::Exited => "exited",
        Status::External => "external",
    }
}

/// The status table, the system state and the recovery hints.
pub fn status(r: &StatusReport) {
    to_stdout(|w| write_status(w, r));
}

/// [`status`].
pub fn write_status(w: &mut impl Write, r: &StatusReport) -> io::Result<()> {
    writeln!(w, "{}", table(r))?;
    for s in r.services.iter().filter(|s| !s.last_output.is_empty()) {
        writeln!(w, "\n{} (last output):", s.name)?;
        for line in &s.last_output {
            writeln!(w, "  | {line}")?;
        }
    }
    let state = match r.system_state {
        SystemState::Running => "RUNNING",
        SystemState::Partial => "PARTIAL",
        SystemState::Degraded => "DEGRADED",
        SystemState::Failed => "FAILED",
        SystemState::Stopped => "STOPPED",
    };
    writeln!(w, "\nSystem state: {state}")?;
    if let Some(warning) = &r.warning {
        writeln!(w, "  Warning: {warning}")?;
    }
    let groups = Groups::of(r);
    for (list, what) in [
        (&groups.running, "running"),
        (&groups.restarting, "restarting on its own"),
        (&groups.unhealthy, "unhealthy"),
        (&groups.failed, "failed"),
        (&groups.blocked, "blocked"),
    ] {
        if !list.is_empty() {
            writeln!(w, "  {} {what} ({})", count(list.len()), list.join(", "))?;
        }
    }
    if matches!(
        r.system_state,
        SystemState::Partial | SystemState::Degraded | SystemState::Failed
    ) {
        write_hints(w, &groups)?;
    }
    let older: Vec<&str> = r
        .services
        .iter()
        .filter(|s| !s.changes.is_empty() && !s.removed_from_file)
        .map(|s| s.name.as_str())
        .collect();
    let gone = r.services.iter().any(|s| s.removed_from_file);
    if !older.is_empty() || gone {
        writeln!(w, "\nTo run what the file says:")?;
    }
    if !older.is_empty() {
        writeln!(
            w,
            "  {hx} deploy {}   # Replace with the file's definition (kept only once healthy)",
            older.join(" "),
            hx = hx()
        )?;
    }
    if gone {
        writeln!(
            w,
            "  {hx} deploy   # Also stops the services gone from the file",
            hx = hx()
        )?;
    }
    Ok(())
}

/// One row per service.
fn table(r: &StatusReport) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED).set_header([
        "Service", "Status", "Health", "PID", "Uptime", "Restarts", "Network", "Notes",
    ]);
    for s in &r.services {
        t.add_row([
            s.name.clone(),
            status_word(s.status).to_string(),
            health_cell(s),
            s.pid.map(|p| p.to_string()).unwrap_or_else(|| "-".into()),
            s.uptime_secs
                .map(harness_core::duration::compact)
                .unwrap_or_else(|| "-".into()),
            s.restarts.to_string(),
            s.network.clone(),
            s.notes.clone(),
        ]);
    }
    t
}

/// The services of a report, grouped by what a person may do about them.
struct Groups {
    running: Vec<String>,
    restarting: Vec<String>,
    unhealthy: Vec<String>,
    failed: Vec<String>,
    blocked: Vec<String>,
}

impl Groups {
    fn of(r: &StatusReport) -> Groups {
        let names = |f: &dyn Fn(&ServiceStatus) -> bool| {
            r.services
                .iter()
                .filter(|s| f(s))
                .map(|s| s.name.clone())
                .collect::<Vec<_>>()
        };
        Groups {
            running: names(&|s| s.pid.is_some()),
            restarting: names(&|s| s.status == Status::Restarting),
            unhealthy: names(&|s| s.health == Health::Unhealthy && s.status != Status::Restarting),
            failed: names(&|s| s.health == Health::Failed),
            blocked: names(&|s| s.health == Health::Blocked),
        }
    }
}

/// "To recover:" and a command for each thing that can be done.
fn write_hints(w: &mut impl Write, g: &Groups) -> io::Result<()> {
    writeln!(w, "\nTo recover:")?;
    for f in &g.failed {
        writeln!(w, "  {hx} start {f:<12} # Retry failed service", hx = hx())?;
    }
    if g.failed.len() > 1 {
        writeln!(
            w,
            "  {hx} start --failed     # Retry all failed services",
            hx = hx()
        )?;
    }
    for u in &g.unhealthy {
        writeln!(
            w,
            "  {hx} logs {u} --tail 100   # See why it is unhealthy",
            hx = hx()
        )?;
    }
    for r in &g.restarting {
        writeln!(
            w,
            "  {hx} logs {r} --tail 100   # See why it ended (harness restarts it)",
            hx = hx()
        )?;
    }
    if !g.blocked.is_empty() {
        writeln!(
            w,
            "  {hx} start --blocked --force   # Start blocked services anyway ({})",
            g.blocked.join(", "),
            hx = hx()
        )?;
    }
    writeln!(w, "  {hx} stop --all       # Stop everything", hx = hx())
}
