//! Which steps a run of a job runs, which it skips, and why. A completed
//! step is skipped only when two things still hold: its print (command,
//! working folder, environment with `env_file` contents, the contents of
//! its `inputs`) is the one it completed with, and each of its declared
//! `outputs` exists with the hash recorded at completion. make trusts
//! modification times and GitHub Actions trusts old outputs blindly;
//! harness trusts neither. Once a step runs, every later one runs too: it
//! may read what that step makes.

use std::collections::BTreeMap;

/// A step's print: one hash per part, so that a change can be named
/// ("input versions.lock changed") without holding a value. The runtime
/// computes it; parts are named `command`, `working_dir`, `env NAME`,
/// `env_file contents`, `input PATH`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StepPrint {
    /// Part name → hash.
    pub parts: BTreeMap<String, String>,
}

impl StepPrint {
    /// What differs from `then` (the print a step completed with) to
    /// `self`, in a stable order.
    pub fn changes_since(&self, then: &StepPrint) -> Vec<String> {
        let mut out = Vec::new();
        for (part, h) in &self.parts {
            match then.parts.get(part) {
                None => out.push(format!("{part} added")),
                Some(old) if old != h => out.push(format!("{part} changed")),
                Some(_) => {}
            }
        }
        for part in then.parts.keys() {
            if !self.parts.contains_key(part) {
                out.push(format!("{part} removed"));
            }
        }
        out
    }
}

/// A step as it is now: its print and the hash of each declared output
/// (`None`: missing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepNow {
    /// The step's name.
    pub name: String,
    /// Its print now.
    pub print: StepPrint,
    /// Each declared output, with its content hash if it exists.
    pub outputs: Vec<(String, Option<String>)>,
}

/// How a step last completed: the print it ran with and the hash of each
/// declared output it left.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completed {
    /// The print it completed with.
    pub print: StepPrint,
    /// Each declared output and the hash it had.
    pub outputs: Vec<(String, String)>,
}

/// Where a run begins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartAt {
    /// At the first step not up to date (`harness run JOB`).
    Resume,
    /// At this step whatever it says (`--from STEP`); the steps before it
    /// are skipped if up to date, and run if not.
    Step(usize),
    /// At the first step (`--restart`).
    First,
}

/// What a run does with one step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// It is skipped: it completed, and nothing it depends on changed.
    Skip,
    /// It runs.
    Run,
}

/// One step of a run's plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    /// The step's name.
    pub step: String,
    /// Skip or run.
    pub action: Action,
    /// Why: "up to date", "never completed", "input versions.lock
    /// changed", "output cache/base.iso missing", "an earlier step runs
    /// (ansible)", "--from kickstart", "--restart".
    pub why: String,
}

/// The plan of a run of `steps` (in order), given how each last completed
/// (`done[i]`, `None` if it never did), starting as `start` says.
pub fn plan(steps: &[StepNow], done: &[Option<Completed>], start: StartAt) -> Vec<Planned> {
    let mut running: Option<&str> = None;
    let mut out = Vec::with_capacity(steps.len());
    for (i, step) in steps.iter().enumerate() {
        let why = match (start, running) {
            (StartAt::First, _) => Some("--restart".to_string()),
            (StartAt::Step(k), _) if k == i => Some(format!("--from {}", step.name)),
            (_, Some(earlier)) => Some(format!("an earlier step runs ({earlier})")),
            _ => stale(step, done.get(i).and_then(Option::as_ref)),
        };
        let planned = match why {
            Some(why) => {
                running.get_or_insert(step.name.as_str());
                Planned {
                    step: step.name.clone(),
                    action: Action::Run,
                    why,
                }
            }
            None => Planned {
                step: step.name.clone(),
                action: Action::Skip,
                why: "up to date".into(),
            },
        };
        out.push(planned);
    }
    out
}

/// Why a step must run although nothing before it does, or `None` if it
/// is up to date.
fn stale(step: &StepNow, done: Option<&Completed>) -> Option<String> {
    let Some(done) = done else {
        return Some("never completed".into());
    };
    let changes = step.print.changes_since(&done.print);
    if !changes.is_empty() {
        return Some(changes.join(", "));
    }
    for (path, then) in &done.outputs {
        match step.outputs.iter().find(|(p, _)| p == path) {
            Some((_, None)) => return Some(format!("output {path} missing")),
            Some((_, Some(now))) if now != then => {
                return Some(format!("output {path} changed since it was made"));
            }
            Some(_) => {}
            // No longer declared: nothing to check.
            None => {}
        }
    }
    // Declared now, not when it completed: it was never checked.
    if let Some((path, _)) = step
        .outputs
        .iter()
        .find(|(p, _)| !done.outputs.iter().any(|(d, _)| d == p))
    {
        return Some(format!("output {path} not recorded when it completed"));
    }
    None
}

/// Whether `harness run` as `start` says goes on with the job's last run,
/// which ended with `last_status`, rather than beginning a new one: a
/// plain resume of a run that stopped short of completing does (its
/// history then reads as seed 003's — failed, started again at the same
/// state, completed); `--from`, `--restart` and a completed run begin anew.
pub fn continues(last_status: &str, start: StartAt) -> bool {
    start == StartAt::Resume
        && matches!(
            last_status,
            "failed" | "cancelled" | "interrupted" | "needs_decision"
        )
}

/// Why a run may not begin as `start` says, when the job's last run ended
/// with status `last_status` at step `step`: a step that needs a decision
/// (an attempt of a step that is not idempotent was cut short) is passed
/// only by a person — `--from STEP`, `--restart`, or marking it completed —
/// never by a plain resume that would run it again behind their back.
pub fn refused(last_status: &str, step: &str, start: StartAt) -> Option<String> {
    match (last_status, start) {
        ("needs_decision", StartAt::Resume) => Some(format!(
            "step `{step}` needs a decision: an attempt of it was cut short and it is not \
             idempotent; run it again with `--from {step}`, or mark it completed \
             (`harness jobs mark JOB {step} --completed --reason …`)"
        )),
        _ => None,
    }
}

/// Where a run of `job` begins, as `harness run` was asked: `--from
/// STEP` (a step it has), `--restart`, or neither (resume). A step it does
/// not have is a usage error naming the ones it has.
pub fn start_at(
    job: &crate::config::Job,
    from: Option<&str>,
    restart: bool,
) -> Result<StartAt, String> {
    match (from, restart) {
        (Some(_), true) => Err("--from and --restart cannot be used together".into()),
        (None, true) => Ok(StartAt::First),
        (None, false) => Ok(StartAt::Resume),
        (Some(name), false) => match job.steps.iter().position(|s| s.name == name) {
            Some(k) => Ok(StartAt::Step(k)),
            None => {
                let names: Vec<&str> = job.steps.iter().map(|s| s.name.as_str()).collect();
                Err(format!(
                    "job `{}` has no step `{name}`; its steps are: {}",
                    job.name,
                    names.join(", ")
                ))
            }
        },
    }
}

impl StartAt {
    /// How `job_runs.start` records it: `resume`, `from STEP`, `restart`.
    pub fn label(self, job: &crate::config::Job) -> String {
        match self {
            StartAt::Resume => "resume".into(),
            StartAt::First => "restart".into(),
            StartAt::Step(k) => format!("from {}", job.steps[k].name),
        }
    }
}

/// `unknown job `x`; jobs are: a, b` (or that the file has none).
pub fn unknown_job(name: &str, config: &crate::config::Config) -> String {
    let names: Vec<&str> = config.jobs.iter().map(|j| j.name.as_str()).collect();
    match names.is_empty() {
        true => format!("unknown job `{name}`: the file has no `jobs:`"),
        false => format!("unknown job `{name}`; jobs are: {}", names.join(", ")),
    }
}
