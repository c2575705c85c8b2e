//! Live progress of a start or stop: a bar per service on a terminal, one
//! plain line per change otherwise, one `↶ Stopping NAME...` line in a
//! rollback.

use super::plan::NAME_WIDTH;
use super::stopping_heading;
use harness_api::{OnFailure, Phase, Progress as Event};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::HashMap;
use std::io::IsTerminal;

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
        Phase::Stopped => detail.unwrap_or_else(|| "stopped".into()),
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

/// One event as a plain line (output that is not a terminal), the name
/// padded to `width`.
pub(super) fn plain_line(p: &Event, width: usize) -> String {
    format!(
        "  {} {:<width$} {}",
        symbol(p.phase),
        p.service,
        describe(p)
    )
}

/// One event as a rollback shows it: only the start of each stop.
pub(super) fn rollback_line(p: &Event) -> Option<String> {
    (p.phase == Phase::Stopping).then(|| format!("  ↶ Stopping {}...", p.service))
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
            if let Some(line) = rollback_line(p) {
                println!("{line}");
            }
            return;
        }
        self.width = self.width.max(p.service.len() + 1);
        let width = self.width;
        let Some((multi, bars)) = &mut self.bars else {
            println!("{}", plain_line(p, width));
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
