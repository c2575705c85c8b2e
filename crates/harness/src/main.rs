//! `harness`: a thin entry point. The command line lives in `harness-cli`,
//! the supervisor in `harness-daemon`; only this binary links both, and it
//! hands the CLI the one thing it cannot do itself: run the daemon.

fn main() {
    std::process::exit(harness_cli::main(daemon));
}

/// `harness daemon run`: the project's supervisor in the foreground, its
/// log on stderr (the CLI points stderr at `.harness/daemon.log`).
fn daemon(project: harness_store::Project) -> anyhow::Result<()> {
    let filter = tracing_subscriber::EnvFilter::try_from_env("HARNESS_LOG")
        .unwrap_or_else(|_| "info".into());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .init();
    harness_daemon::run_blocking(project)
}
