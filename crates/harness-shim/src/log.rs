//! Whole lines from two pipes into one size-rotated log file, with a
//! sidecar index of when each piece was captured and from which stream.
//!
//! The index (`NAME.log.idx`, rotated with its log to `NAME.log.N.idx`)
//! is a list of 16-byte records, little-endian: the byte offset in the
//! log where a write of whole lines begins, with bit 63 set for stderr,
//! then the time it was captured, in microseconds since the Unix epoch.
//! A line's time and stream are those of the last record at or before its
//! start. A record is written before its lines, so a reader never finds a
//! line without one. The offset is where the file really ends at the
//! write (one `lseek`), not where the shim's own writes left it: the
//! daemon appends `[harness] …` lines to the same log ([`append_line`]),
//! with records of their own. The log itself stays plain text: `tail -f`
//! and `ready: { log }` read it as they always did.

use std::collections::VecDeque;
use std::fs::{File, OpenOptions};
use std::io::{self, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// Which of the service's outputs a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Stream {
    /// Its stdout.
    #[default]
    Out,
    /// Its stderr.
    Err,
}

/// Bit 63 of an index record's offset: the lines are from stderr.
pub const STDERR_BIT: u64 = 1 << 63;

/// The index file of log `path`: `PATH.idx`.
pub fn index_of(path: &Path) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(".idx");
    PathBuf::from(p)
}

/// A line longer than this is written in pieces rather than held forever.
const MAX_PARTIAL: usize = 1 << 20;

/// Written after each piece of a line split at [`MAX_PARTIAL`]: the log
/// stays whole lines (another stream's lines never land inside the long
/// one), nothing is dropped, and a reader is told the line goes on.
const SPLIT_MARK: &[u8] =
    b"\n[harness] the line above is longer than 1 MiB; it goes on on the next line\n";

/// Appends complete lines to a log file and rotates it by size:
/// `NAME.log` → `NAME.log.1` → … → `NAME.log.KEEP` (the oldest is dropped
/// only when it would be the KEEP+1st). With KEEP 0 it never rotates: the
/// log keeps everything.
pub struct LogWriter {
    path: PathBuf,
    file: File,
    /// The index beside it; none if it could not be opened (the log is
    /// kept all the same).
    index: Option<File>,
    size: u64,
    max_bytes: u64,
    keep: u32,
    /// Writes the disk refused (it is full), oldest first: each is
    /// written whole, with its own record, before anything newer, once the
    /// disk takes it.
    unwritten: VecDeque<Piece>,
}

/// Whole lines of one stream, captured at one time, that wait for room.
struct Piece {
    bytes: Vec<u8>,
    stream: Stream,
    us: u64,
}

impl LogWriter {
    /// Opens (appending to) `path`.
    pub fn open(path: &Path, max_bytes: u64, keep: u32) -> io::Result<Self> {
        let file = open_append(path)?;
        let size = file.metadata()?.len();
        Ok(LogWriter {
            path: path.to_path_buf(),
            file,
            index: open_append(&index_of(path)).ok(),
            size,
            max_bytes: max_bytes.max(1),
            keep,
            unwritten: VecDeque::new(),
        })
    }

    /// Writes `bytes` (whole lines from `stream`) in one write, rotating
    /// first if they would push the file past its limit; their index
    /// record goes first. A write the disk refuses (it is full) is kept
    /// whole, with its capture time, for [`LogWriter::retry`]: nothing is
    /// dropped, and the log and its index never end in a piece of a line
    /// or of a record (what a refused write got onto the disk is taken
    /// back). The writer is then [`blocked`](LogWriter::blocked), and its
    /// caller stops taking output until it is not.
    pub fn write_lines(&mut self, bytes: &[u8], stream: Stream) -> io::Result<()> {
        if bytes.is_empty() {
            return Ok(());
        }
        let us = now_us();
        let blocked = self.blocked();
        if blocked || !self.write_piece(bytes, stream, us)? {
            self.unwritten.push_back(Piece {
                bytes: bytes.to_vec(),
                stream,
                us,
            });
        }
        if blocked {
            self.retry()?;
        }
        Ok(())
    }

    /// Writes one piece of lines captured at `us` and its record; false
    /// if the disk refused it.
    fn write_piece(&mut self, bytes: &[u8], stream: Stream, us: u64) -> io::Result<bool> {
        // Lines the daemon appended count: the size is where the file
        // ends, not where this writer's own bytes end.
        self.size = self.file.seek(SeekFrom::End(0)).unwrap_or(self.size);
        let len = bytes.len() as u64;
        if self.keep > 0 && self.size > 0 && self.size + len > self.max_bytes {
            match self.rotate() {
                Ok(()) => {}
                Err(e) if refused(&e) => return Ok(false),
                Err(e) => return Err(e),
            }
        }
        if let Some(index) = &mut self.index {
            match append_whole(index, &record(self.size, stream, us)) {
                Err(e) if refused(&e) => return Ok(false),
                // Any other lost record only costs the lines their exact
                // time.
                _ => {}
            }
        }
        match append_whole(&mut self.file, bytes) {
            Ok(()) => {
                self.size += len;
                Ok(true)
            }
            // The record written stays behind, harmless: the next record
            // at the same offset (the piece's own, when it is written)
            // is the one in force.
            Err(e) if refused(&e) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Whether bytes wait for room on the disk.
    pub fn blocked(&self) -> bool {
        !self.unwritten.is_empty()
    }

    /// Writes what the disk refused before, oldest first, as far as it
    /// takes it now; true once all of it is written.
    pub fn retry(&mut self) -> io::Result<bool> {
        while let Some(piece) = self.unwritten.pop_front() {
            match self.write_piece(&piece.bytes, piece.stream, piece.us) {
                Ok(true) => {}
                Ok(false) => {
                    self.unwritten.push_front(piece);
                    return Ok(false);
                }
                // Not for want of room, so waiting would not help: the
                // piece is given up (the caller says so), and the
                // service's output flows again.
                Err(e) => return Err(e),
            }
        }
        Ok(true)
    }

    /// How many bytes wait for room.
    pub fn waiting(&self) -> usize {
        self.unwritten.iter().map(|p| p.bytes.len()).sum()
    }

    fn rotate(&mut self) -> io::Result<()> {
        let numbered = |n: u32| {
            let mut p = self.path.clone().into_os_string();
            p.push(format!(".{n}"));
            PathBuf::from(p)
        };
        // Each index moves before its log: a reader that finds a log in
        // place after opening its index knows the index is that log's.
        for n in (1..self.keep).rev() {
            let _ = std::fs::rename(index_of(&numbered(n)), index_of(&numbered(n + 1)));
            let _ = std::fs::rename(numbered(n), numbered(n + 1));
        }
        let _ = std::fs::rename(index_of(&self.path), index_of(&numbered(1)));
        match std::fs::rename(&self.path, numbered(1)) {
            // Moved already by a rotation whose reopening failed: this
            // writer still held the moved file.
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            other => other?,
        }
        self.file = open_append(&self.path)?;
        self.index = open_append(&index_of(&self.path)).ok();
        self.size = 0;
        Ok(())
    }
}

/// Opens `path` for appending, creating it private (0600): what a
/// service prints is its user's alone, whatever the umask.
fn open_append(path: &Path) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)
}

/// Whether the disk refused a write for want of room (or quota): it may
/// take it later.
fn refused(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::ENOSPC) | Some(libc::EDQUOT))
}

/// Writes all of `bytes` at the end of `file` (opened to append). If the
/// disk refuses part of them, what it took is cut off again, so the file
/// ends where it ended before: a log holds only whole lines, an index
/// only whole records.
fn append_whole(file: &mut File, bytes: &[u8]) -> io::Result<()> {
    let mut done = 0;
    while done < bytes.len() {
        match file.write(&bytes[done..]) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => done += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                if refused(&e) && done > 0 {
                    // Another writer (the daemon's marks) appends too: the
                    // cut is at most `done` back from where the file ends
                    // now, which is ours unless it wrote in these µs.
                    if let Ok(m) = file.metadata() {
                        let _ = file.set_len(m.len().saturating_sub(done as u64));
                    }
                }
                return Err(e);
            }
        }
    }
    Ok(())
}

/// Microseconds since the Unix epoch.
fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0)
}

/// The index record of lines from `stream` that begin at `offset`,
/// captured at `us`.
fn record(offset: u64, stream: Stream, us: u64) -> [u8; 16] {
    let at = offset | if stream == Stream::Err { STDERR_BIT } else { 0 };
    let mut record = [0u8; 16];
    record[..8].copy_from_slice(&at.to_le_bytes());
    record[8..].copy_from_slice(&us.to_le_bytes());
    record
}

/// Appends one whole line (with its newline) to log `path` as if on
/// stdout, with its index record: how the daemon puts `[harness] …` marks
/// among a service's own output. One write of the whole line, so it never
/// splits a line the shim writes, and the shim's log never ends in part
/// of a line (a write the disk refuses is taken back), so no mark lands
/// inside one. On a full disk the mark is not written, nor part of it.
/// Should the shim write in the same microseconds, one of the two writes
/// may take the other's time.
pub fn append_line(path: &Path, line: &[u8]) -> io::Result<()> {
    let mut file = open_append(path)?;
    let at = file.seek(SeekFrom::End(0))?;
    if let Ok(mut index) = open_append(&index_of(path)) {
        append_whole(&mut index, &record(at, Stream::Out, now_us()))?;
    }
    append_whole(&mut file, line)
}

/// Splits a stream into whole lines: bytes after the last newline wait for
/// the rest of their line.
#[derive(Default)]
pub struct LineBuffer {
    partial: Vec<u8>,
    stream: Stream,
}

impl LineBuffer {
    /// A buffer of `stream`'s lines.
    pub fn of(stream: Stream) -> LineBuffer {
        LineBuffer {
            partial: Vec::new(),
            stream,
        }
    }

    /// Adds `chunk`; writes every completed line to `log`.
    pub fn push(&mut self, chunk: &[u8], log: &mut LogWriter) -> io::Result<()> {
        match chunk.iter().rposition(|&b| b == b'\n') {
            None => {
                self.partial.extend_from_slice(chunk);
                if self.partial.len() >= MAX_PARTIAL {
                    self.partial.extend_from_slice(SPLIT_MARK);
                    log.write_lines(&self.partial, self.stream)?;
                    self.partial.clear();
                }
                Ok(())
            }
            Some(last) => {
                let (lines, rest) = chunk.split_at(last + 1);
                if self.partial.is_empty() {
                    log.write_lines(lines, self.stream)?;
                } else {
                    self.partial.extend_from_slice(lines);
                    log.write_lines(&self.partial, self.stream)?;
                    self.partial.clear();
                }
                self.partial.extend_from_slice(rest);
                Ok(())
            }
        }
    }

    /// Writes an unfinished last line, ending it with a newline.
    pub fn finish(&mut self, log: &mut LogWriter) -> io::Result<()> {
        if !self.partial.is_empty() {
            self.partial.push(b'\n');
            log.write_lines(&self.partial, self.stream)?;
            self.partial.clear();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interleaved_partial_lines_stay_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("svc.log");
        let mut log = LogWriter::open(&path, 1 << 20, 2).unwrap();
        let (mut out, mut err) = (LineBuffer::of(Stream::Out), LineBuffer::of(Stream::Err));
        out.push(b"hello wo", &mut log).unwrap();
        err.push(b"oops\nhalf", &mut log).unwrap();
        out.push(b"rld\nnext\n", &mut log).unwrap();
        err.push(b" line", &mut log).unwrap();
        err.finish(&mut log).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text, "oops\nhello world\nnext\nhalf line\n");
    }

    #[test]
    fn rotates_by_size_keeping_n_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("svc.log");
        let mut log = LogWriter::open(&path, 10, 2).unwrap();
        for line in ["aaaaaaaa\n", "bbbbbbbb\n", "cccccccc\n", "dddddddd\n"] {
            log.write_lines(line.as_bytes(), Stream::Out).unwrap();
        }
        let read = |p: &str| std::fs::read_to_string(dir.path().join(p)).unwrap();
        assert_eq!(read("svc.log"), "dddddddd\n");
        assert_eq!(read("svc.log.1"), "cccccccc\n");
        assert_eq!(read("svc.log.2"), "bbbbbbbb\n");
        assert!(!dir.path().join("svc.log.3").exists());
    }

    #[test]
    fn a_line_longer_than_the_limit_is_split_whole_and_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("svc.log");
        let mut log = LogWriter::open(&path, 1 << 30, 2).unwrap();
        let (mut out, mut err) = (LineBuffer::of(Stream::Out), LineBuffer::of(Stream::Err));
        let long = vec![b'x'; MAX_PARTIAL + 10];
        for piece in long.chunks(64 << 10) {
            out.push(piece, &mut log).unwrap();
            err.push(b"meanwhile\n", &mut log).unwrap();
        }
        out.push(b"\n", &mut log).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let xs: usize = lines
            .iter()
            .filter(|l| l.bytes().all(|b| b == b'x'))
            .map(|l| l.len())
            .sum();
        assert_eq!(xs, MAX_PARTIAL + 10, "a byte of the long line was lost");
        assert_eq!(lines.iter().filter(|l| **l == "meanwhile").count(), 17);
        assert_eq!(
            lines
                .iter()
                .filter(|l| l.starts_with("[harness] the line above"))
                .count(),
            1
        );
    }

    /// The index's records: (offset, stderr, µs).
    fn records(path: &Path) -> Vec<(u64, bool, u64)> {
        std::fs::read(index_of(path))
            .unwrap_or_default()
            .chunks(16)
            .map(|r| {
                let at = u64::from_le_bytes(r[..8].try_into().unwrap());
                let us = u64::from_le_bytes(r[8..].try_into().unwrap());
                (at & !STDERR_BIT, at & STDERR_BIT != 0, us)
            })
            .collect()
    }

    #[test]
    fn each_write_is_indexed_before_its_lines_with_its_stream_and_time_and_rotated_with_them() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("svc.log");
        let mut log = LogWriter::open(&path, 20, 1).unwrap();
        let (mut out, mut err) = (LineBuffer::of(Stream::Out), LineBuffer::of(Stream::Err));
        let before = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_micros() as u64;
        out.push(b"one\ntwo\n", &mut log).unwrap();
        err.push(b"oops\n", &mut log).unwrap();
        let r = records(&path);
        assert_eq!(
            r.iter().map(|(at, e, _)| (*at, *e)).collect::<Vec<_>>(),
            [(0, false), (8, true)],
            "one record per write, at the offset where its lines begin"
        );
        assert!(
            r.iter()
                .all(|(_, _, us)| *us >= before && *us < before + 60_000_000)
        );
        // Past 20 bytes: the log and its index move to `.1` together.
        out.push(b"three three three\n", &mut log).unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.path().join("svc.log.1")).unwrap(),
            "one\ntwo\noops\n"
        );
        assert_eq!(records(&dir.path().join("svc.log.1")).len(), 2);
        assert_eq!(
            records(&path)
                .iter()
                .map(|(at, e, _)| (*at, *e))
                .collect::<Vec<_>>(),
            [(0, false)]
        );
    }

    #[test]
    fn keep_0_never_rotates() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("svc.log");
        let mut log = LogWriter::open(&path, 10, 0).unwrap();
        for line in ["aaaaaaaa\n", "bbbbbbbb\n", "cccccccc\n"] {
            log.write_lines(line.as_bytes(), Stream::Out).unwrap();
        }
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text, "aaaaaaaa\nbbbbbbbb\ncccccccc\n");
        assert!(!dir.path().join("svc.log.1").exists());
    }
}
