//! Content hashes of the files a job's steps name (`inputs`, `outputs`),
//! remembered by stamp. A file whose size, inode, modification and change
//! times are what they were when it was hashed is not read again; any
//! change of those and the content is hashed again — the content is the
//! truth, the stamp only says when it may have changed (make trusts the
//! modification time alone). A resume of a long job with many large
//! inputs is then a `stat` per file, not a read.
//!
//! BLAKE3: a file's hash is read from disk at the speed of the disk, not
//! of the hash.

use std::collections::HashMap;
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// What tells one version of a file from another without reading it:
/// size, inode, and modification and change times (nanoseconds).
pub type Stamp = (u64, u64, i64, i64, i64, i64);

/// The stamp of a file's metadata.
pub fn stamp(m: &std::fs::Metadata) -> Stamp {
    (
        m.len(),
        m.ino(),
        m.mtime(),
        m.mtime_nsec(),
        m.ctime(),
        m.ctime_nsec(),
    )
}

/// The hashes known, by path.
#[derive(Default)]
pub struct FileHashes {
    known: HashMap<PathBuf, (Stamp, String)>,
    /// Files read so far (the cache's misses).
    reads: usize,
}

impl FileHashes {
    /// The content hash of `path` (64 hex digits), or `None` if it is not a
    /// readable file. Read only when its stamp changed since it was last
    /// hashed.
    pub fn hash(&mut self, path: &Path) -> Option<String> {
        let meta = std::fs::metadata(path).ok().filter(|m| m.is_file())?;
        let now = stamp(&meta);
        if let Some((was, hash)) = self.known.get(path)
            && *was == now
        {
            return Some(hash.clone());
        }
        let hash = hash_file(path)?;
        self.reads += 1;
        // Stamped as it was before the read: a write during the read
        // changes the stamp, and the next call reads the file again.
        self.known.insert(path.to_path_buf(), (now, hash.clone()));
        Some(hash)
    }

    /// How many files it remembers.
    pub fn len(&self) -> usize {
        self.known.len()
    }

    /// How many times a file had to be read.
    pub fn reads(&self) -> usize {
        self.reads
    }

    /// Whether it remembers none.
    pub fn is_empty(&self) -> bool {
        self.known.is_empty()
    }
}

/// BLAKE3 of a file's contents, read in large blocks.
fn hash_file(path: &Path) -> Option<String> {
    let mut f = std::fs::File::open(path).ok()?;
    let mut hasher = blake3::Hasher::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        match f.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                hasher.update(&buf[..n]);
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return None,
        }
    }
    Some(hasher.finalize().to_hex().to_string())
}

#[cfg(test)]
mod tests {
    use super::FileHashes;

    #[test]
    fn a_file_is_read_again_only_when_its_stamp_changes_and_its_content_decides() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("versions.lock");
        std::fs::write(&path, "a=1\n").unwrap();
        let mut h = FileHashes::default();
        let first = h.hash(&path).unwrap();
        assert_eq!(first.len(), 64);
        assert_eq!(h.hash(&path).as_ref(), Some(&first));
        assert_eq!(h.reads(), 1, "the unchanged file was read again");
        // Same size, new content: the change time moved, so it is read.
        std::fs::write(&path, "a=2\n").unwrap();
        let second = h.hash(&path).unwrap();
        assert_ne!(second, first);
        // Written back as it was: a new stamp, the same content, the same
        // hash — a touched file is not a changed one.
        std::fs::write(&path, "a=1\n").unwrap();
        assert_eq!(h.hash(&path), Some(first));
        assert_eq!(h.reads(), 3);
        // Gone, or a folder: no hash.
        std::fs::remove_file(&path).unwrap();
        assert_eq!(h.hash(&path), None);
        assert_eq!(h.hash(dir.path()), None);
        assert_eq!(h.len(), 1);
    }
}
