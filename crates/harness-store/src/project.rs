//! Where a project's config is and where its state folder lives.

use harness_core::config::{self, Config, ConfigErrors};
use harness_core::engine::UnitId;
use std::path::{Path, PathBuf};

/// File names searched, in this order, in each folder upward.
pub const CONFIG_NAMES: [&str; 2] = ["services.yaml", "harness.yaml"];

/// One project: a config file and the `.harness/` folder beside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    /// The config file, absolute.
    pub config: PathBuf,
    /// The folder holding the config.
    pub root: PathBuf,
}

impl Project {
    /// The project whose config is `file`.
    pub fn from_file(file: &Path) -> std::io::Result<Project> {
        let config = std::path::absolute(file)?;
        let root = config
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("/"));
        Ok(Project { config, root })
    }

    /// Finds `services.yaml` or `harness.yaml` in `start` or a parent.
    pub fn discover(start: &Path) -> Option<Project> {
        start.ancestors().find_map(|dir| {
            CONFIG_NAMES
                .iter()
                .map(|n| dir.join(n))
                .find(|p| p.is_file())
                .and_then(|p| Project::from_file(&p).ok())
        })
    }

    /// `.harness/`.
    pub fn state_dir(&self) -> PathBuf {
        self.root.join(".harness")
    }
    /// The daemon's socket.
    pub fn socket(&self) -> PathBuf {
        self.state_dir().join("harness.sock")
    }
    /// Where run `run` of a service with `ready: notify` sends `READY=1`
    /// (its `$NOTIFY_SOCKET`). One per run: while a start-first deploy
    /// runs two versions, each one's messages must be told apart (`@` is
    /// never in a service's name).
    pub fn notify_socket(&self, service: &str, run: u64) -> PathBuf {
        self.run_dir().join(format!("{service}@{run}.notify"))
    }
    /// The state database.
    pub fn database(&self) -> PathBuf {
        self.state_dir().join("state.db")
    }
    /// The daemon's lock file.
    pub fn lock(&self) -> PathBuf {
        self.state_dir().join("daemon.lock")
    }
    /// The daemon's own log.
    pub fn daemon_log(&self) -> PathBuf {
        self.state_dir().join("daemon.log")
    }
    /// Folder of service logs.
    pub fn logs_dir(&self) -> PathBuf {
        self.state_dir().join("logs")
    }
    /// Log of one service (the name is validated, so it cannot escape).
    pub fn log(&self, service: &str) -> PathBuf {
        self.logs_dir().join(format!("{service}.log"))
    }
    /// The log a run writes: a service's one log (rotated), or an attempt
    /// at a job's step's own (`logs/JOB+STEP@RUN.log`), never overwritten
    /// by a later attempt.
    pub fn run_log(&self, unit: &UnitId, run: u64) -> PathBuf {
        match unit {
            UnitId::Service(name) => self.log(name),
            UnitId::Step(key) => self.logs_dir().join(format!("{key}@{run}.log")),
        }
    }
    /// Folder of each service's versions (`versions/NAME/VERSION.json`).
    pub fn versions_dir(&self) -> PathBuf {
        self.state_dir().join("versions")
    }
    /// Folder of exit files.
    pub fn run_dir(&self) -> PathBuf {
        self.state_dir().join("run")
    }
    /// Exit file of run `run` of a service: one per run, as two runs of
    /// one service may end at once.
    pub fn exit_file(&self, service: &str, run: u64) -> PathBuf {
        self.run_dir().join(format!("{service}@{run}.exit"))
    }
    /// The exit file a shim of an earlier harness wrote (one per service).
    pub fn legacy_exit_file(&self, service: &str) -> PathBuf {
        self.run_dir().join(format!("{service}.exit"))
    }

    /// The config file's name as the user would write it, for messages.
    pub fn display_name(&self) -> String {
        std::env::current_dir()
            .ok()
            .and_then(|cwd| {
                self.config
                    .strip_prefix(cwd)
                    .ok()
                    .map(|p| p.display().to_string())
            })
            .unwrap_or_else(|| self.config.display().to_string())
    }

    /// Reads, parses and validates the config, including the paths it names.
    pub fn load(&self) -> Result<Config, ConfigErrors> {
        let name = self.display_name();
        let text = std::fs::read_to_string(&self.config).map_err(|e| {
            ConfigErrors(vec![config::ConfigError {
                file: name.clone(),
                location: config::Location { line: 1, column: 1 },
                message: format!("cannot read config: {e}"),
                help: None,
            }])
        })?;
        let cfg = config::parse(&text, &name)?;
        let errs = config::check_paths(&cfg, &name, &self.root, Path::is_dir, Path::is_file);
        if errs.is_empty() {
            Ok(cfg)
        } else {
            Err(ConfigErrors(errs))
        }
    }
}

/// Whether `a` and `b` name the same file: compared resolved (symlinks,
/// `..`), or as written when one of them cannot be resolved.
pub fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}
