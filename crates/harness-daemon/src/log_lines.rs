//! A log's lines with when each was captured and from which stream, read
//! from the log and the index the shim writes beside it (`LOG.idx`: see
//! `harness_shim::log`), across the files it was rotated to; and the lines
//! of several logs interleaved in the order they were captured.

use harness_shim::log::{STDERR_BIT, index_of};
use std::path::{Path, PathBuf};

/// One line of a log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// When the shim captured it, µs since the Unix epoch; 0 when the log
    /// has no index for it (written by an earlier harness, or by the
    /// daemon: `[harness] …` marks take the time of the write before).
    pub ts_us: u64,
    /// Whether it came from stderr.
    pub stderr: bool,
    /// The line, without its newline.
    pub text: String,
}

/// The lines of log `path` (only that file).
pub fn lines_of(path: &Path) -> Vec<Line> {
    let Ok(bytes) = std::fs::read(path) else {
        return Vec::new();
    };
    let records = index(&index_of(path));
    let mut out = Vec::new();
    let mut start = 0usize;
    for (i, &b) in bytes.iter().enumerate() {
        if b != b'\n' {
            continue;
        }
        // The last record at or before the line's start.
        let at = start as u64;
        let k = records.partition_point(|&(off, _, _)| off <= at);
        let (ts_us, stderr) = match k {
            0 => (0, false),
            k => (records[k - 1].2, records[k - 1].1),
        };
        out.push(Line {
            ts_us,
            stderr,
            text: String::from_utf8_lossy(&bytes[start..i]).into_owned(),
        });
        start = i + 1;
    }
    out
}

/// The lines of log `path` and of the files it was rotated to
/// (`PATH.1`, `PATH.2`, …), oldest first.
pub fn lines_across(path: &Path) -> Vec<Line> {
    let mut files = vec![path.to_path_buf()];
    for k in 1.. {
        let older = numbered(path, k);
        if !older.exists() {
            break;
        }
        files.push(older);
    }
    files.iter().rev().flat_map(|f| lines_of(f)).collect()
}

/// The lines of several logs, by name, in the order they were captured; a
/// log's own lines keep their order (a stable merge by time).
pub fn interleave(logs: Vec<(String, Vec<Line>)>) -> Vec<(String, Line)> {
    let mut all: Vec<(u64, usize, usize, String, Line)> = Vec::new();
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

fn numbered(path: &Path, k: usize) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(format!(".{k}"));
    PathBuf::from(p)
}

/// The index's records: (offset, from stderr, µs), in the order written
/// (offsets grow); a torn last record is ignored.
fn index(path: &Path) -> Vec<(u64, bool, u64)> {
    std::fs::read(path)
        .unwrap_or_default()
        .chunks_exact(16)
        .map(|r| {
            let at = u64::from_le_bytes(r[..8].try_into().unwrap_or_default());
            let us = u64::from_le_bytes(r[8..].try_into().unwrap_or_default());
            (at & !STDERR_BIT, at & STDERR_BIT != 0, us)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use harness_shim::log::{LineBuffer, LogWriter, Stream};

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
        // A line the daemon appends carries no record of its own.
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .and_then(|mut f| std::io::Write::write_all(&mut f, b"[harness] mark\n"))
            .unwrap();
        let lines = lines_across(&path);
        let texts: Vec<(&str, bool)> = lines.iter().map(|l| (l.text.as_str(), l.stderr)).collect();
        assert_eq!(
            texts,
            [
                ("one", false),
                ("two", false),
                ("oops", true),
                ("three three three", false),
                ("[harness] mark", false),
            ]
        );
        assert_eq!(lines[0].ts_us, lines[1].ts_us, "one write, one time");
        assert!(lines[2].ts_us > lines[1].ts_us);
        assert_eq!(
            lines[4].ts_us, lines[3].ts_us,
            "a mark takes the write before's time"
        );
    }

    #[test]
    fn a_log_without_an_index_reads_with_no_times() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.log");
        std::fs::write(&path, "a\nb\n").unwrap();
        let lines = lines_of(&path);
        assert_eq!(lines.len(), 2);
        assert!(lines.iter().all(|l| l.ts_us == 0 && !l.stderr));
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
                "db".into(),
                vec![line(10, "db 1"), line(30, "db 2"), line(30, "db 3")],
            ),
            ("api".into(), vec![line(20, "api 1"), line(30, "api 2")]),
        ]);
        let got: Vec<&str> = merged.iter().map(|(_, l)| l.text.as_str()).collect();
        assert_eq!(got, ["db 1", "api 1", "db 2", "db 3", "api 2"]);
    }
}
