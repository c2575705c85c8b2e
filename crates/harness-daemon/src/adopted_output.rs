//! Where an adopted process's output goes. harness captures the output of
//! what it starts (the shim holds the service's stdout and stderr); a
//! process it adopted writes wherever whoever started it pointed it, which
//! harness cannot take over. When that is a regular file (`pg_ctl -l
//! FILE`, `nohup … > app.log`), `harness logs` reads that file beside the
//! service's own log, and says so; when it is not (a terminal, a pipe,
//! `/dev/null`), it says that harness cannot show it.

use crate::log_sources::Source;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;

/// A process harness adopted, as the logs answer asks after it.
#[derive(Debug, Clone)]
pub struct AdoptedProcess {
    pub service: String,
    pub pid: u32,
    pub start: u64,
}

/// Where a process's standard output goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// A regular file, by the path it has now.
    File(PathBuf),
    /// Something harness cannot read after it: a terminal, a pipe, a
    /// socket, `/dev/null`, a file deleted since, or nothing it may look
    /// at (another user's process).
    Elsewhere(String),
}

/// Where process `pid` (the one that started at `start`) writes its
/// standard output; `None` if it is gone.
pub fn stdout_of(pid: u32, start: u64) -> Option<Output> {
    let fd = PathBuf::from(format!("/proc/{pid}/fd/1"));
    let target = std::fs::read_link(&fd);
    let open = std::fs::metadata(&fd);
    // Read after the descriptor: a pid reused meanwhile is not taken for it.
    if !harness_store::same_process(pid, start) {
        return None;
    }
    let (target, open) = match (target, open) {
        (Ok(t), Ok(m)) => (t, m),
        (Err(e), _) | (_, Err(e)) => {
            return Some(Output::Elsewhere(format!("nowhere harness may look ({e})")));
        }
    };
    if !open.is_file() {
        return Some(Output::Elsewhere(target.display().to_string()));
    }
    // The file still at that path (the kernel follows a rename), not one
    // deleted: its link then reads `PATH (deleted)`.
    match std::fs::metadata(&target) {
        Ok(now) if now.dev() == open.dev() && now.ino() == open.ino() => Some(Output::File(target)),
        _ => Some(Output::Elsewhere(format!(
            "{} (a file no longer at that path)",
            target.display()
        ))),
    }
}

/// What `harness logs` says first of adopted service `service`, process
/// `pid`, whose output goes to `output`.
pub fn note(service: &str, pid: u32, output: &Output) -> String {
    let head = format!(
        "{service} (PID {pid}) was started outside harness: harness cannot capture its output"
    );
    match output {
        Output::File(path) => format!(
            "{head}; shown from {}, where its standard output goes (those lines have no capture time)",
            path.display()
        ),
        Output::Elsewhere(what) => {
            format!("{head}, and its standard output goes to {what}, which harness cannot read")
        }
    }
}

/// `sources` with, after the log of each service `adopted` names, the
/// file its process writes to (when it is one), and the note said first
/// of each, in the order of `sources`.
pub fn with_outputs(
    sources: Vec<Source>,
    adopted: &[AdoptedProcess],
) -> (Vec<Source>, Vec<(String, String)>) {
    let mut out = Vec::with_capacity(sources.len());
    let mut notes = Vec::new();
    for source in sources {
        let found = adopted.iter().find(|a| a.service == source.name);
        let name = source.name.clone();
        out.push(source);
        let Some(a) = found else { continue };
        let Some(output) = stdout_of(a.pid, a.start) else {
            continue; // ended meanwhile: its log is harness's own again
        };
        notes.push((name.clone(), note(&name, a.pid, &output)));
        if let Output::File(path) = output {
            out.push(Source {
                name,
                paths: vec![path],
            });
        }
    }
    (out, notes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::{Command, Stdio};

    #[test]
    fn the_note_says_where_the_output_goes_or_that_it_cannot_be_read() {
        let file = Output::File("/var/log/postgresql/pg.log".into());
        insta::assert_snapshot!(note("db", 1234, &file), @"db (PID 1234) was started outside harness: harness cannot capture its output; shown from /var/log/postgresql/pg.log, where its standard output goes (those lines have no capture time)");
        let null = Output::Elsewhere("/dev/null".into());
        insta::assert_snapshot!(note("db", 1234, &null), @"db (PID 1234) was started outside harness: harness cannot capture its output, and its standard output goes to /dev/null, which harness cannot read");
    }

    #[test]
    fn a_process_writing_to_a_file_is_read_from_it_and_one_writing_elsewhere_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.log");
        let file = std::fs::File::create(&path).unwrap();
        let mut to_file = Command::new("sleep")
            .arg("30.41")
            .stdout(file)
            .spawn()
            .unwrap();
        let mut to_null = Command::new("sleep")
            .arg("30.42")
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let mut to_pipe = Command::new("sleep")
            .arg("30.43")
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let start = |pid: u32| harness_store::start_time(pid).unwrap();
        let (f, n, p) = (to_file.id(), to_null.id(), to_pipe.id());
        assert_eq!(stdout_of(f, start(f)), Some(Output::File(path.clone())));
        assert_eq!(
            stdout_of(n, start(n)),
            Some(Output::Elsewhere("/dev/null".into()))
        );
        assert!(
            matches!(stdout_of(p, start(p)), Some(Output::Elsewhere(w)) if w.starts_with("pipe:"))
        );
        // Another start time: not that process.
        assert_eq!(stdout_of(f, start(f) + 1), None);
        // Moved: read where it is now (the kernel knows); deleted: gone.
        let moved = dir.path().join("moved.log");
        std::fs::rename(&path, &moved).unwrap();
        assert_eq!(stdout_of(f, start(f)), Some(Output::File(moved.clone())));
        std::fs::remove_file(&moved).unwrap();
        assert!(
            matches!(stdout_of(f, start(f)), Some(Output::Elsewhere(w)) if w.contains("no longer"))
        );

        let sources = vec![
            Source {
                name: "db".into(),
                paths: vec!["logs/db.log".into()],
            },
            Source {
                name: "api".into(),
                paths: vec!["logs/api.log".into()],
            },
        ];
        let adopted = [AdoptedProcess {
            service: "api".into(),
            pid: n,
            start: start(n),
        }];
        let (sources, notes) = with_outputs(sources, &adopted);
        assert_eq!(sources.len(), 2, "nothing to read beside api's own log");
        assert_eq!(notes.len(), 1);
        assert!(notes[0].1.contains("/dev/null"));
        for c in [&mut to_file, &mut to_null, &mut to_pipe] {
            c.kill().unwrap();
            c.wait().unwrap();
        }
    }
}
