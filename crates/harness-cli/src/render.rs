//! Everything the CLI prints: progress (bars on a terminal, one plain line
//! per change otherwise), summaries, the status table, the history.

use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use harness_api::{
    Health, HistoryEntry, OnFailure, Phase, Plan, PlanAction, PlanEntry, Progress as Event,
    Recovery, Status, StatusReport, Summary, SystemState,
};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::{BTreeMap, HashMap};
use std::io::IsTerminal;

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

fn symbol(phase: Phase) -> &'static str {
    match phase {
        Phase::Healthy | Phase::Started => "✓",
        Phase::Existing => "→",
        Phase::Failed | Phase::TimedOut => "✗",
        Phase::Blocked => "-",
        Phase::Warning => "⚠",
        Phase::Waiting => "·",
        Phase::Starting => "⟳",
        Phase::Stopping => "↶",
        Phase::Stopped => "○",
    }
}

fn describe(p: &Event) -> String {
    let detail = if p.detail.is_empty() {
        None
    } else {
        Some(p.detail.clone())
    };
    match p.phase {
        Phase::Waiting => detail.unwrap_or_else(|| "waiting for dependencies".into()),
        Phase::Starting => format!("starting (pid {})", p.pid.unwrap_or(0)),
        Phase::Failed => format!("failed to start ({})", detail.unwrap_or_default()),
        Phase::Blocked => format!("blocked ({})", detail.unwrap_or_default()),
        Phase::Stopping => "stopping".into(),
        Phase::Stopped => "stopped".into(),
        _ => detail.unwrap_or_else(|| "started".into()),
    }
}

fn percent(phase: Phase) -> u64 {
    match phase {
        Phase::Waiting | Phase::Blocked => 0,
        Phase::Starting | Phase::Stopping => 50,
        _ => 100,
    }
}

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// A bar per service on a terminal, a plain line per change otherwise.
    Bars,
    /// A rollback: one `↶ Stopping NAME...` line per service.
    Rollback,
}

/// Live progress of a start or stop.
pub struct Progress {
    bars: Option<(MultiProgress, HashMap<String, ProgressBar>)>,
    width: usize,
    style: Style,
}

impl Progress {
    /// Bars when stdout is a terminal, plain lines otherwise.
    pub fn new(style: Style) -> Self {
        let bars = (style == Style::Bars && std::io::stdout().is_terminal()).then(|| {
            (
                MultiProgress::with_draw_target(ProgressDrawTarget::stdout()),
                HashMap::new(),
            )
        });
        Progress {
            bars,
            width: NAME_WIDTH
                .load(std::sync::atomic::Ordering::Relaxed)
                .max(12),
            style,
        }
    }

    /// Shows one event.
    pub fn update(&mut self, p: &Event) {
        if self.style == Style::Rollback {
            if p.phase == Phase::Stopping {
                println!("  ↶ Stopping {}...", p.service);
            }
            return;
        }
        self.width = self.width.max(p.service.len() + 1);
        let width = self.width;
        let Some((multi, bars)) = &mut self.bars else {
            println!(
                "  {} {:<width$} {}",
                symbol(p.phase),
                p.service,
                describe(p)
            );
            return;
        };
        let bar = bars.entry(p.service.clone()).or_insert_with(|| {
            let bar = multi.add(ProgressBar::new(100));
            bar.set_style(
                ProgressStyle::with_template("  {prefix} [{bar:28.green}] {pos:>3}% ({msg})")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("==>  "),
            );
            bar
        });
        bar.set_prefix(format!("{} {:<width$}", symbol(p.phase), p.service));
        bar.set_position(percent(p.phase));
        bar.set_message(describe(p));
        if p.phase.is_final() {
            bar.abandon();
        }
    }

    /// Leaves the bars as they are.
    pub fn finish(&mut self) {
        if let Some((_, bars)) = &self.bars {
            for bar in bars.values() {
                if !bar.is_finished() {
                    bar.abandon();
                }
            }
        }
    }
}

/// The partial-failure report of seed 000 / 001.
pub fn failure_summary(s: &Summary, timed_out: &[&Event]) {
    let list = |v: &[String]| format!("{} ({})", v.join(", "), count(v.len()));
    println!();
    if s.started.is_empty() && s.warned.is_empty() {
        eprintln!("Error: Service startup failed");
    } else {
        eprintln!("Error: Partial startup failure");
    }
    if !s.started.is_empty() {
        eprintln!("  Started: {}", list(&s.started));
    }
    if !s.warned.is_empty() {
        eprintln!("  Started with warnings: {}", list(&s.warned));
    }
    if !s.failed.is_empty() {
        eprintln!("  Failed: {}", list(&s.failed));
    }
    if !s.blocked.is_empty() {
        eprintln!("  Blocked: {}", list(&s.blocked));
    }
    for t in timed_out {
        eprintln!(
            "\nService '{}' did not become healthy ({}). It is still running but not healthy.",
            t.service, t.detail
        );
    }
    eprintln!();
    if !s.started.is_empty() || !timed_out.is_empty() {
        eprintln!("Started services are still running. You can:");
    } else {
        eprintln!("You can:");
    }
    if let Some(f) = s.failed.first() {
        eprintln!("  • Check logs: {hx} logs {f} --tail 100", hx = hx());
        eprintln!(
            "  • Retry failed: {hx} start {}",
            s.failed.join(" "),
            hx = hx()
        );
    }
    if let Some(t) = timed_out.first() {
        eprintln!(
            "  • Increase timeout: {hx} start {} --timeout 600",
            t.service,
            hx = hx()
        );
    }
    if !s.blocked.is_empty() {
        eprintln!(
            "  • Force continue: {hx} start {} --force",
            s.blocked.join(" "),
            hx = hx()
        );
    }
    eprintln!("  • Stop all: {hx} stop --all", hx = hx());
}

/// What to say when Ctrl-C interrupts a start.
pub fn interrupted(last: &BTreeMap<String, Event>) {
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
    eprintln!("\nInterrupted: no further services will be started.");
    if !running.is_empty() {
        eprintln!("  Left running: {}", running.join(", "));
    }
    if !not_started.is_empty() {
        eprintln!("  Not started: {}", not_started.join(", "));
    }
    eprintln!("  Stop all: {hx} stop --all", hx = hx());
}

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

fn status_word(s: Status) -> &'static str {
    match s {
        Status::Stopped => "stopped",
        Status::Starting => "starting",
        Status::Running => "running",
        Status::Stopping => "stopping",
        Status::Restarting => "restarting",
        Status::Failed => "failed",
        Status::Exited => "exited",
    }
}

/// The status table, the system state and the recovery hints.
pub fn status(r: &StatusReport) {
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
    println!("{t}");
    for s in r.services.iter().filter(|s| !s.last_output.is_empty()) {
        println!("\n{} (last output):", s.name);
        for line in &s.last_output {
            println!("  | {line}");
        }
    }
    let state = match r.system_state {
        SystemState::Running => "RUNNING",
        SystemState::Partial => "PARTIAL",
        SystemState::Degraded => "DEGRADED",
        SystemState::Failed => "FAILED",
        SystemState::Stopped => "STOPPED",
    };
    println!("\nSystem state: {state}");
    let names = |f: &dyn Fn(&harness_api::ServiceStatus) -> bool| {
        r.services
            .iter()
            .filter(|s| f(s))
            .map(|s| s.name.clone())
            .collect::<Vec<_>>()
    };
    let running = names(&|s| s.pid.is_some());
    let failed = names(&|s| s.health == Health::Failed);
    let restarting = names(&|s| s.status == harness_api::Status::Restarting);
    let unhealthy =
        names(&|s| s.health == Health::Unhealthy && s.status != harness_api::Status::Restarting);
    let blocked = names(&|s| s.health == Health::Blocked);
    for (list, what) in [
        (&running, "running"),
        (&restarting, "restarting on its own"),
        (&unhealthy, "unhealthy"),
        (&failed, "failed"),
        (&blocked, "blocked"),
    ] {
        if !list.is_empty() {
            println!("  {} {what} ({})", count(list.len()), list.join(", "));
        }
    }
    if matches!(
        r.system_state,
        SystemState::Partial | SystemState::Degraded | SystemState::Failed
    ) {
        println!("\nTo recover:");
        for f in &failed {
            println!("  {hx} start {f:<12} # Retry failed service", hx = hx());
        }
        if failed.len() > 1 {
            println!(
                "  {hx} start --failed     # Retry all failed services",
                hx = hx()
            );
        }
        for u in &unhealthy {
            println!(
                "  {hx} logs {u} --tail 100   # See why it is unhealthy",
                hx = hx()
            );
        }
        for r in &restarting {
            println!(
                "  {hx} logs {r} --tail 100   # See why it ended (harness restarts it)",
                hx = hx()
            );
        }
        if !blocked.is_empty() {
            println!(
                "  {hx} start --blocked --force   # Start blocked services anyway ({})",
                blocked.join(", "),
                hx = hx()
            );
        }
        println!("  {hx} stop --all       # Stop everything", hx = hx());
    }
}

/// The transaction log: each service's chain of states, one line per
/// change of its own (`stopped → starting → running (healthy)`).
pub fn history(rows: &[HistoryEntry]) {
    let width = rows
        .iter()
        .map(|r| r.service.len())
        .max()
        .unwrap_or(8)
        .max(8);
    struct Line {
        ts: String,
        service: String,
        chain: Vec<String>,
        reason: String,
        /// The request the chain began with ("retry chosen at prompt").
        cause: Option<String>,
    }
    let mut lines: Vec<Line> = Vec::new();
    let mut open: HashMap<String, usize> = HashMap::new();
    for r in rows {
        if let Some(&i) = open.get(&r.service)
            && lines[i].chain.last() == Some(&r.from)
        {
            let line = &mut lines[i];
            line.chain.push(r.to.clone());
            line.reason = r.reason.clone();
            line.cause = line.cause.take().or_else(|| r.cause.clone());
        } else {
            open.insert(r.service.clone(), lines.len());
            lines.push(Line {
                ts: r.ts.chars().take(19).collect(),
                service: r.service.clone(),
                chain: vec![r.from.clone(), r.to.clone()],
                reason: r.reason.clone(),
                cause: r.cause.clone(),
            });
        }
        if !matches!(r.to.as_str(), "starting" | "stopping") {
            open.remove(&r.service);
        }
    }
    for l in lines {
        // Keep why the chain began after how it ended ("healthy; retry
        // chosen at prompt"), unless the last reason already says it.
        let reason = match &l.cause {
            Some(c) if !l.reason.contains(c.as_str()) => format!("{}; {c}", l.reason),
            _ => l.reason,
        };
        println!(
            "{}  {:<width$}  {} ({reason})",
            l.ts,
            l.service,
            l.chain.join(" → ")
        );
    }
}

/// The name column's width once the state check has shown every name of
/// the command's scope, so progress lines line up from the first one.
static NAME_WIDTH: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

fn name_width(plan: &Plan) -> usize {
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
    println!("Checking current state...");
    for e in &plan.services {
        let c = &e.current;
        let (mark, what) = match (c.status, c.health) {
            (Status::Running, Health::Healthy) => ("✓", "already running, healthy".to_string()),
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
        println!("  {mark} {:<width$} ({what})", c.name);
    }
}

/// `start --dry-run`: what the start would do, grouped.
pub fn plan(plan: &Plan, restart: bool) {
    let names = |f: &dyn Fn(&PlanEntry) -> bool| {
        plan.services
            .iter()
            .filter(|e| f(e))
            .map(|e| e.current.name.clone())
            .collect::<Vec<_>>()
    };
    println!("\nPlan (dry run):");
    let running = names(&|e| e.current.pid.is_some());
    if restart && !running.is_empty() {
        println!("  Stop first (--restart): {}", running.join(", "));
    }
    let used = names(&|e| e.action == PlanAction::Use);
    if !used.is_empty() {
        println!("  Use as they are: {}", used.join(", "));
    }
    let waiting = names(&|e| e.action == PlanAction::Wait);
    if !waiting.is_empty() {
        println!("  Wait until healthy: {}", waiting.join(", "));
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
            println!("  Start, wave {wave}: {}", list.join(", "));
        }
    }
    for e in plan
        .services
        .iter()
        .filter(|e| e.action == PlanAction::Blocked)
    {
        println!("  Blocked: {} ({})", e.current.name, e.detail);
    }
    println!("\nNothing was changed (--dry-run).");
}

/// "Stopping all services..." or "Stopping services...".
pub fn stopping_heading(all: bool) -> &'static str {
    if all {
        "Stopping all services..."
    } else {
        "Stopping services..."
    }
}

/// The heading and style of a failed start's recovery.
pub fn recovery_heading(policy: OnFailure, all: bool) -> (&'static str, Style) {
    match policy {
        OnFailure::Keep | OnFailure::Teardown => (stopping_heading(all), Style::Bars),
        OnFailure::Rollback => ("Rolling back due to failure...", Style::Rollback),
        OnFailure::SmartRollback => (
            "Stopping dependents of the failed services...",
            Style::Rollback,
        ),
    }
}

/// What a smart rollback kept, stopped and never started.
pub fn smart_rollback(r: &Recovery) {
    println!("\nPartial failure detected:");
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
            println!("  {what}: {}", names.join(", "));
        }
    }
}
