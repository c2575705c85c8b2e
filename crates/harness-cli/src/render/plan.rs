//! Seed 000's state check, and the plan of `start --dry-run`.

use super::status::status_word;
use super::to_stdout;
use harness_api::{Health, Plan, PlanAction, PlanEntry, Status};
use std::io::{self, Write};

/// The name column's width once the state check has shown every name of
/// the command's scope, so progress lines line up from the first one.
pub(super) static NAME_WIDTH: std::sync::atomic::AtomicUsize =
    std::sync::atomic::AtomicUsize::new(0);

pub(super) fn name_width(plan: &Plan) -> usize {
    plan.services
        .iter()
        .map(|e| e.current.name.len() + 1)
        .max()
        .unwrap_or(0)
        .max(12)
}

/// Seed 000's state check: how each service of the command's scope is.
pub fn state_check(plan: &Plan) {
    let width = name_width(plan);
    NAME_WIDTH.fetch_max(width, std::sync::atomic::Ordering::Relaxed);
    to_stdout(|w| write_state_check(w, plan, width));
}

/// [`state_check`], names padded to `width`.
pub fn write_state_check(w: &mut impl Write, plan: &Plan, width: usize) -> io::Result<()> {
    writeln!(w, "Checking current state...")?;
    for e in &plan.services {
        let c = &e.current;
        let (mark, what) = match (c.status, c.health) {
            (Status::Running, Health::Healthy) => ("✓", "already running, healthy".to_string()),
            // Seed 000: `! postgres    (running, not managed by harness)`.
            (Status::External, _) => ("!", "running, not managed by harness".to_string()),
            (Status::Running, Health::Unhealthy) => ("✗", "running, unhealthy".to_string()),
            (Status::Starting, _) => ("⟳", "starting".to_string()),
            (Status::Stopping, _) => ("↶", "stopping".to_string()),
            (Status::Restarting, _) => ("↻", "restarting".to_string()),
            (_, Health::Failed) => {
                let code = c
                    .exit_code
                    .map(|x| format!(", exit code {x}"))
                    .unwrap_or_default();
                (
                    "✗",
                    format!("{}, last exit: failed{code}", status_word(c.status)),
                )
            }
            (_, Health::Blocked) => ("-", format!("stopped, blocked: {}", c.notes)),
            (Status::Exited, _) => ("○", "completed".to_string()),
            _ => ("-", status_word(c.status).to_string()),
        };
        // What runs is not what the file says: never "already running"
        // without a word.
        let what = if c.changes.is_empty() {
            what
        } else {
            format!("{what}; older definition: {}", c.changes.join(", "))
        };
        writeln!(w, "  {mark} {:<width$} ({what})", c.name)?;
    }
    for c in plan.services.iter().map(|e| &e.current) {
        if c.status == Status::External {
            match c.pid {
                Some(pid) => writeln!(w, "\nDetected external service: {} (PID {pid})", c.name)?,
                None => writeln!(w, "\nDetected external service: {}", c.name)?,
            }
        }
    }
    Ok(())
}

/// `start --dry-run`: what the start would do, grouped.
pub fn plan(plan: &Plan, restart: bool) {
    to_stdout(|w| write_plan(w, plan, restart));
}

/// [`plan`].
pub fn write_plan(w: &mut impl Write, plan: &Plan, restart: bool) -> io::Result<()> {
    let names = |f: &dyn Fn(&PlanEntry) -> bool| {
        plan.services
            .iter()
            .filter(|e| f(e))
            .map(|e| e.current.name.clone())
            .collect::<Vec<_>>()
    };
    writeln!(w, "\nPlan (dry run):")?;
    // Not what runs outside harness: a restart cannot stop that.
    let running = names(&|e| e.current.pid.is_some() && e.current.status != Status::External);
    if restart && !running.is_empty() {
        writeln!(w, "  Stop first (--restart): {}", running.join(", "))?;
    }
    // What runs is taken as it is: say when it is not what the file says.
    let taken = |action: PlanAction| -> Vec<String> {
        plan.services
            .iter()
            .filter(|e| e.action == action)
            .map(|e| match e.current.changes.as_slice() {
                _ if e.current.status == Status::External => {
                    format!("{} (not managed by harness)", e.current.name)
                }
                [] => e.current.name.clone(),
                changes => format!(
                    "{} (older definition: {})",
                    e.current.name,
                    changes.join(", ")
                ),
            })
            .collect()
    };
    let used = taken(PlanAction::Use);
    if !used.is_empty() {
        writeln!(w, "  Use as they are: {}", used.join(", "))?;
    }
    let waiting = taken(PlanAction::Wait);
    if !waiting.is_empty() {
        writeln!(w, "  Wait until healthy: {}", waiting.join(", "))?;
    }
    let last = plan
        .services
        .iter()
        .filter_map(|e| e.wave)
        .max()
        .unwrap_or(0);
    for wave in 1..=last {
        let list: Vec<String> = plan
            .services
            .iter()
            .filter(|e| e.action == PlanAction::Start && e.wave == Some(wave))
            .map(|e| {
                if e.detail.is_empty() {
                    e.current.name.clone()
                } else {
                    format!("{} ({})", e.current.name, e.detail)
                }
            })
            .collect();
        if !list.is_empty() {
            writeln!(w, "  Start, wave {wave}: {}", list.join(", "))?;
        }
    }
    for e in plan
        .services
        .iter()
        .filter(|e| e.action == PlanAction::Blocked)
    {
        writeln!(w, "  Blocked: {} ({})", e.current.name, e.detail)?;
    }
    writeln!(w, "\nNothing was changed (--dry-run).")
}
