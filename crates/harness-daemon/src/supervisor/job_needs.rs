//! A job that needs services up (`depends_on` on the job): before its
//! first step, those of them that are not up as their condition says are
//! started — one start of the engine's, like `harness start` — and the run
//! begins once that start is over with each of them up. If one is not,
//! the run ends before any step, failed, saying which.

use super::Supervisor;
use crate::job_prep::JobPrep;
use harness_api::{JobDone, JobEvent};
use harness_core::engine::{Input, ServiceId, StartOptions};
use harness_store::{JobRunRow, Write};
use tokio::sync::mpsc;

impl Supervisor {
    /// Whether the run of `prep` must wait for services: if so, their
    /// start has begun and the run is held until it is over.
    pub(super) fn wait_for_services(
        &mut self,
        prep: &JobPrep,
        tx: &mpsc::Sender<JobEvent>,
    ) -> bool {
        let down: Vec<ServiceId> = self
            .services_down(prep)
            .into_iter()
            .map(ServiceId)
            .collect();
        if down.is_empty() {
            return false;
        }
        let op = self.next_op;
        self.next_op.0 += 1;
        tracing::info!(job = %prep.job.name, services = down.len(), "a job waits for the services it needs");
        self.jobs.waiting.insert(op, (prep.clone(), tx.clone()));
        self.feed(Input::Start {
            op,
            targets: down,
            options: StartOptions::default(),
        });
        true
    }

    /// The services job `prep` needs that are not up as it needs them.
    fn services_down(&self, prep: &JobPrep) -> Vec<usize> {
        prep.job
            .depends_on
            .iter()
            .filter_map(|d| {
                let i = self.engine.graph().index(&d.name)?;
                (!self.engine.dependency_met(i, d.condition)).then_some(i)
            })
            .collect()
    }

    /// Start `op` is over: a run that waited for it begins, or fails if a
    /// service it needs is still not up.
    pub(super) fn services_started(&mut self, op: harness_core::engine::OpId) {
        let Some((prep, tx)) = self.jobs.waiting.remove(&op) else {
            return;
        };
        let down = self.services_down(&prep);
        if down.is_empty() {
            return self.begin_run(prep, tx);
        }
        let names: Vec<&str> = down.iter().map(|&i| self.engine.graph().name(i)).collect();
        let why = format!("needs {} up, and it did not come up", names.join(", "));
        tracing::warn!(job = %prep.job.name, why = %why, "a job could not begin");
        let first = prep
            .plan
            .iter()
            .position(|p| p.action == harness_core::job::resume::Action::Run)
            .unwrap_or(0);
        let step = prep.job.steps[first].name.clone();
        let now = super::wall_ms();
        let row = JobRunRow {
            job: prep.job.name.clone(),
            run: prep.run,
            started_ms: now,
            ended_ms: Some(now),
            state: first as i64,
            state_step: step.clone(),
            status: "failed".into(),
            retry_at_ms: None,
            start: prep.start.clone(),
        };
        match prep.continues {
            true => self.store.send(Write::JobRunStands {
                job: row.job.clone(),
                run: row.run,
                stands: harness_store::RunStands {
                    state: row.state,
                    state_step: row.state_step.clone(),
                    status: row.status.clone(),
                    retry_at_ms: None,
                    ended_ms: row.ended_ms,
                },
            }),
            false => self.store.send(Write::JobRunBegan(row)),
        }
        let _ = tx.try_send(JobEvent::Done(JobDone {
            success: false,
            current_state: step.clone(),
            status: "failed".into(),
            next_action: crate::job_record::next_action(
                &prep.job.name,
                &step,
                "failed",
                None,
                &prep.job,
            ),
            elapsed_ms: 0,
            error: Some(why.clone()),
        }));
        self.feed(Input::JobSettled {
            job: prep.job.name.clone(),
            completed: false,
            detail: why,
        });
    }
}
