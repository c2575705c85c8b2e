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
    /// Paths hashed since [`FileHashes::take_new`] was last called: what
    /// the store does not have yet.
    new: Vec<PathBuf>,
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
        self.new.push(path.to_path_buf());
        Some(hash)
    }

    /// Hashes a store kept (`path`, stamp, hash), known again: a new daemon
    /// reads only the files whose stamp changed since.
    pub fn known_from(entries: Vec<harness_store::StampedHash>) -> FileHashes {
        FileHashes {
            known: entries
                .into_iter()
                .map(|(path, stamp, hash)| (PathBuf::from(path), (stamp, hash)))
                .collect(),
            ..FileHashes::default()
        }
    }

    /// The hashes made since the last call, with their stamps, for the
    /// store to keep.
    pub fn take_new(&mut self) -> Vec<harness_store::StampedHash> {
        let new = std::mem::take(&mut self.new);
        new.into_iter()
            .filter_map(|p| {
                let (stamp, hash) = self.known.get(&p)?.clone();
                Some((p.to_string_lossy().into_owned(), stamp, hash))
            })
            .collect()
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

/// Sends the hashes made since the last call to the store, which keeps
/// them for the next daemon.
pub fn keep_new(hashes: &std::sync::Mutex<FileHashes>, store: &crate::store_writer::StoreWriter) {
    let new = hashes.lock().unwrap_or_else(|p| p.into_inner()).take_new();
    if !new.is_empty() {
        store.send(harness_store::Write::FileHashes(new));
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

    #[test]
    fn hashes_kept_by_a_store_are_known_again_until_the_file_changes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("base.iso");
        std::fs::write(&path, "iso").unwrap();
        let mut h = FileHashes::default();
        let hash = h.hash(&path).unwrap();
        let kept = h.take_new();
        assert_eq!(kept.len(), 1);
        assert!(h.take_new().is_empty(), "taken once");
        let mut again = FileHashes::known_from(kept);
        assert_eq!(again.hash(&path), Some(hash));
        assert_eq!(again.reads(), 0, "read again with its stamp unchanged");
        std::fs::write(&path, "iso2").unwrap();
        again.hash(&path);
        assert_eq!(again.reads(), 1);
    }
}
