//! The supervisor's loop: one message at a time, waking for the engine's
//! next deadline. Nothing here waits on a client, a process or the disk.

use super::{Msg, Supervisor};
use crate::metrics;
use harness_api::CHOICE_SUBJECT;
use harness_core::engine::Input;
use harness_store::{HistoryRow, Write};
use std::time::Instant;

impl Supervisor {
    /// Runs until shutdown.
    pub async fn run(mut self) {
        self.shims.refill();
        loop {
            let deadline = self
                .engine
                .next_deadline()
                .into_iter()
                .chain(self.jobs.next_deadline())
                .min();
            let msg = tokio::select! {
                m = self.rx.recv() => match m { Some(m) => m, None => break },
                _ = sleep_until(deadline) => Msg::Fact(Input::Tick),
            };
            match msg {
                Msg::Start(req, observed, reply) => {
                    let result = self.start(req, *observed);
                    let _ = reply.send(result);
                }
                Msg::Stop(req, reply) => {
                    let result = self.stop(req);
                    let _ = reply.send(result);
                }
                Msg::Cancel(op) => {
                    self.clients.remove(&op);
                    // A stop still waiting for a deploy is kept: a stop
                    // runs to its end whether its client stays or not.
                    self.feed(Input::Cancel { op });
                }
                Msg::Plan(req, reply) => {
                    let _ = reply.send(self.plan(req));
                }
                Msg::Deploy(req, observed, reply) => {
                    let _ = reply.send(self.deploy(req, *observed));
                }
                Msg::FollowDeploy { id, after, reply } => {
                    let _ = reply.send(self.follow_deploy(id, after).map(|rx| (id, rx)));
                }
                Msg::Rollback(req, observed, reply) => {
                    let _ = reply.send(self.rollback(req, *observed));
                }
                Msg::CancelDeploy(id, reply) => {
                    let _ = reply.send(self.cancel_deploy(id));
                }
                Msg::DeployPlan(req, observed, reply) => {
                    let _ = reply.send(self.deploy_plan(req, *observed));
                }
                Msg::Choice(c) => {
                    tracing::info!(prompt = %c.prompt, answer = %c.answer, detail = %c.detail, "choice at a prompt");
                    self.store.send(Write::History(HistoryRow {
                        ts_ms: super::wall_ms(),
                        service: CHOICE_SUBJECT.into(),
                        from: c.prompt,
                        to: c.answer,
                        reason: c.detail,
                        cause: None,
                    }));
                }
                Msg::Status(reply) => {
                    // Status compares what runs with the file as it is now
                    // (a run of an older definition says so) without taking
                    // it: only a request that acts does. An invalid file
                    // leaves the comparison with the last one taken.
                    self.refresh_outside();
                    let now = Instant::now();
                    let report = match self.config.current() {
                        Ok(file) => self.engine.report_against(now, file),
                        Err(_) => self.engine.report(now),
                    };
                    let _ = reply.send(report);
                }
                Msg::ExternalChecked {
                    service,
                    pid,
                    healthy,
                } => self.external_checked(&service, pid, healthy),
                Msg::External(name, reply) => self.show_external(&name, reply),
                Msg::Adopt(req, reply) => {
                    let _ = reply.send(self.adopt(req));
                }
                Msg::Replace(req, reply) => self.replace(req, reply),
                Msg::Metrics(reply) => {
                    let report = self.engine.report(Instant::now());
                    let _ = reply.send(metrics::render(
                        &report,
                        &self.latencies,
                        &self.deploy_counts,
                        &self.job_counts,
                    ));
                }
                Msg::Names(reply) => {
                    let g = self.engine.graph();
                    let _ = reply.send((0..g.len()).map(|i| g.name(i).to_string()).collect());
                }
                Msg::Adopted(reply) => {
                    let _ = reply.send(self.adopted.values().cloned().collect());
                }
                Msg::Probed {
                    fact,
                    unit,
                    kind,
                    took,
                } => {
                    self.latencies.insert((unit, kind), took);
                    self.feed(fact);
                }
                Msg::Health(names, reply) => self.health(names, reply),
                Msg::Fact(Input::Tick) => {
                    self.feed(Input::Tick);
                    self.tick_jobs();
                }
                Msg::RunJob(prep, reply) => {
                    let _ = reply.send(self.run_job(*prep));
                }
                Msg::StepFact { job, fact } => self.step_fact(&job, fact),
                Msg::JobPrepared(prep) => self.job_prepared(*prep),
                Msg::DecideJob(prep, req, reply) => {
                    let _ = reply.send(self.decide_job(*prep, req));
                }
                Msg::MarkStep(prep, reason, reply) => {
                    let _ = reply.send(self.mark_step(*prep, reason));
                }
                Msg::CleanupDone { job, detail } => self.cleanup_done(&job, detail),
                Msg::JobControl(job, control, reply) => {
                    let _ = reply.send(self.control_job(&job, control));
                }
                Msg::Fact(input) => {
                    if let Input::Exited { run, .. } = &input {
                        if let Some(h) = self.stops.remove(run) {
                            h.abort();
                        }
                        self.adopted.remove(run);
                    }
                    self.feed(input);
                }
                Msg::Shutdown => break,
                Msg::ShutdownIfIdle(reply) => {
                    // Decided here, between two steps of the engine, so no
                    // start can slip in between the check and the exit.
                    let idle = self.engine.idle() && !self.jobs.busy();
                    let _ = reply.send(idle);
                    if idle {
                        tracing::info!("idle: making way for a daemon for another file");
                        break;
                    }
                }
            }
        }
        self.store.flush(std::time::Duration::from_secs(2));
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d.into()).await,
        None => std::future::pending().await,
    }
}
