//! The state folder is the user's alone: what services print (connection
//! strings, tokens), what they were started with (their environment, from
//! `env` and `env_file`) and the whole history live there. Folders are
//! made 0700 and files 0600 whatever the umask, as systemd does for
//! `StateDirectory=` with `StateDirectoryMode=0700`; a folder left by an
//! earlier harness is repaired on the daemon's start.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// A folder's mode.
pub const DIR_MODE: u32 = 0o700;
/// A file's mode.
pub const FILE_MODE: u32 = 0o600;

/// Creates folder `path` and the folders above it that are missing, each
/// private (one that exists is [`repair`]'s to fix, and to report).
pub fn dir(path: &Path) -> io::Result<()> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(DIR_MODE)
        .create(path)?;
    // The umask may have taken bits off, never added them; but a mode
    // without the owner's rwx would lock the daemon out.
    let mode = std::fs::metadata(path)?.permissions().mode();
    if mode & 0o700 != 0o700 {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(DIR_MODE))?;
    }
    Ok(())
}

/// Opens `path` for appending, creating it private.
pub fn append(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .mode(FILE_MODE)
        .open(path)
}

/// Creates file `path` private if it does not exist (for a file another
/// library opens, such as the SQLite database, which takes its journal's
/// mode from it).
pub fn create(path: &Path) -> io::Result<()> {
    OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(FILE_MODE)
        .open(path)
        .map(drop)
}

/// Makes every folder under `root` (itself included) 0700 and every other
/// entry 0600 where group or others had any access; the paths changed. A
/// symbolic link is neither followed nor changed.
pub fn repair(root: &Path) -> io::Result<Vec<PathBuf>> {
    let mut changed = Vec::new();
    let mut todo = vec![root.to_path_buf()];
    while let Some(path) = todo.pop() {
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue; // gone meanwhile
        };
        if meta.file_type().is_symlink() {
            continue;
        }
        let want = if meta.is_dir() { DIR_MODE } else { FILE_MODE };
        let mode = meta.permissions().mode();
        // An entry that cannot be changed (another user's, gone meanwhile)
        // is skipped: the folder above it is private all the same.
        if mode & 0o077 != 0 {
            let keep = mode & 0o700 | want;
            if std::fs::set_permissions(&path, std::fs::Permissions::from_mode(keep)).is_ok() {
                changed.push(path.clone());
            }
        }
        if meta.is_dir()
            && let Ok(entries) = std::fs::read_dir(&path)
        {
            for entry in entries.flatten() {
                todo.push(entry.path());
            }
        }
    }
    Ok(changed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::symlink_metadata(path)
            .unwrap()
            .permissions()
            .mode()
            & 0o777
    }

    #[test]
    fn made_private_whatever_the_umask_and_repaired_when_left_open() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join(".harness");
        // An umask that leaves everything open to everyone.
        let old = unsafe { libc::umask(0) };
        super::dir(&state.join("logs")).unwrap();
        append(&state.join("logs/api.log")).unwrap();
        create(&state.join("state.db")).unwrap();
        std::fs::write(state.join("daemon.log"), "open\n").unwrap();
        std::fs::create_dir(state.join("run")).unwrap();
        unsafe { libc::umask(old) };
        assert_eq!(mode(&state), 0o700);
        assert_eq!(mode(&state.join("logs")), 0o700);
        assert_eq!(mode(&state.join("logs/api.log")), 0o600);
        assert_eq!(mode(&state.join("state.db")), 0o600);
        // What an earlier harness left: repaired, and said which.
        std::os::unix::fs::symlink("/etc/passwd", state.join("link")).unwrap();
        let mut changed = repair(&state).unwrap();
        changed.sort();
        assert_eq!(changed, [state.join("daemon.log"), state.join("run")]);
        assert_eq!(mode(&state.join("daemon.log")), 0o600);
        assert_eq!(mode(&state.join("run")), 0o700);
        assert_eq!(
            mode(Path::new("/etc/passwd")) & 0o004,
            0o004,
            "not followed"
        );
        assert!(repair(&state).unwrap().is_empty(), "once");
    }
}
