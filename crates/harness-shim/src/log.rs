//! Whole lines from two pipes into one size-rotated log file.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

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
    size: u64,
    max_bytes: u64,
    keep: u32,
}

impl LogWriter {
    /// Opens (appending to) `path`.
    pub fn open(path: &Path, max_bytes: u64, keep: u32) -> io::Result<Self> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        let size = file.metadata()?.len();
        Ok(LogWriter {
            path: path.to_path_buf(),
            file,
            size,
            max_bytes: max_bytes.max(1),
            keep,
        })
    }

    /// Writes `bytes` (whole lines) in one write, rotating first if they
    /// would push the file past its limit.
    pub fn write_lines(&mut self, bytes: &[u8]) -> io::Result<()> {
        if bytes.is_empty() {
            return Ok(());
        }
        if self.keep > 0 && self.size > 0 && self.size + bytes.len() as u64 > self.max_bytes {
            self.rotate()?;
        }
        self.file.write_all(bytes)?;
        self.size += bytes.len() as u64;
        Ok(())
    }

    fn rotate(&mut self) -> io::Result<()> {
        let numbered = |n: u32| {
            let mut p = self.path.clone().into_os_string();
            p.push(format!(".{n}"));
            PathBuf::from(p)
        };
        for n in (1..self.keep).rev() {
            let _ = std::fs::rename(numbered(n), numbered(n + 1));
        }
        std::fs::rename(&self.path, numbered(1))?;
        self.file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)?;
        self.size = 0;
        Ok(())
    }
}

/// Splits a stream into whole lines: bytes after the last newline wait for
/// the rest of their line.
#[derive(Default)]
pub struct LineBuffer {
    partial: Vec<u8>,
}

impl LineBuffer {
    /// Adds `chunk`; writes every completed line to `log`.
    pub fn push(&mut self, chunk: &[u8], log: &mut LogWriter) -> io::Result<()> {
        match chunk.iter().rposition(|&b| b == b'\n') {
            None => {
                self.partial.extend_from_slice(chunk);
                if self.partial.len() >= MAX_PARTIAL {
                    self.partial.extend_from_slice(SPLIT_MARK);
                    log.write_lines(&self.partial)?;
                    self.partial.clear();
                }
                Ok(())
            }
            Some(last) => {
                let (lines, rest) = chunk.split_at(last + 1);
                if self.partial.is_empty() {
                    log.write_lines(lines)?;
                } else {
                    self.partial.extend_from_slice(lines);
                    log.write_lines(&self.partial)?;
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
            log.write_lines(&self.partial)?;
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
        let (mut out, mut err) = (LineBuffer::default(), LineBuffer::default());
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
            log.write_lines(line.as_bytes()).unwrap();
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
        let (mut out, mut err) = (LineBuffer::default(), LineBuffer::default());
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

    #[test]
    fn keep_0_never_rotates() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("svc.log");
        let mut log = LogWriter::open(&path, 10, 0).unwrap();
        for line in ["aaaaaaaa\n", "bbbbbbbb\n", "cccccccc\n"] {
            log.write_lines(line.as_bytes()).unwrap();
        }
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text, "aaaaaaaa\nbbbbbbbb\ncccccccc\n");
        assert!(!dir.path().join("svc.log.1").exists());
    }
}
