//! The store on its own thread: the supervisor sends writes and moves on;
//! the thread batches whatever has queued into one transaction.

use harness_core::engine::{RunId, RunSpec, UnitId};
use harness_store::{Store, Write};
use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

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
    /// Do this with the store (tests: make its disk "full", and not).
    #[cfg(test)]
    WithStore(Box<dyn FnOnce(&Store) + Send>),
}

/// Sends writes to the store thread.
#[derive(Clone)]
pub struct StoreWriter {
    tx: mpsc::Sender<Job>,
    health: Arc<Health>,
}

/// What the store thread tells the rest of the daemon about itself.
#[derive(Default)]
struct Health {
    /// Set while the database's disk has no room.
    no_room: AtomicBool,
    /// Writes given up on since the daemon started.
    lost: AtomicU64,
}

/// How often writes the disk had no room for are tried again.
const NO_ROOM_RETRY: Duration = Duration::from_secs(1);

/// The most writes kept in memory while the disk has no room (a few MB):
/// past it the oldest are given up, counted, and said.
const KEPT_MAX: usize = 100_000;

/// The store thread's state between two batches.
struct StoreThread {
    store: Store,
    health: Arc<Health>,
    /// Whether every write since the last flush was applied.
    all_applied: bool,
    /// Writes the disk had no room for, oldest first, and the files to
    /// remove once they are on disk: tried again every second, with
    /// whatever came meanwhile.
    kept: VecDeque<Write>,
    kept_remove: Vec<PathBuf>,
    next_try: Instant,
}

impl StoreThread {
    fn run(mut self, rx: mpsc::Receiver<Job>) {
        loop {
            let first = match self.kept.is_empty() {
                true => match rx.recv() {
                    Ok(job) => Some(job),
                    Err(_) => break, // every sender is gone
                },
                false => {
                    match rx.recv_timeout(self.next_try.saturating_duration_since(Instant::now())) {
                        Ok(job) => Some(job),
                        Err(mpsc::RecvTimeoutError::Timeout) => None,
                        Err(mpsc::RecvTimeoutError::Disconnected) => break,
                    }
                }
            };
            let mut waiting = Vec::new();
            for job in first.into_iter().chain(rx.try_iter()) {
                match job {
                    Job::Write(w) => self.kept.push_back(w),
                    Job::Flush(done) => waiting.push(done),
                    Job::RemoveAfter(files) => self.kept_remove.extend(files),
                    #[cfg(test)]
                    Job::WithStore(f) => f(&self.store),
                    Job::Version(dir, spec) => {
                        if let Err(e) = harness_store::versions::save(&dir, &spec) {
                            tracing::warn!(unit = %spec.unit, error = %e, "cannot keep the version");
                            self.all_applied = false;
                        }
                    }
                }
            }
            // While the disk has no room, what comes waits for the next
            // try rather than making one of its own.
            if !self.health.no_room.load(Ordering::Relaxed) || Instant::now() >= self.next_try {
                self.apply();
            }
            self.give_up_past_the_cap();
            for done in waiting {
                // Writes still kept are not applied yet.
                let _ = done.send(self.all_applied && self.kept.is_empty());
                self.all_applied = true;
            }
        }
        // The daemon is going: one last try, and what cannot be written
        // is said, not dropped silently.
        if !self.kept.is_empty() {
            self.apply();
        }
        if !self.kept.is_empty() {
            tracing::error!(
                writes = self.kept.len(),
                "the daemon exits with writes to the state database it had no room for: they are lost"
            );
        }
    }

    /// Applies every write kept, in one transaction.
    fn apply(&mut self) {
        if self.kept.is_empty() {
            for file in std::mem::take(&mut self.kept_remove) {
                let _ = std::fs::remove_file(file);
            }
            return;
        }
        let batch = self.kept.make_contiguous();
        match self.store.apply(batch) {
            Ok(()) => {
                if self.health.no_room.swap(false, Ordering::Relaxed) {
                    tracing::info!(
                        writes = batch.len(),
                        "room for the state database again: every write kept meanwhile is on disk"
                    );
                }
                self.kept.clear();
                for file in std::mem::take(&mut self.kept_remove) {
                    let _ = std::fs::remove_file(file);
                }
            }
            Err(e) if e.is_no_room() => {
                if !self.health.no_room.swap(true, Ordering::Relaxed) {
                    tracing::error!(error = %e, "no room for the state database: its writes are kept in memory and tried again every second; the daemon goes on");
                }
                // What the files say is still the only record: they stay.
                self.next_try = Instant::now() + NO_ROOM_RETRY;
            }
            Err(e) => {
                tracing::error!(error = %e, writes = batch.len(), "cannot write to the state database: these writes are lost");
                self.health
                    .lost
                    .fetch_add(batch.len() as u64, Ordering::Relaxed);
                self.health.no_room.store(false, Ordering::Relaxed);
                self.kept.clear();
                // Their runs' exit files stay: the next daemon reads how
                // those runs ended from them.
                self.kept_remove.clear();
                self.all_applied = false;
            }
        }
    }

    /// Keeps memory bounded however long the disk stays full.
    fn give_up_past_the_cap(&mut self) {
        let over = self.kept.len().saturating_sub(KEPT_MAX);
        if over > 0 {
            self.kept.drain(..over);
            // A run's end may be among them: its exit file stays, the only
            // record of how it ended, for the next daemon to read.
            self.kept_remove.clear();
            self.all_applied = false;
            let before = self.health.lost.fetch_add(over as u64, Ordering::Relaxed);
            if before == 0 {
                tracing::error!(
                    kept = KEPT_MAX,
                    "no room for the state database for too long: its oldest kept writes are given up"
                );
            }
        }
    }
}

impl StoreWriter {
    /// Starts the thread over an open store.
    pub fn spawn(store: Store) -> StoreWriter {
        let (tx, rx) = mpsc::channel::<Job>();
        let health = Arc::new(Health::default());
        let thread = StoreThread {
            store,
            health: health.clone(),
            all_applied: true,
            kept: VecDeque::new(),
            kept_remove: Vec::new(),
            next_try: Instant::now(),
        };
        std::thread::Builder::new()
            .name("store".into())
            .spawn(move || thread.run(rx))
            .expect("spawn store thread");
        StoreWriter { tx, health }
    }

    /// What is wrong with the state database's writes now, for `status`:
    /// its disk has no room (they wait in memory), or some were lost.
    pub fn trouble(&self) -> Option<String> {
        let lost = self.health.lost.load(Ordering::Relaxed);
        let no_room = self.health.no_room.load(Ordering::Relaxed);
        match (no_room, lost) {
            (false, 0) => None,
            (true, 0) => Some(
                "no room for the state database: history and outcomes wait in memory until there is (daemon.log)"
                    .into(),
            ),
            (true, n) => Some(format!(
                "no room for the state database: history and outcomes wait in memory until there is; {n} writes were given up (daemon.log)"
            )),
            (false, n) => Some(format!(
                "{n} writes to the state database were lost since the daemon started (daemon.log)"
            )),
        }
    }

    /// Keeps `spec` as a version of its service in `dir`, off the
    /// supervisor's loop (a flush waits for it too).
    pub fn save_version(&self, dir: PathBuf, spec: RunSpec) {
        let _ = self.tx.send(Job::Version(dir, Box::new(spec)));
    }

    /// Records that run `run` of `unit` ended, and then — once that is on
    /// disk, so that a daemon killed meanwhile still reads how it ended —
    /// removes the run's exit file, notify socket, full-disk flag (a
    /// shim killed while its disk was full leaves one) and the exit
    /// file's room (a shim killed before its run ended leaves it).
    pub fn run_ended(&self, project: &harness_store::Project, unit: UnitId, run: RunId) {
        let exit = project.exit_file(unit.key(), run.0);
        let files = vec![
            exit.with_extension("logfull"),
            harness_shim::exit_file::tmp_of(&exit),
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

    fn row(i: i64) -> Write {
        Write::History(HistoryRow {
            ts_ms: i,
            service: "db".into(),
            from: "stopped".into(),
            to: "starting".into(),
            reason: "x".repeat(200),
            cause: None,
        })
    }

    fn limit(w: &StoreWriter, pages: Option<i64>) {
        let f = move |s: &Store| s.limit_growth(pages).unwrap();
        w.tx.send(Job::WithStore(Box::new(f))).unwrap();
    }

    /// Flushes until everything held is applied (it is tried again once a
    /// second); the test fails past `secs`.
    fn flushed_within(w: &StoreWriter, secs: u64) {
        let started = Instant::now();
        while !w.flush(Duration::from_secs(secs)) {
            assert!(
                started.elapsed() < Duration::from_secs(secs),
                "never written"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    #[test]
    fn writes_without_room_wait_in_memory_and_all_land_once_there_is_room() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        let w = StoreWriter::spawn(Store::open(&path).unwrap());
        limit(&w, Some(0));
        for i in 0..500 {
            w.send(row(i));
        }
        assert!(
            !w.flush(Duration::from_secs(5)),
            "held writes are not applied"
        );
        let said = w.trouble().expect("status is told");
        assert!(said.starts_with("no room for the state database"), "{said}");
        limit(&w, None);
        flushed_within(&w, 5);
        assert_eq!(w.trouble(), None);
        let rows = Store::open(&path).unwrap().history(None, 1000).unwrap();
        assert_eq!(rows.len(), 500, "every held write landed");
    }

    #[test]
    fn held_writes_are_capped_and_what_is_given_up_is_counted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        let w = StoreWriter::spawn(Store::open(&path).unwrap());
        limit(&w, Some(0));
        for i in 0..(KEPT_MAX as i64 + 10) {
            w.send(row(i));
        }
        assert!(!w.flush(Duration::from_secs(10)));
        let said = w.trouble().unwrap();
        assert!(said.contains("10 writes were given up"), "{said}");
        limit(&w, None);
        flushed_within(&w, 10);
        let said = w.trouble().unwrap();
        assert!(
            said.starts_with("10 writes to the state database were lost"),
            "{said}"
        );
        let rows = Store::open(&path).unwrap().history(None, 1).unwrap();
        assert_eq!(rows[0].ts_ms, KEPT_MAX as i64 + 9, "the newest are kept");
    }
}
