//! The store on its own thread: the supervisor sends writes and moves on;
//! the thread batches whatever has queued into one transaction.

use harness_core::engine::{RunId, RunSpec, UnitId};
use harness_store::{Store, Write};
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::Duration;

/// What the store thread is sent.
enum Job {
    /// Apply this (batched with whatever else queued).
    Write(Write),
    /// Answer once everything sent before has been applied: whether all
    /// of it was.
    Flush(mpsc::Sender<bool>),
    /// Keep this version of a service in this folder
    /// ([`harness_store::versions`]).
    Version(PathBuf, Box<RunSpec>),
    /// Remove these files once the writes sent before are on disk.
    RemoveAfter(Vec<PathBuf>),
}

/// Sends writes to the store thread.
#[derive(Clone)]
pub struct StoreWriter {
    tx: mpsc::Sender<Job>,
}

impl StoreWriter {
    /// Starts the thread over an open store.
    pub fn spawn(mut store: Store) -> StoreWriter {
        let (tx, rx) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("store".into())
            .spawn(move || {
                // Whether every write since the last flush was applied.
                let mut all_applied = true;
                while let Ok(first) = rx.recv() {
                    let mut batch = Vec::new();
                    let mut waiting = Vec::new();
                    let mut remove = Vec::new();
                    for job in std::iter::once(first).chain(rx.try_iter()) {
                        match job {
                            Job::Write(w) => batch.push(w),
                            Job::Flush(done) => waiting.push(done),
                            Job::RemoveAfter(files) => remove.extend(files),
                            Job::Version(dir, spec) => {
                                if let Err(e) = harness_store::versions::save(&dir, &spec) {
                                    tracing::warn!(unit = %spec.unit, error = %e, "cannot keep the version");
                                    all_applied = false;
                                }
                            }
                        }
                    }
                    if !batch.is_empty()
                        && let Err(e) = store.apply(&batch)
                    {
                        tracing::error!(error = %e, "cannot write to the state database");
                        all_applied = false;
                        // What the files say is still the only record.
                        remove.clear();
                    }
                    for file in remove {
                        let _ = std::fs::remove_file(file);
                    }
                    for done in waiting {
                        let _ = done.send(all_applied);
                        all_applied = true;
                    }
                }
            })
            .expect("spawn store thread");
        StoreWriter { tx }
    }

    /// Keeps `spec` as a version of its service in `dir`, off the
    /// supervisor's loop (a flush waits for it too).
    pub fn save_version(&self, dir: PathBuf, spec: RunSpec) {
        let _ = self.tx.send(Job::Version(dir, Box::new(spec)));
    }

    /// Records that run `run` of `unit` ended, and then — once that is on
    /// disk, so that a daemon killed meanwhile still reads how it ended —
    /// removes the run's exit file, notify socket and full-disk flag (a
    /// shim killed while its disk was full leaves one).
    pub fn run_ended(&self, project: &harness_store::Project, unit: UnitId, run: RunId) {
        let exit = project.exit_file(unit.key(), run.0);
        let files = vec![
            exit.with_extension("logfull"),
            exit,
            project.notify_socket(unit.key(), run.0),
        ];
        self.send(Write::RunEnded { unit, run });
        let _ = self.tx.send(Job::RemoveAfter(files));
    }

    /// Queues a write.
    pub fn send(&self, w: Write) {
        let _ = self.tx.send(Job::Write(w));
    }

    /// Waits (at most `limit`) until every write sent so far is applied:
    /// the daemon's last writes (a run that ended, the history row of a
    /// stop) are on disk before it exits, and a deploy's record before it
    /// acts. True when they all were applied in time.
    pub fn flush(&self, limit: Duration) -> bool {
        let (done, applied) = mpsc::channel();
        self.tx.send(Job::Flush(done)).is_ok() && applied.recv_timeout(limit) == Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use harness_store::HistoryRow;

    #[test]
    fn a_flush_returns_once_what_was_sent_is_on_disk() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        let w = StoreWriter::spawn(Store::open(&path).unwrap());
        for i in 0..50 {
            w.send(Write::History(HistoryRow {
                ts_ms: i,
                service: "db".into(),
                from: "stopped".into(),
                to: "starting".into(),
                reason: "start requested".into(),
                cause: None,
            }));
        }
        w.flush(Duration::from_secs(5));
        let rows = Store::open(&path).unwrap().history(None, 1000).unwrap();
        assert_eq!(rows.len(), 50);
    }
}
