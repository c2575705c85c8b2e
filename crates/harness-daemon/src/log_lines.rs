//! A log's lines with when each was captured and from which stream, as
//! the shim's index (`LOG.idx`: see `harness_shim::log`) says, and the
//! lines of several logs merged in the order they were captured: what
//! `harness logs` shows. Reading one log is `log_cursor.rs`'s.

use crate::log_cursor::Cursor;
use harness_shim::log::STDERR_BIT;
use std::borrow::Cow;
use std::collections::VecDeque;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// One line of a log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// When the shim captured it, µs since the Unix epoch; 0 when the log
    /// has no index for it (written by a harness before the index).
    pub ts_us: u64,
    /// Whether it came from stderr.
    pub stderr: bool,
    /// The line as written, without its newline.
    pub bytes: Vec<u8>,
}

impl Line {
    /// The line as text (bytes that are not UTF-8 replaced).
    pub fn text(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.bytes)
    }
}

/// Which lines of a log to read first.
#[derive(Debug, Clone, Copy, Default)]
pub struct Window {
    /// Only the last this many.
    pub tail: Option<usize>,
    /// Only those from the first captured at or after this time (µs since
    /// the epoch); a line with no time is never "since" anything.
    pub since_us: Option<u64>,
}

/// An index record: where a write of lines begins, whether from stderr,
/// when it was captured.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Record {
    pub(crate) at: u64,
    pub(crate) stderr: bool,
    pub(crate) us: u64,
}

/// Something that gives a log's lines a piece at a time: a [`Cursor`].
pub trait Lines {
    /// The next lines; empty when there are none for now.
    fn read_more(&mut self) -> Vec<Line>;
}

impl Lines for Cursor {
    fn read_more(&mut self) -> Vec<Line> {
        Cursor::read_more(self)
    }
}

/// Several logs' lines merged in the order they were captured, read a
/// piece at a time: the next line is always the earliest next line of any
/// log that has one (on a tie, the first log's), so a log's own lines
/// never change order, even where its times go back (a clock set back).
pub struct Merge<L: Lines> {
    logs: Vec<L>,
    /// Lines read and not yet merged, per log.
    ahead: Vec<VecDeque<Line>>,
    /// Whether a log had nothing more when last asked.
    at_end: Vec<bool>,
}

impl<L: Lines> Merge<L> {
    pub fn new(logs: Vec<L>) -> Merge<L> {
        let mut m = Merge {
            logs: Vec::new(),
            ahead: Vec::new(),
            at_end: Vec::new(),
        };
        logs.into_iter().for_each(|l| m.push(l));
        m
    }

    /// Adds a log (a log that began since); its index is the next one.
    pub fn push(&mut self, log: L) {
        self.logs.push(log);
        self.ahead.push(VecDeque::new());
        self.at_end.push(false);
        self.refill(self.logs.len() - 1);
    }

    /// The next (up to) `max` lines, each with the index of its log;
    /// empty once no log has more for now.
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

    /// Asks every log again, for what it got since it had nothing more.
    pub fn resume(&mut self) {
        for k in 0..self.logs.len() {
            self.at_end[k] = false;
            self.refill(k);
        }
    }

    /// Each log, to change how it reads.
    pub fn logs_mut(&mut self) -> impl Iterator<Item = &mut L> {
        self.logs.iter_mut()
    }

    fn refill(&mut self, k: usize) {
        if self.ahead[k].is_empty() && !self.at_end[k] {
            let more = self.logs[k].read_more();
            self.at_end[k] = more.is_empty();
            self.ahead[k].extend(more);
        }
    }
}

/// Where the last `n` lines of the `len` bytes of `f` begin (an unfinished
/// last line is not counted), read backwards from the end, and how many
/// whole lines there are from there (fewer than `n` when the file has
/// fewer).
pub(crate) fn start_of_last(f: &mut std::fs::File, len: u64, n: usize) -> (u64, usize) {
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
pub(crate) fn lines_in(
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
            bytes: bytes[start..i].to_vec(),
        });
        start = i + 1;
    }
    out
}

/// `PATH.k`: the file log `path` was rotated to k rotations ago.
pub(crate) fn numbered(path: &Path, k: usize) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(format!(".{k}"));
    PathBuf::from(p)
}

/// The records of index `f` from the last one at or before log offset
/// `start` on, read backwards from the index's end (a tail needs no more),
/// and the index's length in whole records.
pub(crate) fn records_at_end(f: &mut std::fs::File, start: u64) -> (Vec<Record>, u64) {
    const BACK: u64 = 4096 * 16;
    let len = f.metadata().map(|m| m.len() / 16 * 16).unwrap_or(0);
    let mut from = len;
    let mut records: Vec<Record> = Vec::new();
    while from > 0 && records.first().is_none_or(|r| r.at > start) {
        from = from.saturating_sub(BACK);
        let mut piece = records_of(f, from);
        piece.truncate(((len - from) / 16) as usize - records.len());
        piece.extend(records);
        records = piece;
    }
    // From the one in force at `start`.
    let first = records.iter().rposition(|r| r.at <= start).unwrap_or(0);
    records.drain(..first);
    (records, len)
}

/// The records of index `f` from byte `pos` on, in the order written; a
/// torn last record is left for the next read.
pub(crate) fn records_of(f: &mut std::fs::File, pos: u64) -> Vec<Record> {
    let mut bytes = Vec::new();
    if f.seek(SeekFrom::Start(pos)).is_ok() {
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
    use harness_shim::log::{LineBuffer, LogWriter, Stream};

    fn line(ts_us: u64, text: &str) -> Line {
        Line {
            ts_us,
            stderr: false,
            bytes: text.into(),
        }
    }

    #[test]
    fn a_merge_reads_a_piece_at_a_time_and_goes_on_when_its_cursors_follow() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, lines: &[&str]| {
            let path = dir.path().join(name);
            let mut log = LogWriter::open(&path, 1 << 20, 3).unwrap();
            let mut out = LineBuffer::of(Stream::Out);
            for l in lines {
                out.push(format!("{l}\n").as_bytes(), &mut log).unwrap();
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            path
        };
        let a = write("a.log", &["a1", "a2", "a3", "a4", "a5"]);
        let b = write("b.log", &["b1"]);
        let a2 = write("a.log", &["a6", "a7", "a8"]);
        let all = Window::default();
        let mut merge = Merge::new(vec![
            Cursor::open(std::slice::from_ref(&a), all),
            Cursor::open(std::slice::from_ref(&b), all),
        ]);
        let mut pieces = Vec::new();
        loop {
            let piece = merge.next(3);
            if piece.is_empty() {
                break;
            }
            let piece: Vec<String> = piece
                .iter()
                .map(|(k, l)| format!("{k}:{}", l.text()))
                .collect();
            pieces.push(piece.join(" "));
        }
        assert_eq!(
            pieces,
            ["0:a1 0:a2 0:a3", "0:a4 0:a5 1:b1", "0:a6 0:a7 0:a8"]
        );
        // Afterwards, each cursor goes on where the merge left it.
        let mut log = LogWriter::open(&a2, 1 << 20, 3).unwrap();
        LineBuffer::of(Stream::Out).push(b"a9\n", &mut log).unwrap();
        merge.resume();
        assert!(merge.next(10).is_empty(), "the window ended before a9");
        merge.logs_mut().for_each(Cursor::follow);
        merge.resume();
        let more: Vec<String> = merge
            .next(10)
            .iter()
            .map(|(_, l)| l.text().into_owned())
            .collect();
        assert_eq!(more, ["a9"]);
    }

    #[test]
    fn a_tail_reads_the_index_from_the_record_in_force_at_its_start() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.log.idx");
        let record = |at: u64, us: u64| [at.to_le_bytes(), us.to_le_bytes()].concat();
        // 10,000 records, one every 10 bytes: several pieces read backwards.
        let bytes: Vec<u8> = (0..10_000u64).flat_map(|k| record(k * 10, k)).collect();
        std::fs::write(&path, &bytes).unwrap();
        let mut f = std::fs::File::open(&path).unwrap();
        let (records, len) = records_at_end(&mut f, 12_345);
        assert_eq!(len, 160_000);
        assert_eq!(records.first().map(|r| r.at), Some(12_340));
        assert_eq!(records.len(), 10_000 - 1234);
        let (records, _) = records_at_end(&mut f, 0);
        assert_eq!(records.len(), 10_000);
        let (records, _) = records_at_end(&mut f, 10_000_000);
        assert_eq!(records.iter().map(|r| r.us).collect::<Vec<_>>(), [9_999]);
    }

    /// A log given as its pieces, in order.
    struct Pieces(VecDeque<Vec<Line>>);

    impl Lines for Pieces {
        fn read_more(&mut self) -> Vec<Line> {
            self.0.pop_front().unwrap_or_default()
        }
    }

    #[test]
    fn logs_merge_by_capture_time_each_keeping_its_own_order() {
        let log = |pieces: Vec<Vec<Line>>| Pieces(pieces.into());
        let mut merge = Merge::new(vec![
            log(vec![
                vec![line(10, "db 1"), line(30, "db 2")],
                vec![line(30, "db 3")],
            ]),
            log(vec![vec![line(20, "api 1"), line(30, "api 2")]]),
            // A clock set back: its lines keep their order all the same.
            log(vec![vec![line(25, "web 1"), line(5, "web 2")]]),
        ]);
        let merged = merge.next(usize::MAX);
        let got: Vec<(usize, String)> = merged
            .iter()
            .map(|(k, l)| (*k, l.text().into_owned()))
            .collect();
        let want = [
            (0, "db 1"),
            (1, "api 1"),
            (2, "web 1"),
            (2, "web 2"),
            (0, "db 2"),
            (0, "db 3"),
            (1, "api 2"),
        ]
        .map(|(k, t)| (k, t.to_string()));
        assert_eq!(got, want);
        assert!(merge.next(10).is_empty());
    }
}
