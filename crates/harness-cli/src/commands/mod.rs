//! One file per command; `dispatch` finds the project and runs one.

mod adopt;
mod daemon;
mod deploy;
mod failure;
mod health;
mod jobs;
mod logs;
mod operation;
mod outside;
mod run;
mod start;
mod status;
mod stop;

use crate::args::{Cli, Command, DaemonCommand};
use crate::error::CliError;
use harness_store::Project;

/// Runs the parsed command.
pub fn dispatch(cli: Cli, daemon: crate::DaemonMain) -> Result<(), CliError> {
    let project = find_project(&cli)?;
    if let Some(file) = &cli.file {
        crate::render::set_command(format!("harness -f {}", file.display()));
    }
    if let Command::Daemon {
        command: DaemonCommand::Run,
    } = cli.command
    {
        return daemon(project).map_err(CliError::Internal);
    }
    // Validate before anything runs: config errors exit 2 here.
    let config = project
        .load()
        .map_err(|e| CliError::Config(e.to_string()))?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        match cli.command {
            Command::Start(a) => start::start(&project, &config, a).await,
            Command::Restart(a) => start::restart(&project, &config, a).await,
            Command::Stop(t) => stop::stop(&project, &t).await,
            Command::Deploy(a) => deploy::deploy(&project, a).await,
            Command::Rollback(a) => deploy::rollback(&project, a).await,
            Command::Status(a) => status::status(&project, a).await,
            Command::Logs(a) => logs::logs(&project, &config, a).await,
            Command::Health(t) => health::health(&project, t).await,
            Command::Adopt(a) => adopt::adopt(&project, a).await,
            Command::Run(a) => run::run(&project, &config, a).await,
            Command::Jobs { command } => jobs::jobs(&project, command).await,
            Command::Daemon { command } => daemon::control(&project, command).await,
        }
    })
}

fn find_project(cli: &Cli) -> Result<Project, CliError> {
    if let Some(file) = &cli.file {
        if !file.is_file() {
            return Err(CliError::Usage(format!(
                "config file {} does not exist",
                file.display()
            )));
        }
        return Ok(Project::from_file(file)?);
    }
    let cwd = std::env::current_dir()?;
    Project::discover(&cwd).ok_or_else(|| {
        CliError::Usage(format!(
            "no services.yaml or harness.yaml in {} or any parent folder (use -f FILE)",
            cwd.display()
        ))
    })
}
