//! `harness run` and `harness jobs`: a run's plan (what runs, what is
//! skipped, and why), one line per step event, how the run ended with
//! what comes next, and each job's record as a table or in full.
//! Lines, not bars: a job's output is read afterwards, in CI logs as much
//! as on a terminal.

use super::{hx, to_stdout};
use harness_api::{CleanupEvent, JobDone, JobPlan, JobRecord, JobRunEntry, StepEvent, StepStatus};
use harness_core::duration::{human, short};
use std::io::{self, Write};
use std::time::Duration;

/// The width of step names in event lines.
pub fn step_width(plan: &JobPlan) -> usize {
    width(plan.steps.iter().map(|s| s.step.as_str()), 0)
}

/// The widest of `names`, and at least `min` (a column's heading).
fn width<'a>(names: impl Iterator<Item = &'a str>, min: usize) -> usize {
    names.map(str::len).max().unwrap_or(0).max(min)
}

/// Prints the plan.
pub fn job_plan(plan: &JobPlan) {
    to_stdout(|w| write_job_plan(w, plan));
}

/// `Job image, run 3:` and each step with `run` or `skip` and why.
pub fn write_job_plan(w: &mut impl Write, plan: &JobPlan) -> io::Result<()> {
    let runs = plan.steps.iter().filter(|s| s.action == "run").count();
    let resumed = if plan.continues { " (resumed)" } else { "" };
    writeln!(
        w,
        "Job {}, run {}{resumed}: {} of {} steps to run",
        plan.job,
        plan.run,
        runs,
        plan.steps.len()
    )?;
    let width = step_width(plan);
    for s in &plan.steps {
        let mark = if s.action == "run" { "▶" } else { "=" };
        writeln!(w, "  {mark} {:<width$}  {:<4}  {}", s.step, s.action, s.why)?;
    }
    Ok(())
}

/// Prints one step event.
pub fn step_event(e: &StepEvent, total: usize, width: usize) {
    to_stdout(|w| write_step_event(w, e, total, width));
}

/// `[2/4] kickstart  failed (attempt 1/3): exit code 75 is transient; retrying in 1m`,
/// with a failure's last line(s) of output indented below it.
pub fn write_step_event(
    w: &mut impl Write,
    e: &StepEvent,
    total: usize,
    width: usize,
) -> io::Result<()> {
    let place = format!("[{}/{}]", e.index + 1, total);
    // The limit is known once an attempt failed (it is its class's).
    let attempt = format!("(attempt {}/{})", e.attempt, e.max_attempts);
    let nth = format!("(attempt {})", e.attempt);
    let why = e.why.as_deref().unwrap_or("");
    let line = match e.status {
        StepStatus::Cached => format!("skipped: {why}"),
        StepStatus::Started => {
            let log = e
                .log
                .as_deref()
                .map(|l| format!(", log .harness/{l}"))
                .unwrap_or_default();
            format!("started {nth}{log}")
        }
        StepStatus::Completed => format!("completed {nth}"),
        StepStatus::Retrying => {
            let wait = e
                .retry_in_ms
                .map(|ms| short(Duration::from_millis(ms)))
                .unwrap_or_default();
            format!("failed {attempt}: {why}; retrying in {wait}")
        }
        StepStatus::Failed => format!("failed {attempt}: {why}"),
        StepStatus::Marked => format!("marked completed: {why}"),
        StepStatus::Cancelled => format!("cancelled {nth}"),
        StepStatus::Interrupted => format!("interrupted {nth}: its end was not seen"),
    };
    writeln!(w, "{place} {:<width$}  {line}", e.step)?;
    if let Some(error) = &e.error {
        for l in error.lines() {
            writeln!(w, "      │ {l}")?;
        }
    }
    Ok(())
}

/// Prints how the job's cleanup ended.
pub fn cleanup(job: &str, c: &CleanupEvent) {
    to_stdout(|w| write_cleanup(w, job, c));
}

/// `cleanup of image: exit code 0 (log .harness/logs/image@cleanup.log)`.
pub fn write_cleanup(w: &mut impl Write, job: &str, c: &CleanupEvent) -> io::Result<()> {
    let mark = if c.success { "✓" } else { "✗" };
    writeln!(
        w,
        "{mark} cleanup of {job}: {} (log .harness/{})",
        c.detail, c.log
    )
}

/// Prints how the run ended.
pub fn job_done(job: &str, d: &JobDone) {
    to_stdout(|w| write_job_done(w, job, d));
}

/// `✓ image completed in 4.2s`, or where it stopped and what comes next.
pub fn write_job_done(w: &mut impl Write, job: &str, d: &JobDone) -> io::Result<()> {
    let took = human(Duration::from_millis(d.elapsed_ms));
    if d.success {
        return writeln!(w, "✓ {job} completed in {took}");
    }
    writeln!(
        w,
        "✗ {job} {} at step {} after {took}; the state stays at {}",
        d.status.replace('_', " "),
        d.current_state,
        d.current_state
    )?;
    if let Some(e) = &d.error {
        writeln!(w, "  why:  {e}")?;
    }
    if let Some(c) = &d.next_action.command {
        writeln!(w, "  next: {}", c.replacen("harness", hx(), 1))?;
    }
    Ok(())
}

/// Prints the records as a table.
pub fn job_table(records: &[JobRecord]) {
    to_stdout(|w| write_job_table(w, records));
}

/// One line per job: Job, Run, State, Status, Attempt, Next.
pub fn write_job_table(w: &mut impl Write, records: &[JobRecord]) -> io::Result<()> {
    if records.is_empty() {
        return writeln!(w, "No jobs in the file.");
    }
    let jw = width(records.iter().map(|r| r.job.as_str()), "Job".len());
    let sw = width(
        records.iter().map(|r| r.current_state.as_str()),
        "State".len(),
    );
    writeln!(
        w,
        "{:<jw$}  {:>3}  {:<sw$}  {:<14}  {:<7}  Next",
        "Job", "Run", "State", "Status", "Attempt"
    )?;
    for r in records {
        let attempt = match r.attempt {
            0 => "-".to_string(),
            n => format!("{n}/{}", r.max_attempts),
        };
        let next = match r.next_action.kind.as_str() {
            "auto_retry" => format!("retry at {}", r.next_action.at.as_deref().unwrap_or("?")),
            "manual" => r
                .next_action
                .command
                .as_deref()
                .unwrap_or("")
                .replacen("harness", hx(), 1),
            _ => "-".into(),
        };
        writeln!(
            w,
            "{:<jw$}  {:>3}  {:<sw$}  {:<14}  {:<7}  {next}",
            r.job, r.run, r.current_state, r.status, attempt
        )?;
        if let Some(f) = &r.failure {
            let why = match (&f.class, f.exit_code, f.signal) {
                (Some(c), Some(code), _) => format!("{c}, exit code {code}"),
                (Some(c), None, Some(sig)) => format!("{c}, signal {sig}"),
                (Some(c), None, None) => c.clone(),
                (None, ..) => "failed".into(),
            };
            let last = f
                .error
                .as_deref()
                .and_then(|e| e.lines().last())
                .unwrap_or("");
            writeln!(w, "{:<jw$}  └ {why}: {last}", "")?;
            if let Some(log) = &f.log {
                writeln!(w, "{:<jw$}    log .harness/{log}", "")?;
            }
        }
    }
    Ok(())
}

/// Prints a job's runs.
pub fn job_history(job: &str, rows: &[JobRunEntry]) {
    to_stdout(|w| write_job_history(w, job, rows));
}

/// One line per run, newest first: number, began, ended, how it began,
/// where it stopped and how.
pub fn write_job_history(w: &mut impl Write, job: &str, rows: &[JobRunEntry]) -> io::Result<()> {
    if rows.is_empty() {
        return writeln!(w, "Job {job} has not run yet.");
    }
    let sw = width(rows.iter().map(|r| r.current_state.as_str()), "State".len());
    writeln!(
        w,
        "{:>3}  {:<23}  {:<23}  {:<14}  {:<sw$}  How",
        "Run", "Started", "Ended", "Status", "State"
    )?;
    for r in rows {
        writeln!(
            w,
            "{:>3}  {:<23}  {:<23}  {:<14}  {:<sw$}  {}",
            r.run,
            r.started,
            r.ended.as_deref().unwrap_or("-"),
            r.status,
            r.current_state,
            r.start
        )?;
    }
    Ok(())
}
