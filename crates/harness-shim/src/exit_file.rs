//! How a run ended, for the daemon: `run/NAME@RUN.exit`, written when it
//! ends (to `….exit.tmp`, then renamed, so a reader finds it whole or not
//! at all).
//!
//! Its room on the disk is taken when the run starts: a placeholder the
//! size of the largest body is written to the `.tmp` file then, and the
//! end overwrites it in place, which on tmpfs, ext4 and xfs needs no new
//! room. A run that ends while the state folder's disk is full then
//! still leaves its exit code, instead of an end the daemon can only call
//! "exit status lost". (A copy-on-write filesystem, btrfs or ZFS, may
//! need room to overwrite; there the end can still be lost on a full
//! disk, and is said so.)

use crate::sys::End;
use std::fs::File;
use std::io::{Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;

/// Longer than any body: `run=` and 20 digits, `signal=` or `exit=` and
/// a number, two newlines.
const ROOM: usize = 64;

/// The exit file of one run, its room taken.
pub struct ExitFile {
    path: PathBuf,
    tmp: PathBuf,
    /// The `.tmp` file with its placeholder; none if even that found no
    /// room (the end then tries to write it anew).
    reserved: Option<File>,
}

/// The `.tmp` beside exit file `path`, where its body is written first.
pub fn tmp_of(path: &std::path::Path) -> PathBuf {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    PathBuf::from(tmp)
}

impl ExitFile {
    /// Takes the room for exit file `path`.
    pub fn reserve(path: PathBuf) -> ExitFile {
        let tmp = tmp_of(&path);
        let reserved = open(&tmp, true)
            .and_then(|mut f| {
                f.write_all(&[b'\n'; ROOM])?;
                Ok(f)
            })
            .ok();
        ExitFile {
            path,
            tmp,
            reserved,
        }
    }

    /// Records that run `run` ended so.
    pub fn write(self, run: u64, end: End) {
        let body = match end {
            End::Exited(c) => format!("run={run}\nexit={c}\n"),
            End::Signaled(s) => format!("run={run}\nsignal={s}\n"),
        };
        let file = match self.reserved {
            Some(f) => Ok(f),
            None => open(&self.tmp, true),
        };
        let written = file.and_then(|mut f| {
            f.seek(SeekFrom::Start(0))?;
            f.write_all(body.as_bytes())?;
            // Shrinking frees room, never asks for it.
            f.set_len(body.len() as u64)
        });
        if written.is_ok() {
            let _ = std::fs::rename(&self.tmp, &self.path);
        }
    }
}

/// Opens `path` to write, creating it private.
fn open(path: &std::path::Path, create: bool) -> std::io::Result<File> {
    std::fs::OpenOptions::new()
        .create(create)
        .write(true)
        .truncate(false)
        .mode(0o600)
        .open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_end_overwrites_the_room_taken_at_the_start() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("api@7.exit");
        let exit = ExitFile::reserve(path.clone());
        assert_eq!(std::fs::metadata(tmp_of(&path)).unwrap().len(), ROOM as u64);
        assert!(!path.exists(), "no end before the end");
        let placeholder = std::fs::read_to_string(tmp_of(&path)).unwrap();
        assert_eq!(
            crate::parse_exit_file(&placeholder),
            None,
            "the room taken is no end (the daemon reads a `.tmp` left unrenamed)"
        );
        exit.write(u64::MAX, End::Signaled(9));
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            format!("run={}\nsignal=9\n", u64::MAX)
        );
        assert!(!tmp_of(&path).exists());
        assert_eq!(
            crate::parse_exit_file(&std::fs::read_to_string(&path).unwrap()),
            Some((u64::MAX, Err(9)))
        );
    }
}
