//! What the store keeps for the next daemon: each service's outcome
//! (marks, last end, wanted, restart memory), written when it changes.

use super::Supervisor;
use harness_store::Write;

impl Supervisor {
    /// Writes the outcomes that changed since they were last written.
    pub(super) fn save_outcomes(&mut self) {
        for i in 0..self.engine.graph().len() {
            let name = self.engine.graph().name(i);
            // Compared in place: this runs after every step (each probe).
            if self
                .saved
                .get(name)
                .is_some_and(|saved| self.engine.outcome_is(i, saved))
            {
                continue;
            }
            let outcome = self.engine.outcome(i);
            self.saved.insert(name.to_string(), outcome.clone());
            self.store.send(Write::Outcome {
                service: name.to_string(),
                outcome,
            });
        }
    }
}
