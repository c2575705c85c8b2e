//! Starting: pull in dependencies, spawn each service once its dependencies
//! meet their condition, settle each member.

use super::deps::DepState;
use super::history::HistoryState;
use super::io::{Action, OpId, ProcessEnd, StartOptions};
use super::op::{Member, MemberState, Op, OpKind};
use super::service::{Engine, Phase, ProbeHealth, Verdict};
use super::step::progress;
use super::transition::Move;
use crate::duration::compact;
use crate::report::Stage;
use crate::timeout::startup_timeout;
use std::time::Instant;

impl Engine {
    pub(super) fn begin_start(
        &mut self,
        id: OpId,
        targets: &[usize],
        options: StartOptions,
        now: Instant,
        out: &mut Vec<Action>,
    ) {
        let members = self.scope(targets, options.no_deps);
        // The jobs its members wait for run (again: each is resumed, and
        // one up to date completes at once), unless one already does.
        let mut jobs: Vec<String> = Vec::new();
        for &i in &members {
            for job in self.graph.job_deps(i) {
                if !jobs.contains(job)
                    && self.jobs.get(job) != Some(&super::service::JobStanding::Running)
                {
                    jobs.push(job.clone());
                }
            }
        }
        for job in jobs {
            self.jobs
                .insert(job.clone(), super::service::JobStanding::Running);
            out.push(Action::RunJob { job });
        }
        let mut op = Op {
            id,
            kind: OpKind::Start(options.clone()),
            started: now,
            members: Vec::new(),
            recovering: None,
        };
        for i in members {
            let svc_cfg = &self.config.services[i];
            let timeout = startup_timeout(
                options.timeout,
                svc_cfg.startup_timeout,
                self.config.settings.startup_timeout,
            );
            let found_running = matches!(
                self.svcs[i].phase,
                Phase::Up { .. } | Phase::Spawning { .. }
            );
            let state = self.join_start(id, i, now, out);
            op.members.push(Member {
                service: i,
                deadline: now + timeout,
                state,
                forced: false,
                announced: false,
                found_running,
            });
        }
        self.ops.push(op);
    }

    /// Where service `i` starts out in start `id`: used as it is when up
    /// and healthy, waited for when on its way up, else to be started.
    fn join_start(
        &mut self,
        id: OpId,
        i: usize,
        now: Instant,
        out: &mut Vec<Action>,
    ) -> MemberState {
        self.svcs[i].wanted = true;
        if let Some((pid, detail)) = self.existing(i) {
            out.push(progress(
                id,
                self.graph.name(i),
                Stage::Existing,
                now,
                now,
                pid,
                &detail,
            ));
            return MemberState::Settled(Stage::Existing);
        }
        let svc = &mut self.svcs[i];
        match svc.phase {
            Phase::Up { .. } | Phase::Spawning { .. } => MemberState::Acting,
            Phase::Stopped | Phase::Stopping { .. } | Phase::Backoff { .. } => {
                // A person starts it: no backoff to wait out, no
                // restart history held against it, no old verdict.
                svc.tracker.reset();
                svc.verdict = Verdict::None;
                self.apply(i, Move::CancelBackoff);
                MemberState::Waiting
            }
        }
    }

    /// What a start uses of service `i` as it is, with its pid and the
    /// word for it: its own run up and healthy, but never without a word
    /// when what runs is not what the file says; or an instance outside
    /// harness, never doubled by a second one (it would die on the port
    /// in use, or worse, share its data).
    fn existing(&self, i: usize) -> Option<(Option<u32>, String)> {
        let svc = &self.svcs[i];
        match svc.phase {
            Phase::Up {
                health: ProbeHealth::Healthy,
                pid,
                ..
            } => {
                let changes = self.changes(i);
                let detail = if changes.is_empty() {
                    "using existing (healthy)".to_string()
                } else {
                    format!(
                        "using existing (healthy; running an older definition: {})",
                        changes.join(", ")
                    )
                };
                Some((Some(pid), detail))
            }
            Phase::Stopped => svc.external.map(|ext| {
                let note = external_note(ext);
                (
                    ext.pid,
                    format!("{note}: left as it is, not started by harness"),
                )
            }),
            _ => None,
        }
    }

    pub(super) fn advance_start(&mut self, k: usize, now: Instant, out: &mut Vec<Action>) -> bool {
        let mut changed = false;
        let options = self.ops[k].options().cloned().unwrap_or_default();
        for idx in 0..self.ops[k].members.len() {
            let m = self.ops[k].members[idx].clone();
            let started = self.ops[k].started;
            let settle = match m.state {
                MemberState::Settled(_) => None,
                MemberState::Waiting => {
                    let phase = self.svcs[m.service].phase;
                    match phase {
                        Phase::Up { .. } | Phase::Spawning { .. } => {
                            self.ops[k].members[idx].state = MemberState::Acting;
                            changed = true;
                            None
                        }
                        Phase::Stopping { .. } | Phase::Backoff { .. } => None,
                        Phase::Stopped => match self.deps_state(k, m.service, &options) {
                            DepState::Met => {
                                self.spawn(k, idx, false, out);
                                changed = true;
                                None
                            }
                            DepState::Broken(_) if options.force => {
                                if self.deps_settled(k, m.service) {
                                    self.spawn(k, idx, true, out);
                                    changed = true;
                                } else {
                                    self.announce_waiting(k, idx, now, out);
                                }
                                None
                            }
                            DepState::Broken(why) => Some((Stage::Blocked, why)),
                            DepState::Pending if now >= m.deadline => {
                                Some((Stage::Blocked, self.pending_reason(k, m.service)))
                            }
                            DepState::Pending => {
                                self.announce_waiting(k, idx, now, out);
                                None
                            }
                            // Its startup timeout counts from the job's end.
                            DepState::PendingJob => {
                                let cfg = &self.config.services[m.service];
                                let timeout = startup_timeout(
                                    options.timeout,
                                    cfg.startup_timeout,
                                    self.config.settings.startup_timeout,
                                );
                                self.ops[k].members[idx].deadline = now + timeout;
                                self.announce_waiting(k, idx, now, out);
                                None
                            }
                        },
                    }
                }
                MemberState::Acting => self.acting_outcome(&m, &options, started, now),
            };
            if let Some((phase, detail)) = settle {
                self.settle(k, idx, phase, detail, now, out);
                changed = true;
            }
        }
        changed
    }

    pub(super) fn acting_outcome(
        &mut self,
        m: &Member,
        options: &StartOptions,
        started: Instant,
        now: Instant,
    ) -> Option<(Stage, String)> {
        match self.svcs[m.service].phase {
            // A one-shot that others wait on with `condition: completed`
            // has its outcome only when it exits.
            Phase::Up { .. } if self.is_completion_dependency(m.service) && now < m.deadline => {
                None
            }
            Phase::Up { health, since, .. } => {
                let took = now.saturating_duration_since(since.max(started));
                if health == ProbeHealth::Healthy && m.forced {
                    Some((Stage::Warning, "started, deps unhealthy".into()))
                } else if health == ProbeHealth::Healthy {
                    Some((
                        Stage::Healthy,
                        format!("healthy in {}", crate::duration::human(took)),
                    ))
                } else if options.no_wait {
                    Some((Stage::Started, "started".into()))
                } else if now >= m.deadline {
                    let after = m.deadline.saturating_duration_since(started);
                    if let Phase::Up { health, .. } = &mut self.svcs[m.service].phase {
                        *health = ProbeHealth::Unhealthy;
                    }
                    if m.forced {
                        // Started past its dependencies: that is the
                        // warning, whether or not it had time to be healthy.
                        Some((Stage::Warning, "started, deps unhealthy".into()))
                    } else if options.force {
                        Some((Stage::Warning, "started, health check failed".into()))
                    } else {
                        self.svcs[m.service].verdict = Verdict::TimedOut(after);
                        Some((
                            Stage::TimedOut,
                            format!("timeout after {}", compact(after.as_secs().max(1))),
                        ))
                    }
                } else {
                    None
                }
            }
            Phase::Spawning { .. } => None,
            Phase::Stopping { .. } | Phase::Stopped | Phase::Backoff { .. } => {
                Some((Stage::Failed, "stopped while starting".into()))
            }
        }
    }

    pub(super) fn settle(
        &mut self,
        k: usize,
        idx: usize,
        phase: Stage,
        detail: String,
        now: Instant,
        out: &mut Vec<Action>,
    ) {
        let op = &mut self.ops[k];
        let m = &mut op.members[idx];
        m.state = MemberState::Settled(phase);
        let service = m.service;
        let (id, started) = (op.id, op.started);
        let pid = match self.svcs[service].phase {
            Phase::Up { pid, .. } => Some(pid),
            _ => None,
        };
        let exit_code = self.svcs[service]
            .last_end
            .and_then(ProcessEnd::code)
            .filter(|_| phase == Stage::Failed);
        let mut p = progress(
            id,
            self.graph.name(service),
            phase,
            started,
            now,
            pid,
            &detail,
        );
        if let Action::Progress { progress, .. } = &mut p {
            progress.exit_code = exit_code;
        }
        out.push(p);
        match phase {
            Stage::Blocked => {
                self.svcs[service].verdict = Verdict::Blocked(detail.clone());
                self.record(service, HistoryState::Blocked, detail, None, out);
            }
            Stage::TimedOut => {
                self.record(service, HistoryState::Unhealthy, detail, None, out);
            }
            _ => {}
        }
    }

    /// Settles service `i` as `phase` in every start operation acting on it.
    pub(super) fn settle_everywhere(
        &mut self,
        i: usize,
        phase: Stage,
        detail: &str,
        now: Instant,
        out: &mut Vec<Action>,
    ) {
        for k in 0..self.ops.len() {
            if let Some(idx) = self.ops[k]
                .members
                .iter()
                .position(|m| m.service == i && m.state == MemberState::Acting)
            {
                self.settle(k, idx, phase, detail.to_string(), now, out);
            }
        }
    }

    pub(super) fn fail_start(
        &mut self,
        i: usize,
        reason: String,
        now: Instant,
        out: &mut Vec<Action>,
    ) {
        self.svcs[i].verdict = Verdict::Failed(reason.clone());
        let why = format!("failed: {reason}");
        self.record(i, HistoryState::Stopped, why, None, out);
        self.settle_everywhere(i, Stage::Failed, &reason, now, out);
    }

    pub(super) fn spawn(&mut self, k: usize, idx: usize, forced: bool, out: &mut Vec<Action>) {
        let run = self.new_run();
        let m = &mut self.ops[k].members[idx];
        m.state = MemberState::Acting;
        m.forced = forced;
        let service = m.service;
        self.apply(
            service,
            Move::Spawn {
                run,
                restart: false,
            },
        );
        self.svcs[service].verdict = Verdict::None;
        // A person starts the file's version: a failed deploy's drift is
        // over (the plan compares what runs with the file again).
        self.svcs[service].drift = None;
        let cause = self.ops[k].options().and_then(|o| o.cause.clone());
        let notes: Vec<String> = forced
            .then(|| "forced: dependencies not up".to_string())
            .into_iter()
            .chain(cause.clone())
            .collect();
        let why = if notes.is_empty() {
            "start requested".to_string()
        } else {
            format!("start requested ({})", notes.join("; "))
        };
        self.record(service, HistoryState::Starting, why, cause, out);
        self.push_spawn(service, run, out);
    }
}

/// "running, not managed by harness (PID 1234)", or without the pid when
/// its process could not be named.
pub(crate) fn external_note(ext: super::io::ExternalInstance) -> String {
    match ext.pid {
        Some(pid) => format!("running, not managed by harness (PID {pid})"),
        None => "running, not managed by harness".to_string(),
    }
}
