//! Reading one log forward with each line's capture time: first the lines
//! a window asks for, from the files it was rotated to (and, for a job's
//! step, from its earlier attempts' logs), then whatever its live file
//! gets, across rotation.
//!
//! Every file is read through a descriptor held open with its index, so a
//! rotation while it is read moves nothing under the reader: a file the
//! log was rotated away from is read to its end (it is complete: the shim
//! writes only to the new one), then any file rotated between it and the
//! new one, then the new one. Nothing is read twice or skipped, unless a
//! file was rotated out past `keep` before it could be read.

use crate::log_lines::{
    Line, Record, Window, lines_in, numbered, records_at_end, records_of, start_of_last,
};
use harness_shim::log::index_of;
use std::collections::VecDeque;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// How much one read takes.
const CHUNK: u64 = 1 << 20;

/// The longest piece of one line a read passes on.
const LONGEST: u64 = 4 << 20;

/// A log being read.
pub struct Cursor {
    /// The live file's path.
    path: PathBuf,
    /// The files still to read, oldest first; the last is the live one
    /// once it exists.
    files: VecDeque<Held>,
    /// While set, the live file is read only up to this length, and a
    /// rotation is not looked for: the window of an answer that does not
    /// follow ends where the log ended when it was asked for.
    limit: Option<(u64, u64)>,
}

/// A log file held open with its index, and how far both were read.
struct Held {
    log: File,
    /// Its index; none yet if it could not be opened as its own.
    index: Option<File>,
    inode: u64,
    offset: u64,
    idx_pos: u64,
    /// Records read for lines not read yet, in offset order.
    pending: VecDeque<Record>,
    /// The record in force at `offset`.
    current: Record,
}

impl Held {
    /// Opens log `path` and its index as a pair, both from the start.
    fn open(path: &Path) -> Option<Held> {
        let log = File::open(path).ok()?;
        let inode = log.metadata().ok()?.ino();
        Some(Held {
            index: own_index(path, inode),
            log,
            inode,
            offset: 0,
            idx_pos: 0,
            pending: VecDeque::new(),
            current: Record::default(),
        })
    }

    /// The next whole lines (about 1 MiB of them), not past `limit`.
    fn read(&mut self, path: &Path, limit: Option<u64>) -> Vec<Line> {
        if limit.is_some_and(|l| self.offset >= l) {
            return Vec::new();
        }
        let len = self.log.metadata().map(|m| m.len()).unwrap_or(0);
        if len < self.offset {
            // Cut shorter (`> app.log`): read again from its start.
            (self.offset, self.idx_pos) = (0, 0);
            self.pending.clear();
            self.current = Record::default();
        }
        let Some(mut buf) = whole_lines_at(&mut self.log, self.offset) else {
            return Vec::new();
        };
        if let Some(limit) = limit
            && self.offset + buf.len() as u64 > limit
        {
            // The lines begun before the limit, the last one whole.
            let before = (limit - self.offset) as usize;
            let cut = buf[..before]
                .iter()
                .rposition(|&b| b == b'\n')
                .or_else(|| buf.iter().position(|&b| b == b'\n'));
            buf.truncate(cut.map_or(buf.len(), |i| i + 1));
        }
        // The records of the lines just read were written before them:
        // read now, none is missing.
        if self.index.is_none() {
            self.index = [path.to_path_buf(), numbered(path, 1)]
                .iter()
                .find_map(|p| own_index(p, self.inode));
        }
        if let Some(index) = &mut self.index {
            let fresh = records_of(index, self.idx_pos);
            self.idx_pos += fresh.len() as u64 * 16;
            self.pending.extend(fresh);
            // A daemon's mark and the shim's write racing may land their
            // records out of order: keep them sorted by offset.
            self.pending.make_contiguous().sort_by_key(|r| r.at);
        }
        let end = buf.len();
        // A piece of a line too long for one read ends as a line here.
        if buf.last() != Some(&b'\n') {
            buf.push(b'\n');
        }
        let lines = lines_in(&buf, self.offset, &mut self.pending, &mut self.current);
        self.offset += end as u64;
        lines
    }
}

/// The index of log `path`, if `path` is still the file with `inode` once
/// the index is open: the shim moves a log's index away before the log
/// itself at a rotation, so an index opened while its log is still in
/// place is that log's.
fn own_index(path: &Path, inode: u64) -> Option<File> {
    let index = File::open(index_of(path)).ok()?;
    std::fs::metadata(path)
        .is_ok_and(|m| m.ino() == inode)
        .then_some(index)
}

impl Cursor {
    /// The lines `window` asks for of the logs `bases` (one log's files in
    /// the order they were written: a service's log, or a step's
    /// attempts' logs oldest first), each with the files it was rotated
    /// to (`PATH.1`, `PATH.2`, …); the last base is the live one. Only the
    /// files the window reaches into are kept, and with `tail`, only their
    /// ends are read. The window ends where the live file ended at the
    /// open, until [`Cursor::follow`].
    pub fn open(bases: &[PathBuf], window: Window) -> Cursor {
        let Some(live) = bases.last() else {
            return Cursor::from_start(Path::new(""));
        };
        // The live file first: a rotation while the others are opened
        // shows as a new file at its path, and the opening starts over.
        let mut tries = 0;
        let mut files = loop {
            tries += 1;
            let held = Held::open(live);
            let mut files: Vec<Held> = Vec::new();
            for base in bases {
                let rotated: Vec<PathBuf> = (1..)
                    .map(|k| numbered(base, k))
                    .take_while(|p| p.exists())
                    .collect();
                files.extend(rotated.iter().rev().filter_map(|p| Held::open(p)));
                if base != live {
                    files.extend(Held::open(base));
                }
            }
            let inode = held.as_ref().map(|h| h.inode);
            let now = std::fs::metadata(live).ok().map(|m| m.ino());
            // A log rotating on every try (a flood into small files): take
            // what the last try found.
            if inode.is_none() || inode == now || tries == 5 {
                files.extend(held);
                break files;
            }
        };
        // The live file's length now; (0, 0), nothing of it, if there is
        // none yet.
        let limit = files
            .last()
            .filter(|h| std::fs::metadata(live).is_ok_and(|m| m.ino() == h.inode))
            .map_or((0, 0), |h| {
                (h.inode, h.log.metadata().map(|m| m.len()).unwrap_or(0))
            });
        // Where the window begins in each file, newest first, until it is
        // full.
        let mut want = window.tail;
        let mut first = 0;
        for (k, held) in files.iter_mut().enumerate().rev() {
            first = k;
            let len = match limit {
                (inode, len) if inode == held.inode => len,
                _ => held.log.metadata().map(|m| m.len()).unwrap_or(0),
            };
            let mut start = 0;
            let mut records = Vec::new();
            if let Some(since) = window.since_us {
                records = held
                    .index
                    .as_mut()
                    .map(|i| records_of(i, 0))
                    .unwrap_or_default();
                held.idx_pos = records.len() as u64 * 16;
                records.sort_by_key(|r| r.at);
                start = records.iter().find(|r| r.us >= since).map_or(len, |r| r.at);
            }
            if let Some(n) = want {
                let (from, found) = start_of_last(&mut held.log, len, n);
                start = start.max(from);
                want = Some(n - found.min(n));
            }
            if window.since_us.is_none()
                && let Some(index) = held.index.as_mut()
            {
                // Only the records from the one in force at the start on.
                (records, held.idx_pos) = records_at_end(index, start);
                records.sort_by_key(|r| r.at);
            }
            held.offset = start;
            held.pending = records.into();
            // Read from its start: the window may go on into the file
            // before, unless the tail is already full.
            if start > 0 || want == Some(0) {
                break;
            }
        }
        files.drain(..first);
        Cursor {
            path: live.clone(),
            files: files.into(),
            limit: Some(limit),
        }
    }

    /// What log `path` gets from now on, across rotation: the output of a
    /// run about to begin.
    pub fn at_end(path: &Path) -> Cursor {
        let mut c = Cursor::open(
            &[path.to_path_buf()],
            Window {
                tail: Some(0),
                since_us: None,
            },
        );
        c.follow();
        c
    }

    /// Every line of log `path` from the start of the file it will be: a
    /// log that does not exist yet.
    pub fn from_start(path: &Path) -> Cursor {
        Cursor {
            path: path.to_path_buf(),
            files: VecDeque::new(),
            limit: None,
        }
    }

    /// Goes on past the window: whatever the log gets from now on.
    pub fn follow(&mut self) {
        self.limit = None;
    }

    /// The next lines (about 1 MiB of them); empty when there is nothing
    /// more for now (or, before [`Cursor::follow`], past the window).
    pub fn read_more(&mut self) -> Vec<Line> {
        loop {
            if let Some(held) = self.files.front_mut() {
                let limit = self
                    .limit
                    .and_then(|(inode, len)| (inode == held.inode).then_some(len));
                let lines = held.read(&self.path, limit);
                if !lines.is_empty() {
                    return lines;
                }
                if self.files.len() > 1 {
                    // A file the log has moved on from: read to its end.
                    self.files.pop_front();
                    continue;
                }
            }
            if self.limit.is_some() || !self.moved_on() {
                return Vec::new();
            }
        }
    }

    /// Whether the live path is a file other than the last one held (the
    /// log was rotated, or it began): if so, the files rotated in between
    /// and the new one are queued after it.
    fn moved_on(&mut self) -> bool {
        let Ok(now) = std::fs::metadata(&self.path) else {
            return false;
        };
        let last = self.files.back().map(|h| h.inode);
        if last == Some(now.ino()) {
            return false;
        }
        // Files rotated after the last one held and before the new one:
        // those at `.1`, `.2`, … down to the one held (or, if that one was
        // rotated out already, every one there is).
        let between: Vec<PathBuf> = match last {
            None => Vec::new(),
            Some(inode) => (1..)
                .map(|k| numbered(&self.path, k))
                .take_while(|p| std::fs::metadata(p).is_ok_and(|m| m.ino() != inode))
                .collect(),
        };
        let before = self.files.len();
        self.files
            .extend(between.iter().rev().filter_map(|p| Held::open(p)));
        self.files.extend(Held::open(&self.path));
        self.files.len() > before
    }
}

/// The whole lines of `f` from `offset` on, about 1 MiB of them, or
/// `None` if there are none yet (a line still being written waits). The
/// shim writes a line longer than 1 MiB in pieces of at most 1 MiB and one
/// read of its pipe (64 KiB), each ending in a newline: such a piece is
/// read whole. A line longer still comes in pieces of [`LONGEST`]: a file
/// another writer made, whose reader would otherwise wait for the line's
/// end forever.
fn whole_lines_at(f: &mut std::fs::File, offset: u64) -> Option<Vec<u8>> {
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
    use harness_shim::log::{LineBuffer, LogWriter, Stream, append_line};

    fn texts(lines: &[Line]) -> Vec<String> {
        lines.iter().map(|l| l.text().into_owned()).collect()
    }

    /// Everything a cursor gives until it has nothing more for now.
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

    fn now_us() -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_micros() as u64
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
        let got: Vec<(String, bool)> = lines
            .iter()
            .map(|l| (l.text().into_owned(), l.stderr))
            .collect();
        let want = [
            ("one", false),
            ("two", false),
            ("oops", true),
            ("three three three", false),
            ("[harness] mark", false),
            ("after", true),
        ]
        .map(|(t, e)| (t.to_string(), e));
        assert_eq!(got, want);
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
            times.push(now_us());
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
        assert_eq!(tail(3), "line 7,line 8,line 9");
        assert_eq!(tail(4), "line 6,line 7,line 8,line 9");
        assert_eq!(tail(100), all);
        // A tail's lines carry the same times and streams as read whole.
        let (whole, _) = read(&path, Window::default());
        let (end, _) = read(
            &path,
            Window {
                tail: Some(3),
                since_us: None,
            },
        );
        assert_eq!(end, whole[whole.len() - 3..]);
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
    fn a_window_ends_where_the_log_ended_and_following_goes_on_across_rotations() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("api.log");
        let (lines, mut c) = read(&path, Window::default());
        assert!(lines.is_empty(), "no log yet");
        c.follow();
        assert!(c.read_more().is_empty());
        let mut log = LogWriter::open(&path, 16, 3).unwrap();
        let (mut out, mut err) = (LineBuffer::of(Stream::Out), LineBuffer::of(Stream::Err));
        out.push(b"first\n", &mut log).unwrap();
        assert_eq!(texts(&c.read_more()), ["first"]);
        err.push(b"half", &mut log).unwrap();
        assert!(c.read_more().is_empty(), "half a line waits");
        // Rotated twice before the next read: the rest of the file held,
        // the one between, then the new one, nothing twice.
        out.push(b"second\n", &mut log).unwrap();
        err.push(b" line\n", &mut log).unwrap();
        out.push(b"third line\n", &mut log).unwrap();
        out.push(b"fourth\n", &mut log).unwrap();
        assert!(dir.path().join("api.log.2").exists());
        let more = drain(&mut c);
        assert_eq!(
            texts(&more),
            ["second", "half line", "third line", "fourth"]
        );
        assert_eq!(
            more.iter().map(|l| l.stderr).collect::<Vec<_>>(),
            [false, true, false, false]
        );
        assert!(more.iter().all(|l| l.ts_us > 0));
        // A window that does not follow stops where the log ended.
        let (_, mut c) = read(&path, Window::default());
        out.push(b"later\n", &mut log).unwrap();
        assert!(c.read_more().is_empty(), "past the window");
        c.follow();
        assert_eq!(texts(&c.read_more()), ["later"]);
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
    fn a_steps_attempts_read_as_one_log() {
        let dir = tempfile::tempdir().unwrap();
        let attempt = |run: u32, lines: &[&str]| {
            let path = dir.path().join(format!("job+step@{run}.log"));
            let mut log = LogWriter::open(&path, 12, 3).unwrap();
            let mut out = LineBuffer::of(Stream::Out);
            for l in lines {
                out.push(format!("{l}\n").as_bytes(), &mut log).unwrap();
            }
            path
        };
        let bases = [
            attempt(1, &["a1", "a2", "a3", "a4", "a5"]),
            attempt(2, &["b1", "b2", "b3"]),
        ];
        // Across both attempts and their rotated files: the last four.
        let tail = Window {
            tail: Some(4),
            since_us: None,
        };
        assert_eq!(
            texts(&drain(&mut Cursor::open(&bases, tail))),
            ["a5", "b1", "b2", "b3"]
        );
        assert_eq!(
            texts(&drain(&mut Cursor::open(&bases, Window::default()))),
            ["a1", "a2", "a3", "a4", "a5", "b1", "b2", "b3"]
        );
    }

    #[test]
    fn a_shim_piece_of_a_long_line_reads_whole_and_a_longer_line_in_pieces() {
        let dir = tempfile::tempdir().unwrap();
        // The shim's pieces (up to 1 MiB and a read of its pipe) come whole.
        let path = dir.path().join("piece.log");
        let mut piece = vec![b'x'; CHUNK as usize + 1000];
        piece.extend_from_slice(b"\nnext\n");
        std::fs::write(&path, &piece).unwrap();
        let sizes = |path: &Path| -> Vec<usize> {
            let (lines, _) = read(path, Window::default());
            lines.iter().map(|l| l.bytes.len()).collect()
        };
        assert_eq!(sizes(&path), [CHUNK as usize + 1000, 4]);
        // Another writer's line longer than 4 MiB: in pieces, not waited for.
        let path = dir.path().join("big.log");
        let mut long = vec![b'x'; LONGEST as usize + 10];
        long.extend_from_slice(b"\nready\n");
        std::fs::write(&path, &long).unwrap();
        assert_eq!(sizes(&path), [LONGEST as usize, 10, 5]);
    }
}
