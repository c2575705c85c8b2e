//! The store on its own thread: the supervisor sends writes and moves on;
//! the thread batches whatever has queued into one transaction.

use harness_store::{Store, Write};
use std::sync::mpsc;

/// Sends writes to the store thread.
#[derive(Clone)]
pub struct StoreWriter {
    tx: mpsc::Sender<Write>,
}

impl StoreWriter {
    /// Starts the thread over an open store.
    pub fn spawn(mut store: Store) -> StoreWriter {
        let (tx, rx) = mpsc::channel::<Write>();
        std::thread::Builder::new()
            .name("store".into())
            .spawn(move || {
                while let Ok(first) = rx.recv() {
                    let mut batch = vec![first];
                    batch.extend(rx.try_iter());
                    if let Err(e) = store.apply(&batch) {
                        tracing::error!(error = %e, "cannot write to the state database");
                    }
                }
            })
            .expect("spawn store thread");
        StoreWriter { tx }
    }

    /// Queues a write.
    pub fn send(&self, w: Write) {
        let _ = self.tx.send(w);
    }
}
