//! Following a log file as it grows, across rotation: the one reader
//! behind `logs -f` and `ready: { log: … }`.

use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// How much one read takes.
const CHUNK: u64 = 1 << 20;

/// The longest piece of one line a read passes on.
const LONGEST: u64 = 4 << 20;

/// A position in a log file: the bytes before it were read.
pub struct LogFollower {
    path: PathBuf,
    offset: u64,
    inode: u64,
}

impl LogFollower {
    /// Follows `path` from `offset` of the file with inode `inode`.
    pub fn from(path: &Path, offset: u64, inode: u64) -> Self {
        LogFollower {
            path: path.to_path_buf(),
            offset,
            inode,
        }
    }

    /// Follows `path` from its end as it is now (from the start of the
    /// next file, if it does not exist yet).
    pub fn at_end(path: &Path) -> Self {
        let (len, inode) = std::fs::metadata(path)
            .map(|m| (m.len(), m.ino()))
            .unwrap_or((0, 0));
        Self::from(path, len, inode)
    }

    /// The whole lines written since the last read (up to 1 MiB of them;
    /// a longer line comes in 1 MiB pieces), or `None` if there are none
    /// yet. A file replaced (rotated) or cut
    /// shorter is read again from its start; a line still being written
    /// waits for the next read.
    pub fn read_more(&mut self) -> Option<Vec<u8>> {
        let mut f = std::fs::File::open(&self.path).ok()?;
        let meta = f.metadata().ok()?;
        if meta.ino() != self.inode || meta.len() < self.offset {
            self.inode = meta.ino();
            self.offset = 0;
        }
        if meta.len() == self.offset {
            return None;
        }
        let buf = whole_lines_at(&mut f, self.offset)?;
        self.offset += buf.len() as u64;
        Some(buf)
    }
}

/// The whole lines of `f` from `offset` on, about 1 MiB of them, or
/// `None` if there are none yet (a line still being written waits). The
/// shim writes a line longer than 1 MiB in pieces of at most 1 MiB and one
/// read of its pipe (64 KiB), each ending in a newline: such a piece is
/// read whole. A line longer still comes in pieces of [`LONGEST`]: a file
/// another writer made, whose reader would otherwise wait for the line's
/// end forever.
pub(crate) fn whole_lines_at(f: &mut std::fs::File, offset: u64) -> Option<Vec<u8>> {
    f.seek(SeekFrom::Start(offset)).ok()?;
    let mut buf = Vec::new();
    f.take(CHUNK).read_to_end(&mut buf).ok()?;
    let mut end = buf.iter().rposition(|&b| b == b'\n');
    while end.is_none()
        && !buf.is_empty()
        && (buf.len() as u64).is_multiple_of(CHUNK)
        && (buf.len() as u64) < LONGEST
    {
        let before = buf.len();
        f.take(CHUNK).read_to_end(&mut buf).ok()?;
        if buf.len() == before {
            break;
        }
        end = buf[before..]
            .iter()
            .rposition(|&b| b == b'\n')
            .map(|i| before + i);
    }
    let end = match end {
        Some(i) => i + 1,
        None if buf.len() as u64 >= LONGEST => buf.len(),
        None => return None,
    };
    buf.truncate(end);
    Some(buf)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn reads_whole_lines_and_starts_over_after_a_rotation() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("api.log");
        std::fs::write(&path, "old\n").unwrap();
        let mut f = LogFollower::at_end(&path);
        assert_eq!(f.read_more(), None);
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        file.write_all(b"one\ntw").unwrap();
        assert_eq!(f.read_more().as_deref(), Some(&b"one\n"[..]));
        assert_eq!(f.read_more(), None, "half a line waits");
        file.write_all(b"o\n").unwrap();
        assert_eq!(f.read_more().as_deref(), Some(&b"two\n"[..]));
        std::fs::rename(&path, dir.path().join("api.log.1")).unwrap();
        std::fs::write(&path, "new\n").unwrap();
        assert_eq!(f.read_more().as_deref(), Some(&b"new\n"[..]));
    }

    fn file_piece_test(dir: &tempfile::TempDir) {
        let path = dir.path().join("piece.log");
        let mut piece = vec![b'x'; CHUNK as usize + 1000];
        piece.extend_from_slice(b"\nnext\n");
        std::fs::write(&path, &piece).unwrap();
        let mut f = LogFollower::from(&path, 0, 0);
        assert_eq!(f.read_more().map(|b| b.len()), Some(piece.len()));
    }

    #[test]
    fn a_line_longer_than_a_chunk_comes_in_pieces() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.log");
        std::fs::write(&path, "").unwrap();
        let mut f = LogFollower::at_end(&path);
        // The shim's pieces (up to 1 MiB and a read) come whole.
        file_piece_test(&dir);
        let long = vec![b'x'; LONGEST as usize + 10];
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        file.write_all(&long).unwrap();
        file.write_all(b"\nready\n").unwrap();
        assert_eq!(f.read_more().map(|b| b.len()), Some(LONGEST as usize));
        assert_eq!(f.read_more().as_deref(), Some(&b"xxxxxxxxxx\nready\n"[..]));
    }
}
