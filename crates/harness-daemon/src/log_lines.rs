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

/// The lines of one log, read forward: first the window's, from the files
/// it was rotated to (and, for a job's step, from its earlier attempts'
/// logs), then whatever its live file gets. Rotated files are held open,
/// so a rotation while they are read moves nothing under the reader; at
/// most 1 MiB is read at a time, however long the window.
pub struct Cursor {
    /// The window's part of files that no longer grow, oldest first.
    older: VecDeque<Stretch>,
    /// The file written to now.
    live: LineFollower,
}

/// Where a window begins in a file that no longer grows, and its records.
struct Stretch {
    file: std::fs::File,
    offset: u64,
    pending: VecDeque<Record>,
    current: Record,
}

impl Cursor {
    /// The lines `window` asks for of the logs `bases` (one log's files in
    /// the order they were written: a service's log, or a step's
    /// attempts' logs oldest first), each with the files it was rotated
    /// to (`PATH.1`, `PATH.2`, …); the last base is the live one. Only the
    /// files the window reaches into are opened, and with `tail`, only
    /// their ends are read.
    pub fn open(bases: &[PathBuf], window: Window) -> Cursor {
        let Some(live_path) = bases.last() else {
            return Cursor::from_start(Path::new(""));
        };
        let mut files = Vec::new();
        for base in bases {
            let rotated: Vec<PathBuf> = (1..)
                .map(|k| numbered(base, k))
                .take_while(|p| p.exists())
                .collect();
            files.extend(rotated.into_iter().rev());
            files.push(base.clone());
        }
        let mut cursor = Cursor::from_start(live_path);
        let mut want = window.tail;
        // Newest first, until the window is full.
        for path in files.iter().rev() {
            let Ok(mut f) = std::fs::File::open(path) else {
                continue;
            };
            let Ok(meta) = f.metadata() else { continue };
            let len = meta.len();
            // Its length is taken before its index is read: a record is
            // written before its lines, so every line up to that length
            // has its record (later ones are the follower's).
            let mut records = records_from(&index_of(path), 0);
            let idx_pos = records.len() as u64 * 16;
            records.sort_by_key(|r| r.at);
            let mut start = 0;
            if let Some(since) = window.since_us {
                start = records.iter().find(|r| r.us >= since).map_or(len, |r| r.at);
            }
            if let Some(n) = want {
                let (from, found) = start_of_last(&mut f, len, n);
                start = start.max(from);
                want = Some(n - found.min(n));
            }
            let pending: VecDeque<Record> = records.into();
            if path == live_path {
                cursor.live = LineFollower {
                    path: path.clone(),
                    offset: start,
                    inode: meta.ino(),
                    idx_pos,
                    pending,
                    current: Record::default(),
                };
            } else {
                cursor.older.push_front(Stretch {
                    file: f,
                    offset: start,
                    pending,
                    current: Record::default(),
                });
            }
            // Read from its start: the window may go on into the file
            // before, unless the tail is already full.
            if start > 0 || want == Some(0) {
                break;
            }
        }
        cursor
    }

    /// Every line of log `path` from the start of the file it is or will
    /// be: a log that began after the reader did.
    pub fn from_start(path: &Path) -> Cursor {
        Cursor {
            older: VecDeque::new(),
            live: LineFollower::from_start(path),
        }
    }

    /// The next lines (at most 1 MiB of them); empty when the live file
    /// has nothing more for now.
    pub fn read_more(&mut self) -> Vec<Line> {
        while let Some(s) = self.older.front_mut() {
            let lines = next_lines(
                &mut s.file,
                &mut s.offset,
                &mut s.pending,
                &mut s.current,
                |_| {},
            );
            if !lines.is_empty() {
                return lines;
            }
            self.older.pop_front();
        }
        self.live.read_more()
    }
}

/// Several logs' lines merged in the order they were captured, read a
/// piece at a time: the next line is always the earliest next line of any
/// log (on a tie, the first log's), so a log's own lines never change
/// order, even where its times go back (a clock set back).
pub struct Merge {
    cursors: Vec<Cursor>,
    /// Lines read and not yet merged, per log.
    ahead: Vec<VecDeque<Line>>,
    /// Whether a log has reached the end of its live file.
    at_end: Vec<bool>,
}

impl Merge {
    pub fn new(cursors: Vec<Cursor>) -> Merge {
        let n = cursors.len();
        let mut m = Merge {
            cursors,
            ahead: vec![VecDeque::new(); n],
            at_end: vec![false; n],
        };
        (0..n).for_each(|k| m.refill(k));
        m
    }

    /// The next (up to) `max` lines, each with the index of its log;
    /// empty once every log is at the end of its live file.
    pub fn next(&mut self, max: usize) -> Vec<(usize, Line)> {
        let mut out = Vec::new();
        while out.len() < max {
            let Some(k) = (0..self.ahead.len())
                .filter(|&k| !self.ahead[k].is_empty())
                .min_by_key(|&k| (self.ahead[k][0].ts_us, k))
            else {
                break;
            };
            if let Some(line) = self.ahead[k].pop_front() {
                out.push((k, line));
            }
            self.refill(k);
        }
        out
    }

    /// The cursors, each after the last line merged.
    pub fn into_cursors(self) -> Vec<Cursor> {
        self.cursors
    }

    fn refill(&mut self, k: usize) {
        if self.ahead[k].is_empty() && !self.at_end[k] {
            let more = self.cursors[k].read_more();
            self.at_end[k] = more.is_empty();
            self.ahead[k].extend(more);
        }
    }
}

/// The next whole lines of `f` from `offset` (at most 1 MiB), each with
/// the last of `pending` records at or before its start; `more_records`
/// adds the records written since, once the lines are read (a record is
/// written before its lines, so none is missing).
fn next_lines(
    f: &mut std::fs::File,
    offset: &mut u64,
    pending: &mut VecDeque<Record>,
    current: &mut Record,
    more_records: impl FnOnce(&mut VecDeque<Record>),
) -> Vec<Line> {
    let Some(mut buf) = crate::log_follow::whole_lines_at(f, *offset) else {
        return Vec::new();
    };
    more_records(pending);
    let end = buf.len();
    // A piece of a line too long for one read ends as a line here.
    if buf.last() != Some(&b'\n') {
        buf.push(b'\n');
    }
    let lines = lines_in(&buf, *offset, pending, current);
    *offset += end as u64;
    lines
}

/// Where the last `n` lines of the `len` bytes of `f` begin (an unfinished
/// last line is not counted), read backwards from the end, and how many
/// whole lines there are from there (fewer than `n` when the file has
/// fewer).
fn start_of_last(f: &mut std::fs::File, len: u64, n: usize) -> (u64, usize) {
    if n == 0 {
        return (len, 0);
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
            return (0, seen);
        }
        for (i, &b) in piece.iter().enumerate().rev() {
            if b == b'\n' {
                seen += 1;
                if seen == n + 1 {
                    return (from + i as u64 + 1, n);
                }
            }
        }
        pos = from;
    }
    (0, seen)
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
        if meta.ino() == self.inode && meta.len() == self.offset {
            return Vec::new(); // nothing new: the common case of a poll
        }
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
        let (index, idx_pos) = (index_of(path), &mut self.idx_pos);
        Some(next_lines(
            &mut f,
            &mut self.offset,
            &mut self.pending,
            &mut self.current,
            |pending| {
                let fresh = records_from(&index, *idx_pos);
                *idx_pos += fresh.len() as u64 * 16;
                pending.extend(fresh);
                // A daemon's mark and the shim's write racing may land
                // their records out of order: keep them sorted by offset.
                pending.make_contiguous().sort_by_key(|r| r.at);
            },
        ))
    }
}

/// The lines of several logs in the order they were captured, each with
/// the index of its log: a merge that takes, each time, the earliest next
/// line of any log (on a tie, the first log's). A log's own lines never
/// change order, even where its times go back (a clock set back).
pub fn interleave(logs: Vec<Vec<Line>>) -> Vec<(usize, Line)> {
    use std::cmp::Reverse;
    let total = logs.iter().map(Vec::len).sum();
    let mut out = Vec::with_capacity(total);
    let mut logs: Vec<std::vec::IntoIter<Line>> = logs.into_iter().map(Vec::into_iter).collect();
    let mut next: std::collections::BinaryHeap<Reverse<(u64, usize)>> = Default::default();
    let mut heads: Vec<Option<Line>> = Vec::with_capacity(logs.len());
    for (k, log) in logs.iter_mut().enumerate() {
        let head = log.next();
        if let Some(line) = &head {
            next.push(Reverse((line.ts_us, k)));
        }
        heads.push(head);
    }
    while let Some(Reverse((_, k))) = next.pop() {
        let Some(line) = heads[k].take() else {
            continue;
        };
        out.push((k, line));
        heads[k] = logs[k].next();
        if let Some(line) = &heads[k] {
            next.push(Reverse((line.ts_us, k)));
        }
    }
    out
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

    /// Everything a cursor on `paths` gives until it is at the live end.
    fn drain(c: &mut Cursor) -> Vec<Line> {
        let mut all = Vec::new();
        loop {
            let more = c.read_more();
            if more.is_empty() {
                return all;
            }
            all.extend(more);
        }
    }

    /// The window's lines of log `path`, and the cursor after them.
    fn read(path: &Path, window: Window) -> (Vec<Line>, Cursor) {
        let mut c = Cursor::open(&[path.to_path_buf()], window);
        (drain(&mut c), c)
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
    fn a_steps_attempts_read_as_one_log_and_a_merge_reads_a_piece_at_a_time() {
        let dir = tempfile::tempdir().unwrap();
        let attempt = |run: u32, lines: &[&str]| {
            let path = dir.path().join(format!("job+step@{run}.log"));
            let mut log = LogWriter::open(&path, 12, 3).unwrap();
            let mut out = LineBuffer::of(Stream::Out);
            for l in lines {
                out.push(format!("{l}\n").as_bytes(), &mut log).unwrap();
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            path
        };
        let first = attempt(1, &["a1", "a2", "a3", "a4", "a5"]);
        let service = dir.path().join("svc.log");
        {
            let mut log = LogWriter::open(&service, 1 << 20, 3).unwrap();
            LineBuffer::of(Stream::Err).push(b"s1\n", &mut log).unwrap();
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
        let second = attempt(2, &["b1", "b2", "b3"]);
        let bases = [first.clone(), second.clone()];
        // Across both attempts and their rotated files: the last four.
        let tail = Window {
            tail: Some(4),
            since_us: None,
        };
        assert_eq!(
            texts(&drain(&mut Cursor::open(&bases, tail))),
            ["a5", "b1", "b2", "b3"]
        );
        let all = Window::default();
        assert_eq!(
            texts(&drain(&mut Cursor::open(&bases, all))),
            ["a1", "a2", "a3", "a4", "a5", "b1", "b2", "b3"]
        );
        // Merged with the service's log, three lines at a time.
        let mut merge = Merge::new(vec![
            Cursor::open(&bases, all),
            Cursor::open(std::slice::from_ref(&service), all),
        ]);
        let mut pieces = Vec::new();
        loop {
            let piece = merge.next(3);
            if piece.is_empty() {
                break;
            }
            pieces.push(
                piece
                    .iter()
                    .map(|(k, l)| format!("{k}:{}", l.text))
                    .collect::<Vec<_>>()
                    .join(" "),
            );
        }
        assert_eq!(
            pieces,
            ["0:a1 0:a2 0:a3", "0:a4 0:a5 1:s1", "0:b1 0:b2 0:b3"]
        );
        // Afterwards, each cursor goes on where the merge left it.
        let mut cursors = merge.into_cursors();
        let mut log = LogWriter::open(&second, 12, 3).unwrap();
        LineBuffer::of(Stream::Out).push(b"b4\n", &mut log).unwrap();
        assert_eq!(texts(&cursors[0].read_more()), ["b4"]);
        assert!(cursors[1].read_more().is_empty());
    }

    #[test]
    fn logs_interleave_by_capture_time_each_keeping_its_own_order() {
        let line = |ts_us, text: &str| Line {
            ts_us,
            stderr: false,
            text: text.into(),
        };
        let merged = interleave(vec![
            vec![line(10, "db 1"), line(30, "db 2"), line(30, "db 3")],
            vec![line(20, "api 1"), line(30, "api 2")],
            // A clock set back: its lines keep their order all the same.
            vec![line(25, "web 1"), line(5, "web 2")],
        ]);
        let got: Vec<(usize, &str)> = merged.iter().map(|(k, l)| (*k, l.text.as_str())).collect();
        assert_eq!(
            got,
            [
                (0, "db 1"),
                (1, "api 1"),
                (2, "web 1"),
                (2, "web 2"),
                (0, "db 2"),
                (0, "db 3"),
                (1, "api 2")
            ]
        );
    }
}
