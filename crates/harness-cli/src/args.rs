//! The command line, as clap sees it.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// Bring up a stack of services in dependency order, keep it healthy, and
/// tell the truth when only part of it came up.
#[derive(Debug, Parser)]
#[command(name = "harness", version)]
pub struct Cli {
    /// The config file (default: services.yaml or harness.yaml, searched
    /// upward from the current folder). Goes before the command:
    /// `harness -f stack.yaml start --all` (after it, `-f` is `logs
    /// --follow`).
    #[arg(short = 'f', long = "file", env = "HARNESS_FILE")]
    pub file: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start services (and what they depend on).
    Start(StartArgs),
    /// Stop services (and what depends on them).
    Stop(Targets),
    /// Stop services (dependents first), then start them in order.
    Restart(RestartArgs),
    /// Show the state of every service.
    Status(StatusArgs),
    /// Make what runs match the file: add, change, update in place and
    /// remove services, each committed only once its new version is
    /// healthy; exit 3 if any did not reach its new version.
    Deploy(DeployArgs),
    /// Deploy an earlier version of one service (default: the one it ran
    /// before the deploy that brought what runs).
    Rollback(RollbackArgs),
    /// Show the services' output, interleaved in the order it was written.
    Logs(LogsArgs),
    /// Run the health checks now; exit 3 if any fails.
    Health(Targets),
    /// Make an instance of a service that harness did not start (by hand,
    /// by systemd, by another project) harness's own: supervised, probed
    /// and stopped as any service, and restarted from `command` once it
    /// ends.
    Adopt(AdoptArgs),
    /// Run a job: resume its last run at the step it stopped at (a new run
    /// from the first step not up to date once it completed); exit 3 if a
    /// step fails or needs a decision.
    Run(RunArgs),
    /// Jobs: where each stands, its attempts' logs, cancelling a run.
    Jobs {
        #[command(subcommand)]
        command: JobsCommand,
    },
    /// Control the project's supervisor daemon.
    Daemon {
        #[command(subcommand)]
        command: DaemonCommand,
    },
}

#[derive(Debug, Args)]
pub struct Targets {
    /// Services to act on.
    pub services: Vec<String>,
    /// Act on every service.
    #[arg(long, conflicts_with = "services")]
    pub all: bool,
}

#[derive(Debug, Args)]
pub struct StartArgs {
    #[command(flatten)]
    pub targets: Targets,
    /// Start the services whose last start failed.
    #[arg(long, conflicts_with_all = ["services", "all", "blocked"])]
    pub failed: bool,
    /// Start the services that were blocked, without their dependencies;
    /// with --force, even though those are not up.
    #[arg(long, conflicts_with_all = ["services", "all"])]
    pub blocked: bool,
    #[command(flatten)]
    pub flags: StartFlags,
    /// On a partial system, start the services that are not running
    /// (no prompt).
    #[arg(long = "continue", id = "continue", conflicts_with = "restart")]
    pub continue_: bool,
    /// Stop every service in scope, then start them all fresh (no prompt).
    #[arg(long)]
    pub restart: bool,
    #[command(flatten)]
    pub failure: FailureFlags,
    #[command(flatten)]
    pub outside: OutsideFlags,
    /// Show the current state and what a start would do; change nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// What to do with a service found running outside harness (by hand, by
/// systemd, by another project). Without one of these a terminal is
/// asked; off a terminal, or with --no-interactive, it coexists.
#[derive(Debug, Args, Clone, Copy)]
pub struct OutsideFlags {
    /// Adopt what runs outside harness: harness manages it from now on,
    /// and restarts its own from `command` once it ends.
    #[arg(long, conflicts_with_all = ["coexist", "replace", "dry_run"])]
    pub adopt: bool,
    /// Leave what runs outside harness alone and start the rest against
    /// it (no second instance is started).
    #[arg(long, conflicts_with = "replace")]
    pub coexist: bool,
    /// Stop what runs outside harness (its stop signal, stop_timeout,
    /// SIGKILL), wait for its ports, then start harness's own; exit 3 if
    /// it will not end or is another user's.
    #[arg(long, conflicts_with = "dry_run")]
    pub replace: bool,
}

#[derive(Debug, Args)]
pub struct RestartArgs {
    #[command(flatten)]
    pub targets: Targets,
    #[command(flatten)]
    pub flags: StartFlags,
    #[command(flatten)]
    pub failure: FailureFlags,
}

/// How every start runs.
#[derive(Debug, Args, Clone, Copy)]
pub struct StartFlags {
    /// Startup timeout in seconds (or "90s", "5m") for every service started.
    #[arg(long, value_parser = parse_timeout)]
    pub timeout: Option<std::time::Duration>,
    /// Start dependents even when a dependency is not up; a timeout warns
    /// instead of failing.
    #[arg(long)]
    pub force: bool,
    /// Do not wait for health checks.
    #[arg(long)]
    pub no_wait: bool,
}

/// What to do when a start fails. Any of these (or --no-interactive)
/// means no prompt; without them a terminal gets asked.
#[derive(Debug, Args, Clone, Copy)]
pub struct FailureFlags {
    /// On failure, stop every service in scope.
    #[arg(long, conflicts_with_all = ["rollback_on_failure", "smart_rollback"])]
    pub teardown_on_failure: bool,
    /// On failure, stop what this command started, in reverse dependency
    /// order; services running before it are left alone.
    #[arg(long, conflicts_with = "smart_rollback")]
    pub rollback_on_failure: bool,
    /// On failure, keep independent services; stop (or never start) only
    /// the dependents of what failed.
    #[arg(long)]
    pub smart_rollback: bool,
    /// Never prompt: on a partial system continue, on failure keep running.
    #[arg(long)]
    pub no_interactive: bool,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct DeployArgs {
    #[command(subcommand)]
    pub command: Option<DeployCommand>,
    /// Only these services (of the file, or running and gone from it). A
    /// service called `history` or `status` is named after `--`.
    pub services: Vec<String>,
    /// Print the plan; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// With --dry-run: exit 4 when changes are pending, 0 when none.
    #[arg(long, requires = "dry_run")]
    pub detailed_exitcode: bool,
    /// Leave services gone from the file running (they are listed).
    #[arg(long)]
    pub no_prune: bool,
}

#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// The service.
    pub service: String,
    /// The version to run (six hex digits, as `deploy status` shows them).
    #[arg(long)]
    pub to: Option<String>,
}

#[derive(Debug, Args)]
pub struct AdoptArgs {
    /// The service.
    pub service: String,
    /// Adopt without asking (needed off a terminal).
    #[arg(long, short = 'y')]
    pub yes: bool,
}

#[derive(Debug, Subcommand)]
pub enum DeployCommand {
    /// The last deploys, newest first.
    History {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// One deploy (default: the last) and what it did with each service.
    Status {
        /// The deploy's id.
        id: Option<u64>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Only these services.
    pub services: Vec<String>,
    /// Show the history of state changes instead.
    #[arg(long)]
    pub history: bool,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct LogsArgs {
    /// Services, jobs (every step) or JOB/STEP; every service and every
    /// job step when none is named.
    pub services: Vec<String>,
    /// Only the last N lines of each.
    #[arg(long, short = 'n')]
    pub tail: Option<usize>,
    /// Keep printing new output (across restarts and rotation, and of
    /// services that start later).
    #[arg(long, short = 'f')]
    pub follow: bool,
    /// Only lines captured since: a duration ago (10m, 1h30m) or a time
    /// (2026-12-02T10:00:00, local unless it ends in Z or +HH:MM).
    #[arg(long)]
    pub since: Option<String>,
    /// Show when the shim captured each line (UTC, to the microsecond).
    #[arg(long, short = 't')]
    pub timestamps: bool,
    /// Print the lines without the service name in front.
    #[arg(long)]
    pub no_prefix: bool,
    /// No colour, even on a terminal (as with NO_COLOR).
    #[arg(long)]
    pub no_color: bool,
    /// One JSON object per line: service, stream, ts, line.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The job.
    pub job: String,
    /// Run this step and every one after it, whatever they say.
    #[arg(long, value_name = "STEP", conflicts_with = "restart")]
    pub from: Option<String>,
    /// Run every step from the first.
    #[arg(long)]
    pub restart: bool,
    /// Return once the run has begun (it goes on in the daemon).
    #[arg(long, conflicts_with = "on_error")]
    pub no_wait: bool,
    /// When a step fails for good, without asking: leave it (`stop`, the
    /// default off a terminal unless the job's `on_failure` says
    /// otherwise), one more attempt now (`retry`), or run the job's
    /// `cleanup`.
    #[arg(long, value_enum, value_name = "WHAT")]
    pub on_error: Option<OnError>,
}

/// `--on-error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OnError {
    /// The state stays at the failed step, status failed.
    Stop,
    /// One more attempt at the failed step, now.
    Retry,
    /// Run the job's `cleanup`; the state stays.
    Cleanup,
}

#[derive(Debug, Subcommand)]
pub enum JobsCommand {
    /// Where each job (or JOB) stands: its state, status, attempt and what
    /// comes next; exit 3 if one shown failed or needs a decision.
    Status {
        /// Only this job.
        job: Option<String>,
        /// The record as JSON (seed 003's failure record).
        #[arg(long)]
        json: bool,
    },
    /// Every run of JOB, newest first: how it began, when, where it
    /// stopped and how.
    History {
        /// The job.
        job: String,
        /// As JSON.
        #[arg(long)]
        json: bool,
    },
    /// An attempt's output: the latest attempt at STEP (in the last run
    /// that ran it), or attempt N.
    Logs {
        /// The job.
        job: String,
        /// The step.
        step: String,
        /// Which attempt (1 for the first).
        #[arg(long)]
        attempt: Option<u32>,
        /// Only the last N lines.
        #[arg(long, short = 'n')]
        tail: Option<usize>,
        /// Keep printing new output.
        #[arg(long, short = 'f')]
        follow: bool,
    },
    /// Count STEP as completed, as it is now (its print and outputs): a
    /// later run skips it while they stay so. The way on from a step that
    /// needs a decision, or one fixed by hand.
    Mark {
        /// The job.
        job: String,
        /// The step.
        step: String,
        /// Mark it completed (the only mark there is; said for clarity).
        #[arg(long, required = true)]
        completed: bool,
        /// Why (kept with the mark and in the history).
        #[arg(long, required = true)]
        reason: String,
    },
    /// Stop the step under way; the run is cancelled (the stopped attempt
    /// is not counted as one).
    Cancel {
        /// The job.
        job: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum DaemonCommand {
    /// Run the daemon in the foreground (the CLI starts it on demand).
    Run,
    /// Stop the daemon; services keep running.
    Stop,
    /// Print the daemon's pid and config.
    Info,
}

fn parse_timeout(s: &str) -> Result<std::time::Duration, String> {
    harness_core::duration::parse_duration(s)
}

#[cfg(test)]
mod tests {
    use super::Cli;
    use clap::CommandFactory;

    /// clap's own checks of the definition (unique short options, …),
    /// which otherwise only run when a command is parsed.
    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }
}
