//! The store on its own thread: the supervisor sends writes and moves on;
//! the thread batches whatever has queued into one transaction.

use harness_core::engine::{RunId, RunSpec, UnitId};
use harness_store::{Store, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
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
    /// Set while the database's disk has no room.
    no_room: Arc<AtomicBool>,
}

/// How often writes the disk had no room for are tried again.
const NO_ROOM_RETRY: Duration = Duration::from_secs(1);

impl StoreWriter {
    /// Starts the thread over an open store.
    pub fn spawn(mut store: Store) -> StoreWriter {
        let (tx, rx) = mpsc::channel::<Job>();
        let no_room = Arc::new(AtomicBool::new(false));
        let flag = no_room.clone();
        std::thread::Builder::new()
            .name("store".into())
            .spawn(move || {
                // Whether every write since the last flush was applied.
                let mut all_applied = true;
                // Writes the disk had no room for, oldest first, and the
                // files to remove once they are on disk: tried again with
                // the next ones, and every second meanwhile.
                let mut kept: Vec<Write> = Vec::new();
                let mut kept_remove: Vec<PathBuf> = Vec::new();
                loop {
                    let first = match kept.is_empty() {
                        true => rx.recv().ok(),
                        false => match rx.recv_timeout(NO_ROOM_RETRY) {
                            Ok(job) => Some(job),
                            Err(mpsc::RecvTimeoutError::Timeout) => None,
                            Err(mpsc::RecvTimeoutError::Disconnected) => break,
                        },
                    };
                    if first.is_none() && kept.is_empty() {
                        break; // every sender is gone
                    }
                    let mut batch = std::mem::take(&mut kept);
                    let mut waiting = Vec::new();
                    let mut remove = std::mem::take(&mut kept_remove);
                    for job in first.into_iter().chain(rx.try_iter()) {
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
                    let applied = match batch.is_empty() {
                        true => Ok(()),
                        false => store.apply(&batch),
                    };
                    match applied {
                        Ok(()) => {
                            if flag.swap(false, Ordering::Relaxed) {
                                tracing::info!(writes = batch.len(), "room for the state database again: every write kept meanwhile is on disk");
                            }
                            for file in remove {
                                let _ = std::fs::remove_file(file);
                            }
                        }
                        Err(e) if e.is_no_room() => {
                            if !flag.swap(true, Ordering::Relaxed) {
                                tracing::error!(error = %e, "no room for the state database: its writes are kept in memory and tried again every second; the daemon goes on");
                            }
                            // What the files say is still the only record.
                            (kept, kept_remove) = (batch, remove);
                        }
                        Err(e) => {
                            tracing::error!(error = %e, "cannot write to the state database");
                            all_applied = false;
                        }
                    }
                    for done in waiting {
                        // Writes still kept are not applied yet.
                        let _ = done.send(all_applied && kept.is_empty());
                        all_applied = true;
                    }
                }
            })
            .expect("spawn store thread");
        StoreWriter { tx, no_room }
    }

    /// Whether the state database's disk has no room for its writes now
    /// (they wait in memory).
    pub fn no_room(&self) -> bool {
        self.no_room.load(Ordering::Relaxed)
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
