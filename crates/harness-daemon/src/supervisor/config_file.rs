//! The config file as it is on disk, parsed once per change: a request
//! that finds the file as it was last read costs one `stat`, not a parse.

use harness_api::{ApiError, ApiErrorKind};
use harness_core::config::Config;
use harness_store::Project;
use std::os::unix::fs::MetadataExt;

/// What tells one version of the file from another: size, inode and
/// modification and change times (nanoseconds).
type Stamp = (u64, u64, i64, i64, i64, i64);

/// The project's config file and its last parse.
pub(super) struct ConfigFile {
    project: Project,
    stamp: Option<Stamp>,
    config: Config,
}

impl ConfigFile {
    /// `config`, parsed from the file as it is now.
    pub fn new(project: Project, config: Config) -> Self {
        let stamp = stamp(&project);
        ConfigFile {
            project,
            stamp,
            config,
        }
    }

    /// The config as the file says now; parsed again only if the file
    /// changed since the last call.
    pub fn current(&mut self) -> Result<&Config, ApiError> {
        let now = stamp(&self.project);
        if now.is_none() || now != self.stamp {
            self.config = self
                .project
                .load()
                .map_err(|e| ApiError::new(ApiErrorKind::Config, e.to_string()))?;
            self.stamp = now;
        }
        Ok(&self.config)
    }
}

fn stamp(project: &Project) -> Option<Stamp> {
    let m = std::fs::metadata(&project.config).ok()?;
    Some((
        m.len(),
        m.ino(),
        m.mtime(),
        m.mtime_nsec(),
        m.ctime(),
        m.ctime_nsec(),
    ))
}
