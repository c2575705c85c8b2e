//! `harness deploy`: its plan, one line per event (seed 002's lines), and
//! how it ended. Lines, not bars: a deploy's output is read afterwards, in
//! CI logs as much as on a terminal.

use super::to_stdout;
use harness_api::{
    DeployAction, DeployDone, DeployEvent, DeployFailed, DeployPhase, DeployPlan, DeployProgress,
    DeployRecord, Kept,
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
            DeployAction::Drifted => ("✗", "drifted"),
            DeployAction::InPlace => ("≈", "in-place"),
            DeployAction::Remove if no_prune => ("!", "keep running (--no-prune)"),
            DeployAction::Remove => ("-", "remove"),
            DeployAction::Unchanged => ("=", "unchanged"),
            DeployAction::External => ("!", "external"),
        };
        let why = if e.reasons.is_empty() {
            String::new()
        } else {
            format!(": {}", e.reasons.join(", "))
        };
        let versions = match (e.action, &e.from, &e.to) {
            (DeployAction::Change | DeployAction::Drifted, Some(f), Some(t)) if f != t => {
                format!(" ({f} → {t})")
            }
            _ => String::new(),
        };
        let why = format!("{why}{versions}");
        writeln!(w, "  {mark} {:<width$}  {word}{why}", e.service)?;
    }
    let kept = no_prune
        && plan
            .services
            .iter()
            .any(|e| e.action == DeployAction::Remove);
    match (plan.pending, kept) {
        (false, true) => writeln!(
            w,
            "Nothing to deploy: services gone from the file are left running (--no-prune)."
        )?,
        (false, false) => writeln!(w, "Nothing to deploy: everything runs what the file says.")?,
        (true, _) => {}
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
        // A one-shot that others wait on says it completed.
        DeployPhase::Healthy if !p.detail.is_empty() => p.detail.clone(),
        DeployPhase::Healthy => "healthy".into(),
        DeployPhase::InPlace => with("updated in place"),
        DeployPhase::Removed => "removed (stopped)".into(),
        DeployPhase::Kept => with("kept"),
        DeployPhase::Reverting => "reverting to the previous version".into(),
        DeployPhase::Blocked => with("blocked"),
        DeployPhase::Cancelled => "not deployed: the deploy was cancelled before it began".into(),
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
        (d.blocked.len(), "blocked"),
        (d.cancelled.len(), "cancelled"),
    ];
    let said: Vec<String> = counts
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| match *what {
            // Reverted ones are among the failed: said with them.
            "failed" if !d.reverted.is_empty() => {
                format!("{n} failed ({} reverted)", d.reverted.len())
            }
            _ => format!("{n} {what}"),
        })
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

/// Prints the last deploys.
pub fn deploy_history(rows: &[DeployRecord]) {
    to_stdout(|w| write_deploy_history(w, rows));
}

/// One line per deploy, newest first: id, start, duration, status, and
/// what it did.
pub fn write_deploy_history(w: &mut impl Write, rows: &[DeployRecord]) -> io::Result<()> {
    if rows.is_empty() {
        return writeln!(w, "No deploys yet.");
    }
    writeln!(
        w,
        "{:<6}  {:<23}  {:>6}  {:<11}  what",
        "deploy", "started", "took", "status"
    )?;
    for d in rows {
        let took = d
            .took_secs
            .map(|t| format!("{t:.1}s"))
            .unwrap_or_else(|| "-".into());
        writeln!(
            w,
            "{:<6}  {:<23}  {:>6}  {:<11}  {}",
            d.id,
            d.started,
            took,
            d.status,
            outcome_counts(d)
        )?;
    }
    Ok(())
}

/// "1 deployed, 1 failed, 3 unchanged", in a fixed order.
fn outcome_counts(d: &DeployRecord) -> String {
    let outcome = |s: &harness_api::DeployedService| s.outcome.clone().unwrap_or_default();
    let words = harness_store::DeployOutcome::ALL
        .iter()
        .map(|o| (o.as_str(), o.as_str()))
        .chain([("", "in progress")]);
    words
        .filter_map(|(o, word)| {
            let n = d.services.iter().filter(|s| outcome(s) == o).count();
            (n > 0).then(|| format!("{n} {word}"))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Prints one deploy.
pub fn deploy_record(d: &DeployRecord) {
    to_stdout(|w| write_deploy_record(w, d));
}

/// A deploy's heading, then each service: its action, versions and end.
pub fn write_deploy_record(w: &mut impl Write, d: &DeployRecord) -> io::Result<()> {
    let took = d
        .took_secs
        .map(|t| format!(", took {t:.1}s"))
        .unwrap_or_default();
    writeln!(
        w,
        "Deploy {} of {}: {}, began {}{took}",
        d.id, d.config, d.status, d.started
    )?;
    let width = d
        .services
        .iter()
        .map(|s| s.service.len())
        .max()
        .unwrap_or(0);
    for s in &d.services {
        let action = match s.action {
            DeployAction::Add => "add",
            DeployAction::Change => "change",
            DeployAction::Drifted => "drifted",
            DeployAction::InPlace => "in-place",
            DeployAction::Remove => "remove",
            DeployAction::Unchanged => "unchanged",
            DeployAction::External => "external",
        };
        let versions = match (&s.from, &s.to) {
            (Some(f), Some(t)) if f != t => format!("{f} → {t}"),
            (_, Some(t)) => t.clone(),
            (Some(f), None) => format!("{f} → -"),
            (None, None) => "-".into(),
        };
        let outcome = s.outcome.as_deref().unwrap_or("in progress");
        let detail = if s.detail.is_empty() {
            String::new()
        } else {
            format!(": {}", s.detail)
        };
        writeln!(
            w,
            "  {:<width$}  {action:<9}  {versions:<15}  {outcome}{detail}",
            s.service
        )?;
    }
    Ok(())
}
