//! Which config file the state folder's state belongs to. A folder may
//! hold several config files, and one daemon serves one of them at a time:
//! a daemon for another file must neither take over this file's runs nor
//! inherit its outcomes.

use crate::error::StoreError;
use crate::project::{CONFIG_NAMES, Project};
use crate::store::Store;
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, params};
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// Whose the state of a folder is, as one of its config files sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    /// This file's (or nobody's yet).
    This,
    /// Another file's of the folder: this path.
    Another(PathBuf),
    /// Not recorded (written before schema 5), and this file is not the one
    /// the folder is found by: it may be another file's.
    Unrecorded,
}

impl Owner {
    /// For a state that is not this file's: where its runs came from, and
    /// the command that stops them, as messages say it.
    pub fn from_and_stop(&self) -> Option<(String, String)> {
        match self {
            Owner::This => None,
            Owner::Another(file) => Some((
                format!("from {}", file.display()),
                format!("harness -f {} stop --all", file.display()),
            )),
            Owner::Unrecorded => Some((
                "from a file an earlier harness did not record".to_string(),
                "harness -f FILE stop --all, with the file that started them".to_string(),
            )),
        }
    }

    /// A name for the previous owner's things kept apart (`logs-NAME/`).
    pub fn label(&self) -> String {
        match self {
            Owner::Another(file) => file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            Owner::This | Owner::Unrecorded => "earlier".to_string(),
        }
    }
}

/// "services run here from FILE (a, b)": the start of every refusal to act
/// beside another file's live runs.
pub fn runs_here(from: &str, names: &[impl AsRef<str>]) -> String {
    let names: Vec<&str> = names.iter().map(AsRef::as_ref).collect();
    let verb = if names.len() == 1 {
        "a service runs"
    } else {
        "services run"
    };
    format!("{verb} here {from} ({})", names.join(", "))
}

impl Store {
    /// The file name (in the state folder's folder) of the config the
    /// state belongs to; `None` before any daemon recorded one (a new
    /// file, or one written before schema 5).
    pub fn served(&self) -> Result<Option<PathBuf>, StoreError> {
        let name: Option<Value> = self
            .conn
            .query_row("SELECT config FROM served WHERE id = 1", [], |r| r.get(0))
            .optional()?;
        // Stored as the name's bytes (a file name need not be UTF-8).
        Ok(name.and_then(|v| match v {
            Value::Blob(b) => Some(PathBuf::from(OsStr::from_bytes(&b))),
            Value::Text(t) => Some(PathBuf::from(t)),
            _ => None,
        }))
    }

    /// Whose the state is, for `project`'s file. Names, not paths, are
    /// compared: the state folder sits beside its config, so a folder that
    /// was moved or renamed is still the same.
    pub fn owner(&self, project: &Project) -> Result<Owner, StoreError> {
        let Some(name) = self.served()? else {
            let default = CONFIG_NAMES
                .iter()
                .map(|n| project.root.join(n))
                .find(|p| p.is_file());
            return Ok(match default {
                Some(d) if d != project.config => Owner::Unrecorded,
                _ => Owner::This,
            });
        };
        Ok(if Some(name.as_os_str()) == project.config.file_name() {
            Owner::This
        } else {
            Owner::Another(project.root.join(name))
        })
    }
}

/// Records that the state belongs to the config file named `name`.
pub(crate) fn set(conn: &Connection, name: &Path) -> Result<(), StoreError> {
    conn.execute(
        "INSERT OR REPLACE INTO served VALUES (1, ?1)",
        params![name.as_os_str().as_bytes()],
    )?;
    Ok(())
}

/// Forgets every service's outcome: they were another file's.
pub(crate) fn forget_outcomes(conn: &Connection) -> Result<(), StoreError> {
    conn.execute("DELETE FROM outcomes", [])?;
    Ok(())
}
