//! The config file as it is on disk, parsed once per change: a request
//! that finds the file (and the files its definitions name: `env_file`,
//! `version.files`) as they were last read costs a `stat` each, not a
//! parse.

use super::observe::{VersionCommandFailed, has_commands, observe, watched_files};
use harness_api::{ApiError, ApiErrorKind};
use harness_core::config::Config;
use harness_store::Project;
use std::path::{Path, PathBuf};

use crate::file_hashes::Stamp;

/// The project's config file and its last parse.
pub(super) struct ConfigFile {
    project: Project,
    /// The file's stamp, then each watched file's, in order.
    stamps: Vec<Option<Stamp>>,
    watched: Vec<PathBuf>,
    config: Config,
    /// The version commands that failed when the file was last observed.
    failed: Vec<VersionCommandFailed>,
}

impl ConfigFile {
    /// `config`, parsed from the file as it is now.
    pub fn new(project: Project, mut config: Config) -> Self {
        let failed = observe(&project.root, &mut config);
        let watched = watched_files(&project.root, &config);
        let stamps = stamps(&project.config, &watched);
        ConfigFile {
            project,
            stamps,
            watched,
            config,
            failed,
        }
    }

    /// The config as the files say now; parsed and observed again only if
    /// one of them changed since the last call.
    pub fn current(&mut self) -> Result<&Config, ApiError> {
        let now = stamps(&self.project.config, &self.watched);
        if now.iter().any(Option::is_none) || now != self.stamps {
            let mut config = self
                .project
                .load()
                .map_err(|e| ApiError::new(ApiErrorKind::Config, e.to_string()))?;
            self.failed = observe(&self.project.root, &mut config);
            self.watched = watched_files(&self.project.root, &config);
            self.stamps = stamps(&self.project.config, &self.watched);
            self.config = config;
        }
        Ok(&self.config)
    }

    /// The config as the files say now, with every `version.command` run
    /// again (only they can tell that a binary was rebuilt): what a start
    /// spawns with. A command that failed leaves its part of the version
    /// unknown (never guessed); [`ConfigFile::for_deploy`] refuses it.
    pub fn fresh(&mut self) -> Result<&Config, ApiError> {
        self.current()?;
        if has_commands(&self.config) {
            self.failed = observe(&self.project.root, &mut self.config);
        }
        Ok(&self.config)
    }

    /// The file as a request observed it off the supervisor's loop
    /// ([`super::observe::load_observed`]), taken as the last parse: what
    /// a start spawns with. A version command that failed leaves its part
    /// of the version unknown (never guessed).
    pub fn take_fresh(&mut self, observed: super::observe::Observed) -> &Config {
        self.watched = watched_files(&self.project.root, &observed.config);
        self.stamps = stamps(&self.project.config, &self.watched);
        self.config = observed.config;
        self.failed = observed.failed;
        &self.config
    }

    /// [`ConfigFile::take_fresh`], for a deploy, like
    /// [`ConfigFile::for_deploy`].
    pub fn take_observed(
        &mut self,
        observed: super::observe::Observed,
    ) -> Result<&Config, ApiError> {
        self.take_fresh(observed);
        if let Some(f) = self.failed.first() {
            return Err(ApiError::new(ApiErrorKind::Config, f.to_string()));
        }
        Ok(&self.config)
    }

    /// [`ConfigFile::fresh`], for a deploy: a version command that fails
    /// is a config error, since a deploy never guesses a version.
    pub fn for_deploy(&mut self) -> Result<&Config, ApiError> {
        self.fresh()?;
        if let Some(f) = self.failed.first() {
            return Err(ApiError::new(ApiErrorKind::Config, f.to_string()));
        }
        Ok(&self.config)
    }
}

fn stamps(config: &Path, watched: &[PathBuf]) -> Vec<Option<Stamp>> {
    std::iter::once(config)
        .chain(watched.iter().map(PathBuf::as_path))
        .map(stamp)
        .collect()
}

fn stamp(path: &Path) -> Option<Stamp> {
    std::fs::metadata(path)
        .ok()
        .map(|m| crate::file_hashes::stamp(&m))
}
