//! [`Engine::step`]: one input in, the actions that follow out.

use super::io::{Action, Input, OpId, ProcessEnd, RunId, StartOptions};
use super::op::{Member, MemberState, Op, OpKind};
use super::probe::startup_delay;
use super::service::{Engine, Mark, Phase, ProbeHealth};
use crate::config::Condition;
use crate::duration::compact;
use crate::timeout::startup_timeout;
use harness_api::{Phase as Reported, Progress, Summary};
use std::time::{Duration, Instant};

/// How long a service without a health check must stay up to count as
/// started: long enough to catch a command that fails at once (a typo, a
/// missing file, a port in use), short enough not to slow a stack down.
pub const SETTLE: Duration = Duration::from_millis(250);

/// Whether a dependency lets its dependent start.
enum DepState {
    Met,
    Pending,
    Broken(String),
}

impl Engine {
    /// Feeds one fact in; returns what must be done, in order.
    #[must_use = "the actions must be carried out"]
    pub fn step(&mut self, input: Input, now: Instant) -> Vec<Action> {
        let mut out = Vec::new();
        match input {
            Input::Start {
                op,
                targets,
                options,
            } => self.begin_start(op, &targets, options, now, &mut out),
            Input::Stop { op, targets } => self.begin_stop(op, &targets, now, &mut out),
            // A start stops starting when its client goes; a stop that has
            // begun always runs to the end, or services would be left half
            // stopped with their dependents already gone.
            Input::Cancel { op } => self
                .ops
                .retain(|o| o.id != op || matches!(o.kind, OpKind::Stop)),
            Input::Spawned { service, run, pid } => self.spawned(service, run, pid, now, &mut out),
            Input::Attached {
                service,
                run,
                pid,
                since,
            } => {
                self.svcs[service].wanted = true;
                self.svcs[service].phase = Phase::Spawning {
                    run,
                    stop_requested: false,
                };
                self.spawned(service, run, pid, since, &mut out);
                if let Phase::Up { since: s, .. } = &mut self.svcs[service].phase {
                    *s = since;
                }
                self.reschedule_probe(service, now, &mut out);
            }
            Input::SpawnFailed {
                service,
                run,
                reason,
            } => {
                if matches!(self.svcs[service].phase, Phase::Spawning { run: r, .. } if r == run) {
                    self.svcs[service].phase = Phase::Stopped;
                    self.fail_start(service, reason, now, &mut out);
                }
            }
            Input::Exited { service, run, end } => self.exited(service, run, end, now, &mut out),
            Input::Probed { service, run, ok } => self.probed(service, run, ok, now, &mut out),
            Input::Tick => {}
        }
        self.advance(now, &mut out);
        out
    }

    fn begin_start(
        &mut self,
        id: OpId,
        targets: &[usize],
        options: StartOptions,
        now: Instant,
        out: &mut Vec<Action>,
    ) {
        let members = self.graph.with_dependencies(targets);
        let mut op = Op {
            id,
            kind: OpKind::Start(options.clone()),
            started: now,
            members: Vec::new(),
        };
        for i in members {
            let svc_cfg = &self.config.services[i];
            let timeout = startup_timeout(
                options.timeout,
                svc_cfg.startup_timeout,
                self.config.settings.startup_timeout,
            );
            let svc = &mut self.svcs[i];
            svc.wanted = true;
            let state = match svc.phase {
                Phase::Up {
                    health: ProbeHealth::Healthy,
                    pid,
                    ..
                } => {
                    out.push(progress(
                        id,
                        self.graph.name(i),
                        Reported::Existing,
                        now,
                        now,
                        Some(pid),
                        "using existing (healthy)",
                    ));
                    MemberState::Settled(Reported::Existing)
                }
                Phase::Up { .. } | Phase::Spawning { .. } => MemberState::Acting,
                Phase::Stopped | Phase::Stopping { .. } => {
                    if !matches!(svc.mark, Mark::None) {
                        svc.mark = Mark::None;
                    }
                    out.push(progress(
                        id,
                        self.graph.name(i),
                        Reported::Waiting,
                        now,
                        now,
                        None,
                        "",
                    ));
                    MemberState::Waiting
                }
            };
            op.members.push(Member {
                service: i,
                deadline: now + timeout,
                state,
                forced: false,
            });
        }
        self.ops.push(op);
    }

    fn begin_stop(&mut self, id: OpId, targets: &[usize], now: Instant, out: &mut Vec<Action>) {
        let members = self.graph.with_dependents(targets);
        for op in self
            .ops
            .iter_mut()
            .filter(|o| matches!(o.kind, OpKind::Start(_)))
        {
            for m in op
                .members
                .iter_mut()
                .filter(|m| m.state == MemberState::Waiting)
            {
                if members.contains(&m.service) {
                    m.state = MemberState::Settled(Reported::Blocked);
                    out.push(progress(
                        op.id,
                        self.graph.name(m.service),
                        Reported::Blocked,
                        op.started,
                        now,
                        None,
                        "stop requested",
                    ));
                }
            }
        }
        let members = members
            .into_iter()
            .map(|i| {
                self.svcs[i].wanted = false;
                Member {
                    service: i,
                    deadline: now,
                    state: MemberState::Waiting,
                    forced: false,
                }
            })
            .collect();
        self.ops.push(Op {
            id,
            kind: OpKind::Stop,
            started: now,
            members,
        });
    }

    fn spawned(&mut self, i: usize, run: RunId, pid: u32, now: Instant, out: &mut Vec<Action>) {
        let Phase::Spawning {
            run: r,
            stop_requested,
        } = self.svcs[i].phase
        else {
            return;
        };
        if r != run {
            return;
        }
        let has_check = self.config.services[i].health_check.is_some();
        self.svcs[i].phase = Phase::Up {
            run,
            pid,
            since: now,
            health: ProbeHealth::Starting,
            fails: 0,
            attempts: 0,
        };
        for op in self.ops.iter().filter(|o| o.options().is_some()) {
            if op.member(i).is_some_and(|m| m.state == MemberState::Acting) {
                out.push(progress(
                    op.id,
                    self.graph.name(i),
                    Reported::Starting,
                    op.started,
                    now,
                    Some(pid),
                    "",
                ));
            }
        }
        if has_check {
            out.push(Action::Probe {
                service: i,
                run,
                at: now,
            });
        }
        if stop_requested {
            self.send_stop(i, out);
        }
    }

    fn exited(
        &mut self,
        i: usize,
        run: RunId,
        end: ProcessEnd,
        now: Instant,
        out: &mut Vec<Action>,
    ) {
        let svc = &mut self.svcs[i];
        match svc.phase {
            Phase::Stopping { run: r, .. } if r == run => {
                svc.phase = Phase::Stopped;
                svc.last_end = Some(end);
                svc.mark = Mark::None;
                out.push(self.transition(
                    i,
                    "stopping",
                    "stopped",
                    format!("stopped ({})", end.describe()),
                ));
            }
            Phase::Up { run: r, health, .. } if r == run => {
                svc.phase = Phase::Stopped;
                svc.last_end = Some(end);
                let starting = self.ops.iter().any(|o| {
                    o.options().is_some()
                        && o.member(i).is_some_and(|m| m.state == MemberState::Acting)
                });
                if starting && end.success() && self.is_completion_dependency(i) {
                    self.svcs[i].wanted = false;
                    self.svcs[i].mark = Mark::Exited(end);
                    self.settle_everywhere(i, Reported::Started, "completed", now, out);
                    out.push(self.transition(
                        i,
                        "starting",
                        "exited",
                        "completed (exit code 0)".into(),
                    ));
                } else if starting
                    || health == ProbeHealth::Starting && end != ProcessEnd::Exited(0)
                {
                    self.fail_start(i, end.describe(), now, out);
                } else {
                    self.svcs[i].mark = Mark::Exited(end);
                    let to = if end.success() { "exited" } else { "failed" };
                    out.push(self.transition(i, "running", to, end.describe()));
                }
            }
            _ => {}
        }
    }

    fn probed(&mut self, i: usize, run: RunId, ok: bool, now: Instant, out: &mut Vec<Action>) {
        let Some(check) = self.config.services[i].health_check.clone() else {
            return;
        };
        let Phase::Up {
            run: r,
            health,
            fails,
            attempts,
            ..
        } = &mut self.svcs[i].phase
        else {
            return;
        };
        if *r != run {
            return;
        }
        *attempts = attempts.saturating_add(1);
        let before = *health;
        if ok {
            *fails = 0;
            *health = ProbeHealth::Healthy;
        } else if *health == ProbeHealth::Healthy {
            *fails += 1;
            if *fails >= check.retries {
                *health = ProbeHealth::Unhealthy;
            }
        }
        let (after, attempts) = (*health, *attempts);
        let next = if after == ProbeHealth::Starting {
            now + startup_delay(&check, attempts)
        } else {
            now + check.interval
        };
        out.push(Action::Probe {
            service: i,
            run,
            at: next,
        });
        if before != after {
            let (from, to, why) = match (before, after) {
                (ProbeHealth::Starting, _) => ("starting", "running", "healthy".to_string()),
                (_, ProbeHealth::Healthy) => ("unhealthy", "running", "healthy again".to_string()),
                _ => (
                    "running",
                    "unhealthy",
                    format!("{} health checks failed", check.retries),
                ),
            };
            if after == ProbeHealth::Healthy && matches!(self.svcs[i].mark, Mark::TimedOut(_)) {
                self.svcs[i].mark = Mark::None;
            }
            out.push(self.transition(i, from, to, why));
        }
    }

    /// Settles every member, spawns what may start, stops what may stop,
    /// enforces deadlines, and closes finished operations — until nothing
    /// changes any more.
    fn advance(&mut self, now: Instant, out: &mut Vec<Action>) {
        self.settle_unchecked(now, out);
        loop {
            let mut changed = false;
            for k in 0..self.ops.len() {
                changed |= match self.ops[k].kind {
                    OpKind::Start(_) => self.advance_start(k, now, out),
                    OpKind::Stop => self.advance_stop(k, now, out),
                };
            }
            if !changed {
                break;
            }
        }
        let (done, open): (Vec<Op>, Vec<Op>) = std::mem::take(&mut self.ops)
            .into_iter()
            .partition(Op::settled);
        self.ops = open;
        for op in done {
            out.push(Action::Done {
                op: op.id,
                summary: self.summarize(&op, now),
            });
        }
    }

    /// A service without a health check is healthy once it has stayed up
    /// for [`SETTLE`]: one that dies at once has failed to start.
    fn settle_unchecked(&mut self, now: Instant, out: &mut Vec<Action>) {
        for i in 0..self.svcs.len() {
            if self.config.services[i].health_check.is_some() {
                continue;
            }
            if let Phase::Up {
                since,
                health: health @ ProbeHealth::Starting,
                ..
            } = &mut self.svcs[i].phase
                && now >= *since + SETTLE
            {
                *health = ProbeHealth::Healthy;
                out.push(self.transition(i, "starting", "running", "up (no health check)".into()));
            }
        }
    }

    fn advance_start(&mut self, k: usize, now: Instant, out: &mut Vec<Action>) -> bool {
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
                        Phase::Stopping { .. } => None,
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
                                }
                                None
                            }
                            DepState::Broken(why) => Some((Reported::Blocked, why)),
                            DepState::Pending if now >= m.deadline => {
                                Some((Reported::Blocked, self.pending_reason(k, m.service)))
                            }
                            DepState::Pending => None,
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

    fn acting_outcome(
        &mut self,
        m: &Member,
        options: &StartOptions,
        started: Instant,
        now: Instant,
    ) -> Option<(Reported, String)> {
        match self.svcs[m.service].phase {
            // A one-shot that others wait on with `condition: completed`
            // has its outcome only when it exits.
            Phase::Up { .. } if self.is_completion_dependency(m.service) && now < m.deadline => {
                None
            }
            Phase::Up { health, since, .. } => {
                let took = now.saturating_duration_since(since.max(started));
                if health == ProbeHealth::Healthy && m.forced {
                    Some((Reported::Warning, "started, deps unhealthy".into()))
                } else if health == ProbeHealth::Healthy {
                    Some((
                        Reported::Healthy,
                        format!("healthy in {}", crate::duration::human(took)),
                    ))
                } else if options.no_wait {
                    Some((Reported::Started, "started".into()))
                } else if now >= m.deadline {
                    let after = m.deadline.saturating_duration_since(started);
                    if let Phase::Up { health, .. } = &mut self.svcs[m.service].phase {
                        *health = ProbeHealth::Unhealthy;
                    }
                    if options.force {
                        Some((Reported::Warning, "started, health check failed".into()))
                    } else {
                        self.svcs[m.service].mark = Mark::TimedOut(after);
                        Some((
                            Reported::TimedOut,
                            format!("timeout after {}", compact(after.as_secs().max(1))),
                        ))
                    }
                } else {
                    None
                }
            }
            Phase::Spawning { .. } => None,
            Phase::Stopping { .. } | Phase::Stopped => {
                Some((Reported::Failed, "stopped while starting".into()))
            }
        }
    }

    fn settle(
        &mut self,
        k: usize,
        idx: usize,
        phase: Reported,
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
            .filter(|_| phase == Reported::Failed);
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
            Reported::Blocked => {
                self.svcs[service].mark = Mark::Blocked(detail.clone());
                out.push(self.transition(service, "stopped", "blocked", detail));
            }
            Reported::TimedOut => {
                out.push(self.transition(service, "starting", "unhealthy", detail));
            }
            _ => {}
        }
    }

    /// Settles service `i` as `phase` in every start operation acting on it.
    fn settle_everywhere(
        &mut self,
        i: usize,
        phase: Reported,
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

    fn fail_start(&mut self, i: usize, reason: String, now: Instant, out: &mut Vec<Action>) {
        self.svcs[i].mark = Mark::Failed(reason.clone());
        out.push(self.transition(i, "starting", "stopped", format!("failed: {reason}")));
        self.settle_everywhere(i, Reported::Failed, &reason, now, out);
    }

    fn spawn(&mut self, k: usize, idx: usize, forced: bool, out: &mut Vec<Action>) {
        let run = self.new_run();
        let m = &mut self.ops[k].members[idx];
        m.state = MemberState::Acting;
        m.forced = forced;
        let service = m.service;
        self.svcs[service].phase = Phase::Spawning {
            run,
            stop_requested: false,
        };
        self.svcs[service].mark = Mark::None;
        out.push(self.transition(
            service,
            "stopped",
            "starting",
            if forced {
                "start requested (forced: dependencies not up)".into()
            } else {
                "start requested".into()
            },
        ));
        out.push(Action::Spawn { service, run });
    }

    fn deps_settled(&self, k: usize, i: usize) -> bool {
        self.graph.deps(i).iter().all(|&(d, _)| {
            self.ops[k]
                .member(d)
                .is_none_or(|m| matches!(m.state, MemberState::Settled(_)))
        })
    }

    fn deps_state(&self, k: usize, i: usize, options: &StartOptions) -> DepState {
        let mut state = DepState::Met;
        for &(d, cond) in self.graph.deps(i) {
            let cond = if options.no_wait && cond == Condition::Healthy {
                Condition::Started
            } else {
                cond
            };
            match self.dep_state(k, d, cond) {
                DepState::Met => {}
                DepState::Pending => state = DepState::Pending,
                broken @ DepState::Broken(_) => return broken,
            }
        }
        state
    }

    fn dep_state(&self, k: usize, d: usize, cond: Condition) -> DepState {
        let name = self.graph.name(d);
        let settled = self.ops[k].member(d).and_then(|m| match m.state {
            MemberState::Settled(p) => Some(p),
            _ => None,
        });
        let broken = |what: &str| DepState::Broken(format!("dependency {what}: {name}"));
        match (self.svcs[d].phase, cond) {
            (Phase::Up { .. }, Condition::Started) => DepState::Met,
            (
                Phase::Up {
                    health: ProbeHealth::Healthy,
                    ..
                },
                Condition::Healthy,
            ) => DepState::Met,
            (Phase::Up { .. }, Condition::Healthy) => match settled {
                Some(Reported::TimedOut | Reported::Warning) => broken("unhealthy"),
                _ => DepState::Pending,
            },
            (Phase::Stopped, Condition::Completed)
                if self.svcs[d].last_end.is_some_and(ProcessEnd::success)
                    && matches!(self.svcs[d].mark, Mark::None | Mark::Exited(_)) =>
            {
                DepState::Met
            }
            (Phase::Stopped, _) => match settled {
                Some(Reported::Blocked) => broken("blocked"),
                Some(_) => broken("failed"),
                None if self.ops[k].member(d).is_none() => broken("not running"),
                None => DepState::Pending,
            },
            _ => DepState::Pending,
        }
    }

    fn pending_reason(&self, k: usize, i: usize) -> String {
        let waiting: Vec<&str> = self
            .graph
            .deps(i)
            .iter()
            .filter(|&&(d, c)| !matches!(self.dep_state(k, d, c), DepState::Met))
            .map(|&(d, _)| self.graph.name(d))
            .collect();
        format!("timed out waiting for {}", waiting.join(", "))
    }

    fn is_completion_dependency(&self, i: usize) -> bool {
        self.graph.dependents(i).iter().any(|&j| {
            self.graph
                .deps(j)
                .iter()
                .any(|&(d, c)| d == i && c == Condition::Completed)
        })
    }

    fn advance_stop(&mut self, k: usize, now: Instant, out: &mut Vec<Action>) -> bool {
        let mut changed = false;
        for idx in 0..self.ops[k].members.len() {
            let m = self.ops[k].members[idx].clone();
            let phase = self.svcs[m.service].phase;
            let (id, started) = (self.ops[k].id, self.ops[k].started);
            match (m.state, phase) {
                (MemberState::Settled(_), _) => {}
                (_, Phase::Stopped) => {
                    self.ops[k].members[idx].state = MemberState::Settled(Reported::Stopped);
                    if matches!(
                        self.svcs[m.service].mark,
                        Mark::Blocked(_) | Mark::TimedOut(_)
                    ) {
                        self.svcs[m.service].mark = Mark::None;
                    }
                    out.push(progress(
                        id,
                        self.graph.name(m.service),
                        Reported::Stopped,
                        started,
                        now,
                        None,
                        "",
                    ));
                    changed = true;
                }
                (MemberState::Waiting, _) => {
                    let dependents_down = self
                        .graph
                        .dependents(m.service)
                        .iter()
                        .all(|&j| self.svcs[j].phase == Phase::Stopped);
                    if dependents_down {
                        self.ops[k].members[idx].state = MemberState::Acting;
                        out.push(progress(
                            id,
                            self.graph.name(m.service),
                            Reported::Stopping,
                            started,
                            now,
                            None,
                            "",
                        ));
                        self.send_stop(m.service, out);
                        changed = true;
                    }
                }
                (MemberState::Acting, _) => {}
            }
        }
        changed
    }

    fn send_stop(&mut self, i: usize, out: &mut Vec<Action>) {
        let cfg = &self.config.services[i];
        let (signal, grace) = (cfg.stop_signal, cfg.stop_timeout);
        match self.svcs[i].phase {
            Phase::Up { run, pid, .. } => {
                self.svcs[i].phase = Phase::Stopping { run, pid };
                out.push(self.transition(i, "running", "stopping", "stop requested".into()));
                out.push(Action::Stop {
                    service: i,
                    run,
                    pid,
                    signal,
                    grace,
                });
            }
            Phase::Spawning { run, .. } => {
                self.svcs[i].phase = Phase::Spawning {
                    run,
                    stop_requested: true,
                };
            }
            Phase::Stopping { .. } | Phase::Stopped => {}
        }
    }

    fn reschedule_probe(&mut self, i: usize, now: Instant, out: &mut Vec<Action>) {
        if let (Phase::Up { run, .. }, Some(_)) =
            (self.svcs[i].phase, &self.config.services[i].health_check)
        {
            out.retain(|a| !matches!(a, Action::Probe { service, .. } if *service == i));
            out.push(Action::Probe {
                service: i,
                run,
                at: now,
            });
        }
    }

    fn summarize(&self, op: &Op, now: Instant) -> Summary {
        let mut s = Summary {
            elapsed: now.saturating_duration_since(op.started).as_secs_f64(),
            ..Summary::default()
        };
        for m in &op.members {
            let name = self.graph.name(m.service).to_string();
            match m.state {
                MemberState::Settled(
                    Reported::Healthy | Reported::Existing | Reported::Started,
                ) => s.started.push(name),
                MemberState::Settled(Reported::Warning) => s.warned.push(name),
                MemberState::Settled(Reported::Blocked) => s.blocked.push(name),
                MemberState::Settled(Reported::Stopped) => s.stopped.push(name),
                _ => s.failed.push(name),
            }
        }
        s.success = s.failed.is_empty() && s.blocked.is_empty();
        s
    }

    pub(crate) fn transition(
        &self,
        i: usize,
        from: &'static str,
        to: &'static str,
        reason: String,
    ) -> Action {
        Action::Transition {
            service: i,
            from,
            to,
            reason,
        }
    }
}

fn progress(
    op: OpId,
    name: &str,
    phase: Reported,
    started: Instant,
    now: Instant,
    pid: Option<u32>,
    detail: &str,
) -> Action {
    Action::Progress {
        op,
        progress: Progress {
            service: name.to_string(),
            phase,
            elapsed_ms: now.saturating_duration_since(started).as_millis() as u64,
            pid,
            exit_code: None,
            detail: detail.to_string(),
        },
    }
}
