//! Every way a command can fail, and its exit code.

/// A failed command.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Bad arguments or an unknown service (exit 2).
    #[error("{0}")]
    Usage(String),
    /// The config is invalid (exit 2).
    #[error("{0}")]
    Config(String),
    /// A service failed, timed out or is blocked; already reported (exit 3).
    #[error("")]
    ServiceFailed,
    /// harness will not do what was asked: adopt or stop a process it
    /// must not touch, or one that refused to end (exit 3).
    #[error("{0}")]
    Refused(String),
    /// `deploy --dry-run --detailed-exitcode`: changes are pending; the
    /// plan is printed (exit 4).
    #[error("")]
    Pending,
    /// Interrupted by Ctrl-C; already reported (exit 130).
    #[error("")]
    Interrupted,
    /// harness itself failed: daemon unreachable, IO (exit 1).
    #[error("{0:#}")]
    Internal(#[from] anyhow::Error),
}

impl CliError {
    /// The exit code of this error.
    pub fn code(&self) -> i32 {
        match self {
            CliError::Usage(_) | CliError::Config(_) => 2,
            CliError::ServiceFailed | CliError::Refused(_) => 3,
            CliError::Pending => 4,
            CliError::Interrupted => 130,
            CliError::Internal(_) => 1,
        }
    }

    /// Prints the error (if not already reported) and returns its exit code.
    pub fn report(self) -> i32 {
        match &self {
            CliError::ServiceFailed | CliError::Pending | CliError::Interrupted => {}
            CliError::Config(msg) => eprintln!("error: invalid config\n{msg}"),
            other => eprintln!("error: {other}"),
        }
        self.code()
    }
}

impl From<std::io::Error> for CliError {
    fn from(e: std::io::Error) -> Self {
        CliError::Internal(e.into())
    }
}
