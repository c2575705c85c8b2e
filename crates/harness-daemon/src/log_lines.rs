//! A log's lines with when each was captured and from which stream, read
//! from the log and the index the shim writes beside it (`LOG.idx`: see
//! `harness_shim::log`): the last ones or those since a time, across the
//! files it was rotated to; then whatever is appended, across rotation;
//! and the lines of several logs interleaved in the order they were
//! captured. What `harness logs` reads.

use harness_shim::log::{STDERR_BIT, index_of};
use std::collections::VecDeque;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// One line of a log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// When the shim captured it, µs since the Unix epoch; 0 when the log
    /// has no index for it (written by a harness before the index).
    pub ts_us: u64,
    /// Whether it came from stderr.
    pub stderr: bool,
    /// The line, without its newline.
    pub text: String,
}

/// Which lines of a log to read first.
#[derive(Debug, Clone, Copy, Default)]
pub struct Window {
    /// Only the last this many.
    pub tail: Option<usize>,
    /// Only those captured at or after this time (µs since the epoch); a
    /// line with no time is never "since" anything.
    pub since_us: Option<u64>,
}

/// An index record: where a write of lines begins, whether from stderr,
/// when it was captured.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Record {
    at: u64,
    stderr: bool,
    us: u64,
}

/// The lines of log `path` that `window` asks for, oldest first, from it
/// and the files it was rotated to (`PATH.1`, `PATH.2`, …), and a
/// follower placed after them. A rotated file is read only when the newer
/// ones do not hold the window; with `tail`, only the end of a file is
/// read.
pub fn read(path: &Path, window: Window) -> (Vec<Line>, LineFollower) {
    let mut follower = LineFollower::from_start(path);
    let mut got: Vec<Vec<Line>> = Vec::new();
    let mut count = 0;
    for k in 0.. {
        let file = if k == 0 {
            path.to_path_buf()
        } else {
            numbered(path, k)
        };
        let want = Window {
            tail: window.tail.map(|n| n - count),
            ..window
        };
        let Some(part) = read_one(&file, want) else {
            break;
        };
        if k == 0 {
            follower = part.follower;
        }
        count += part.lines.len();
        got.push(part.lines);
        if !part.older_may_count || window.tail.is_some_and(|n| count >= n) {
            break;
        }
    }
    (got.into_iter().rev().flatten().collect(), follower)
}

/// What [`read_one`] found in one file.
struct Part {
    lines: Vec<Line>,
    /// Where following the file goes on.
    follower: LineFollower,
    /// Whether lines of the file rotated before it can be in the window:
    /// this one was read from its start.
    older_may_count: bool,
}

/// The window's lines of one file; `None` if there is no such file.
fn read_one(path: &Path, window: Window) -> Option<Part> {
    let mut f = std::fs::File::open(path).ok()?;
    let meta = f.metadata().ok()?;
    let len = meta.len();
    // The log is read before its index: a record is written before its
    // lines, so every line read has its record.
    let mut records = records_from(&index_of(path), 0);
    let idx_pos = records.len() as u64 * 16;
    records.sort_by_key(|r| r.at);
    let mut start = 0;
    if let Some(since) = window.since_us {
        match records.iter().find(|r| r.us >= since) {
            Some(r) => start = r.at,
            None => start = len,
        }
    }
    if let Some(n) = window.tail {
        start = start.max(start_of_last(&mut f, len, n));
    }
    let mut bytes = Vec::new();
    f.seek(SeekFrom::Start(start)).ok()?;
    (&mut f)
        .take(len - start.min(len))
        .read_to_end(&mut bytes)
        .ok()?;
    bytes.truncate(bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1));
    let end = start + bytes.len() as u64;
    let mut pending: VecDeque<Record> = records.into();
    let mut current = Record::default();
    let mut lines = lines_in(&bytes, start, &mut pending, &mut current);
    if let Some(since) = window.since_us {
        lines.retain(|l| l.ts_us >= since);
    }
    if let Some(n) = window.tail {
        lines.drain(..lines.len().saturating_sub(n));
    }
    // Read from its start: the window may go on into the file before.
    let older_may_count = start == 0;
    Some(Part {
        lines,
        follower: LineFollower {
            path: path.to_path_buf(),
            offset: end,
            inode: meta.ino(),
            idx_pos,
            pending,
            current,
        },
        older_may_count,
    })
}

/// Where the last `n` lines of the `len` bytes of `f` begin (an unfinished
/// last line is not counted), read backwards from the end.
fn start_of_last(f: &mut std::fs::File, len: u64, n: usize) -> u64 {
    if n == 0 {
        return len;
    }
    const BACK: u64 = 64 * 1024;
    let mut buf = vec![0u8; BACK as usize];
    let mut pos = len;
    // Newlines seen from the end; the one ending the last whole line is
    // the first, and the (n+1)th ends the line before the window.
    let mut seen = 0;
    while pos > 0 {
        let from = pos.saturating_sub(BACK);
        let piece = &mut buf[..(pos - from) as usize];
        if f.seek(SeekFrom::Start(from)).is_err() || f.read_exact(piece).is_err() {
            return 0;
        }
        for (i, &b) in piece.iter().enumerate().rev() {
            if b == b'\n' {
                seen += 1;
                if seen == n + 1 {
                    return from + i as u64 + 1;
                }
            }
        }
        pos = from;
    }
    0
}

/// The lines of `bytes`, which begin at offset `base` of their log, each
/// with the last record at or before its start: `pending` holds the
/// records not yet passed, in offset order, and `current` the one in force.
fn lines_in(
    bytes: &[u8],
    base: u64,
    pending: &mut VecDeque<Record>,
    current: &mut Record,
) -> Vec<Line> {
    let mut out = Vec::new();
    let mut start = 0usize;
    for (i, &b) in bytes.iter().enumerate() {
        if b != b'\n' {
            continue;
        }
        let at = base + start as u64;
        while pending.front().is_some_and(|r| r.at <= at) {
            *current = pending.pop_front().unwrap_or_default();
        }
        out.push(Line {
            ts_us: current.us,
            stderr: current.stderr,
            text: String::from_utf8_lossy(&bytes[start..i]).into_owned(),
        });
        start = i + 1;
    }
    out
}

/// A position in a log and its index: the lines before it were read.
pub struct LineFollower {
    path: PathBuf,
    offset: u64,
    /// The file's inode; 0 while it does not exist.
    inode: u64,
    /// How many bytes of the index were read.
    idx_pos: u64,
    /// Records read for lines not read yet.
    pending: VecDeque<Record>,
    current: Record,
}

impl LineFollower {
    /// Follows `path` from the start of the file it is or will be.
    pub fn from_start(path: &Path) -> Self {
        LineFollower {
            path: path.to_path_buf(),
            offset: 0,
            inode: 0,
            idx_pos: 0,
            pending: VecDeque::new(),
            current: Record::default(),
        }
    }

    /// The whole lines written since the last read (up to 1 MiB of them),
    /// empty if there are none yet. When the log was rotated, the rest of
    /// the file it became (`PATH.1`) comes first, then the new file from
    /// its start; a file cut shorter is read again from its start.
    pub fn read_more(&mut self) -> Vec<Line> {
        let Ok(meta) = std::fs::metadata(&self.path) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        if meta.ino() != self.inode || meta.len() < self.offset {
            let rotated = numbered(&self.path, 1);
            if self.inode != 0 && std::fs::metadata(&rotated).is_ok_and(|m| m.ino() == self.inode) {
                // Finish the file as it was rotated: all of it is there.
                while let Some(more) = self.read_file(&rotated).filter(|l| !l.is_empty()) {
                    out.extend(more);
                }
            }
            *self = LineFollower::from_start(&self.path);
            self.inode = meta.ino();
        }
        let path = self.path.clone();
        out.extend(self.read_file(&path).unwrap_or_default());
        out
    }

    /// The next whole lines of `path` (the followed file, whatever its
    /// name now), with their records.
    fn read_file(&mut self, path: &Path) -> Option<Vec<Line>> {
        let mut f = std::fs::File::open(path).ok()?;
        let len = f.metadata().ok()?.len();
        if len <= self.offset {
            return Some(Vec::new());
        }
        let Some(mut buf) = crate::log_follow::whole_lines_at(&mut f, self.offset) else {
            return Some(Vec::new());
        };
        let end = buf.len();
        // A piece of a line too long for one read ends as a line here.
        if buf.last() != Some(&b'\n') {
            buf.push(b'\n');
        }
        let fresh = records_from(&index_of(path), self.idx_pos);
        self.idx_pos += fresh.len() as u64 * 16;
        self.pending.extend(fresh);
        // A daemon's mark and the shim's write racing may land their
        // records out of order: keep them sorted by offset.
        self.pending.make_contiguous().sort_by_key(|r| r.at);
        let lines = lines_in(&buf, self.offset, &mut self.pending, &mut self.current);
        self.offset += end as u64;
        Some(lines)
    }
}

/// The lines of several logs, by name, in the order they were captured; a
/// log's own lines keep their order (a stable merge by time).
pub fn interleave<N: Clone>(logs: Vec<(N, Vec<Line>)>) -> Vec<(N, Line)> {
    let mut all: Vec<(u64, usize, usize, N, Line)> = Vec::new();
    for (k, (name, lines)) in logs.into_iter().enumerate() {
        for (n, line) in lines.into_iter().enumerate() {
            all.push((line.ts_us, k, n, name.clone(), line));
        }
    }
    // A log's lines are in capture order already; time first, then the
    // log's place and the line's, so equal times keep a stable order.
    all.sort_by_key(|(ts, k, n, _, _)| (*ts, *k, *n));
    all.into_iter()
        .map(|(_, _, _, name, line)| (name, line))
        .collect()
}

/// `PATH.k`: the file log `path` was rotated to k rotations ago.
fn numbered(path: &Path, k: usize) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(format!(".{k}"));
    PathBuf::from(p)
}

/// The index's records from byte `pos` on, in the order written; a torn
/// last record is left for the next read.
fn records_from(path: &Path, pos: u64) -> Vec<Record> {
    let mut bytes = Vec::new();
    if let Ok(mut f) = std::fs::File::open(path)
        && f.seek(SeekFrom::Start(pos)).is_ok()
    {
        let _ = f.read_to_end(&mut bytes);
    }
    bytes
        .chunks_exact(16)
        .map(|r| {
            let at = u64::from_le_bytes(r[..8].try_into().unwrap_or_default());
            let us = u64::from_le_bytes(r[8..].try_into().unwrap_or_default());
            Record {
                at: at & !STDERR_BIT,
                stderr: at & STDERR_BIT != 0,
                us,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use harness_shim::log::{LineBuffer, LogWriter, Stream, append_line};

    fn texts(lines: &[Line]) -> Vec<&str> {
        lines.iter().map(|l| l.text.as_str()).collect()
    }

    #[test]
    fn lines_carry_the_time_and_stream_their_write_was_indexed_with_across_rotation() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("api.log");
        let mut log = LogWriter::open(&path, 24, 2).unwrap();
        let (mut out, mut err) = (LineBuffer::of(Stream::Out), LineBuffer::of(Stream::Err));
        out.push(b"one\ntwo\n", &mut log).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(2));
        err.push(b"oops\n", &mut log).unwrap();
        out.push(b"three three three\n", &mut log).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(2));
        // The daemon's marks carry a record of their own.
        append_line(&path, b"[harness] mark\n").unwrap();
        err.push(b"after\n", &mut log).unwrap();
        let (lines, _) = read(&path, Window::default());
        let got: Vec<(&str, bool)> = lines.iter().map(|l| (l.text.as_str(), l.stderr)).collect();
        assert_eq!(
            got,
            [
                ("one", false),
                ("two", false),
                ("oops", true),
                ("three three three", false),
                ("[harness] mark", false),
                ("after", true),
            ]
        );
        assert_eq!(lines[0].ts_us, lines[1].ts_us, "one write, one time");
        assert!(lines[2].ts_us > lines[1].ts_us);
        assert!(lines[4].ts_us > lines[3].ts_us, "a mark has its own time");
    }

    #[test]
    fn tail_and_since_read_only_what_they_ask_for_across_rotated_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("api.log");
        let mut log = LogWriter::open(&path, 20, 3).unwrap();
        let mut out = LineBuffer::of(Stream::Out);
        let mut times = Vec::new();
        for n in 0..10 {
            times.push(
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_micros() as u64,
            );
            out.push(format!("line {n}\n").as_bytes(), &mut log)
                .unwrap();
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        assert!(dir.path().join("api.log.3").exists(), "rotated three times");
        let all = texts(&read(&path, Window::default()).0).join(",");
        // Two lines a file, four files: the first two lines rotated out.
        assert_eq!(
            all,
            "line 2,line 3,line 4,line 5,line 6,line 7,line 8,line 9"
        );
        let tail = |n| {
            let w = Window {
                tail: Some(n),
                since_us: None,
            };
            texts(&read(&path, w).0).join(",")
        };
        assert_eq!(tail(0), "");
        assert_eq!(tail(1), "line 9");
        assert_eq!(tail(4), "line 6,line 7,line 8,line 9");
        assert_eq!(tail(100), all);
        let since = |n: usize, tail| {
            let w = Window {
                tail,
                since_us: Some(times[n]),
            };
            texts(&read(&path, w).0).join(",")
        };
        assert_eq!(since(4, None), "line 4,line 5,line 6,line 7,line 8,line 9");
        assert_eq!(since(8, None), "line 8,line 9");
        assert_eq!(since(4, Some(2)), "line 8,line 9");
        assert_eq!(since(0, Some(100)), all);
    }

    #[test]
    fn a_follower_goes_on_after_the_window_and_across_a_rotation_misses_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("api.log");
        let (lines, mut f) = read(&path, Window::default());
        assert!(lines.is_empty(), "no log yet");
        assert!(f.read_more().is_empty());
        let mut log = LogWriter::open(&path, 16, 2).unwrap();
        let (mut out, mut err) = (LineBuffer::of(Stream::Out), LineBuffer::of(Stream::Err));
        out.push(b"first\n", &mut log).unwrap();
        assert_eq!(texts(&f.read_more()), ["first"]);
        err.push(b"half", &mut log).unwrap();
        assert!(f.read_more().is_empty(), "half a line waits");
        // "half line" is too long for the file: the log rotates, and the
        // follower reads the rest of the old file before the new one.
        out.push(b"second\n", &mut log).unwrap();
        err.push(b" line\n", &mut log).unwrap();
        out.push(b"third\n", &mut log).unwrap();
        let more = f.read_more();
        assert_eq!(texts(&more), ["second", "half line", "third"]);
        assert_eq!(
            more.iter().map(|l| l.stderr).collect::<Vec<_>>(),
            [false, true, false]
        );
        assert!(more.iter().all(|l| l.ts_us > 0));
    }

    #[test]
    fn a_log_without_an_index_reads_with_no_times_and_nothing_is_since_a_time() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.log");
        std::fs::write(&path, "a\nb\n").unwrap();
        let (lines, _) = read(&path, Window::default());
        assert_eq!(texts(&lines), ["a", "b"]);
        assert!(lines.iter().all(|l| l.ts_us == 0 && !l.stderr));
        let since = Window {
            tail: None,
            since_us: Some(1),
        };
        assert!(read(&path, since).0.is_empty());
    }

    #[test]
    fn logs_interleave_by_capture_time_each_keeping_its_own_order() {
        let line = |ts_us, text: &str| Line {
            ts_us,
            stderr: false,
            text: text.into(),
        };
        let merged = interleave(vec![
            (
                "db",
                vec![line(10, "db 1"), line(30, "db 2"), line(30, "db 3")],
            ),
            ("api", vec![line(20, "api 1"), line(30, "api 2")]),
        ]);
        let got: Vec<&str> = merged.iter().map(|(_, l)| l.text.as_str()).collect();
        assert_eq!(got, ["db 1", "api 1", "db 2", "db 3", "api 2"]);
    }
}
