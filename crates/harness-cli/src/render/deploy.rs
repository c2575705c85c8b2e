//! `harness deploy`: its plan, one line per event (seed 002's lines), and
//! how it ended. Lines, not bars: a deploy's output is read afterwards, in
//! CI logs as much as on a terminal.

use super::to_stdout;
use harness_api::{
    DeployAction, DeployDone, DeployEvent, DeployFailed, DeployPhase, DeployPlan, DeployProgress,
    Kept,
};
use std::io::{self, Write};

/// The width of `name:` in event lines, for every name of the plan.
pub fn event_width(plan: &DeployPlan) -> usize {
    plan.services
        .iter()
        .map(|e| e.service.len() + 1)
        .max()
        .unwrap_or(0)
}

/// Prints the plan.
pub fn deploy_plan(plan: &DeployPlan, file: &str, no_prune: bool) {
    to_stdout(|w| write_deploy_plan(w, plan, file, no_prune));
}

/// What the deploy does with each service, with the reasons: `+ add`,
/// `~ change`, `≈ in-place`, `- remove`, `= unchanged`.
pub fn write_deploy_plan(
    w: &mut impl Write,
    plan: &DeployPlan,
    file: &str,
    no_prune: bool,
) -> io::Result<()> {
    writeln!(w, "Deploy plan for {file}:")?;
    let width = plan
        .services
        .iter()
        .map(|e| e.service.len())
        .max()
        .unwrap_or(0);
    for e in &plan.services {
        let (mark, word) = match e.action {
            DeployAction::Add => ("+", "add"),
            DeployAction::Change => ("~", "change"),
            DeployAction::InPlace => ("≈", "in-place"),
            DeployAction::Remove if no_prune => ("!", "keep running (--no-prune)"),
            DeployAction::Remove => ("-", "remove"),
            DeployAction::Unchanged => ("=", "unchanged"),
        };
        let why = if e.reasons.is_empty() {
            String::new()
        } else {
            format!(": {}", e.reasons.join(", "))
        };
        writeln!(w, "  {mark} {:<width$}  {word}{why}", e.service)?;
    }
    if !plan.pending {
        writeln!(w, "Nothing to deploy: everything runs what the file says.")?;
    }
    Ok(())
}

/// Prints one event.
pub fn deploy_event(e: &DeployEvent, width: usize) {
    to_stdout(|w| write_deploy_event(w, e, width));
}

/// `  web:    scheduled on local`, `  broken: failed: …`.
pub fn write_deploy_event(w: &mut impl Write, e: &DeployEvent, width: usize) -> io::Result<()> {
    let line = |w: &mut dyn Write, service: &str, what: String| {
        let name = format!("{service}:");
        writeln!(w, "  {name:<width$} {what}", width = width.max(name.len()))
    };
    match e {
        DeployEvent::Progress(p) => line(w, &p.service, progress_words(p)),
        DeployEvent::Failed(DeployFailed {
            service,
            reason,
            kept,
        }) => {
            let kept = match kept {
                Kept::None => "",
                Kept::Previous => " (the previous version keeps running)",
                Kept::Reverted => " (reverted: the previous version runs again)",
            };
            line(w, service, format!("failed: {reason}{kept}"))
        }
        DeployEvent::Done(_) => Ok(()),
    }
}

fn progress_words(p: &DeployProgress) -> String {
    let with = |word: &str| {
        if p.detail.is_empty() {
            word.to_string()
        } else {
            format!("{word}: {}", p.detail)
        }
    };
    match p.phase {
        DeployPhase::Scheduled => {
            format!("scheduled on {}", p.node.as_deref().unwrap_or("local"))
        }
        DeployPhase::Stopping if p.detail.is_empty() => "stopping the running version".into(),
        DeployPhase::Stopping => with("stopping"),
        DeployPhase::Starting => "starting the new version".into(),
        DeployPhase::Healthy => "healthy".into(),
        DeployPhase::InPlace => with("updated in place"),
        DeployPhase::Removed => "removed (stopped)".into(),
        DeployPhase::Kept => with("kept"),
        DeployPhase::Reverting => "reverting to the previous version".into(),
        DeployPhase::Blocked => with("blocked, still running what it ran"),
    }
}

/// Prints how the deploy ended.
pub fn deploy_done(d: &DeployDone) {
    to_stdout(|w| write_deploy_done(w, d));
}

/// `  deploy finished with errors` (seed 002), or what it did.
pub fn write_deploy_done(w: &mut impl Write, d: &DeployDone) -> io::Result<()> {
    let counts = [
        (d.deployed.len(), "deployed"),
        (d.in_place.len(), "updated in place"),
        (d.removed.len(), "removed"),
        (d.kept.len(), "kept running (--no-prune)"),
        (d.unchanged.len(), "unchanged"),
        (d.failed.len(), "failed"),
        (d.reverted.len(), "reverted"),
        (d.blocked.len(), "blocked"),
    ];
    let said: Vec<String> = counts
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| format!("{n} {what}"))
        .collect();
    let took = format!("{:.1}s", d.elapsed);
    if d.success {
        writeln!(
            w,
            "  deploy {} finished in {took}: {}",
            d.deploy,
            said.join(", ")
        )
    } else {
        writeln!(w, "  {}", said.join(", "))?;
        writeln!(w, "  deploy finished with errors")
    }
}
