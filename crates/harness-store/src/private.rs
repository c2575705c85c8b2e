//! The state folder is the user's alone: what services print (connection
//! strings, tokens), what they were started with (their environment, from
//! `env` and `env_file`) and the whole history live there. Folders are
//! made 0700 and files 0600 whatever the umask, as systemd does for
//! `StateDirectory=` with `StateDirectoryMode=0700`; a folder left by an
//! earlier harness is repaired on the daemon's start.

use rustix::fs::{FileType, Mode};
use std::ffi::OsStr;
use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
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
///
/// Every entry is reached through its folder's descriptor and opened
/// without following a link (`O_PATH | O_NOFOLLOW`), then its mode read
/// and changed on that descriptor: a link swapped in for an entry or a
/// folder between the look and the change leads nowhere. `root` itself is
/// followed (a `.harness` the user linked to another disk is theirs).
pub fn repair(root: &Path) -> io::Result<Vec<PathBuf>> {
    use rustix::fs::{CWD, OFlags};
    let mut changed = Vec::new();
    let at = rustix::fs::openat(CWD, root, OFlags::PATH | OFlags::CLOEXEC, Mode::empty())?;
    let mut todo = vec![(at, root.to_path_buf())];
    while let Some((fd, path)) = todo.pop() {
        if !fix(&fd, path.clone(), &mut changed) {
            continue; // not a folder
        }
        let Ok(entries) = rustix::fs::openat(
            &fd,
            c".",
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .and_then(rustix::fs::Dir::new) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            if name == c"." || name == c".." {
                continue;
            }
            let flags = OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC;
            let Ok(child) = rustix::fs::openat(&fd, name, flags, Mode::empty()) else {
                continue;
            };
            let child_path = path.join(OsStr::from_bytes(name.to_bytes()));
            // Folders wait their turn; anything else is done now and its
            // descriptor closed, so a folder of thousands of logs holds
            // one descriptor at a time.
            match rustix::fs::fstat(&child).map(|st| FileType::from_raw_mode(st.st_mode)) {
                Ok(FileType::Directory) => todo.push((child, child_path)),
                Ok(_) => {
                    fix(&child, child_path, &mut changed);
                }
                Err(_) => {}
            }
        }
    }
    Ok(changed)
}

/// Makes what `fd` names private if group or others had any access (its
/// path then goes into `changed`); true if it is a folder. A link is
/// left as it is; an entry that cannot be changed (another user's, gone
/// meanwhile) is skipped: the folder above it is private all the same.
fn fix(fd: &OwnedFd, path: PathBuf, changed: &mut Vec<PathBuf>) -> bool {
    let Ok(stat) = rustix::fs::fstat(fd) else {
        return false;
    };
    let kind = FileType::from_raw_mode(stat.st_mode);
    if kind == FileType::Symlink {
        return false;
    }
    let want = if kind == FileType::Directory {
        DIR_MODE
    } else {
        FILE_MODE
    };
    let mode = stat.st_mode & 0o7777;
    if mode & 0o077 != 0 && chmod_fd(fd, mode & 0o700 | want).is_ok() {
        changed.push(path);
    }
    kind == FileType::Directory
}

/// Changes the mode of what `fd` (an `O_PATH` descriptor, which
/// `fchmod` refuses) names, through its `/proc/self/fd` entry: that
/// names the very inode, never a link.
fn chmod_fd(fd: &OwnedFd, mode: u32) -> io::Result<()> {
    let proc = format!("/proc/self/fd/{}", fd.as_raw_fd());
    rustix::fs::chmod(proc.as_str(), Mode::from_raw_mode(mode))?;
    Ok(())
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
        let _socket = std::os::unix::net::UnixListener::bind(state.join("run/n.sock")).unwrap();
        unsafe { libc::umask(old) };
        assert_eq!(mode(&state), 0o700);
        assert_eq!(mode(&state.join("logs")), 0o700);
        assert_eq!(mode(&state.join("logs/api.log")), 0o600);
        assert_eq!(mode(&state.join("state.db")), 0o600);
        // What an earlier harness left: repaired, and said which.
        std::os::unix::fs::symlink("/etc/passwd", state.join("link")).unwrap();
        let mut changed = repair(&state).unwrap();
        changed.sort();
        assert_eq!(
            changed,
            [
                state.join("daemon.log"),
                state.join("run"),
                state.join("run/n.sock")
            ]
        );
        assert_eq!(mode(&state.join("run/n.sock")), 0o700);
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
