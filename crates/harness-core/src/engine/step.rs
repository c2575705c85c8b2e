//! [`Engine::step`]: one input in, the actions that follow out.

use super::auto_restart::{RunEnd, health_event};
use super::history::HistoryState;
use super::io::{Action, HealthEvent, Input, OpId, ProbeKind, ProcessEnd, RunId, ServiceId};
use super::op::{MemberState, Op, OpKind};
use super::probe_cadence::startup_delay;
use super::service::{Engine, Phase, ProbeHealth, Verdict};
use super::transition::Move;
use crate::config::StopSignal;
use crate::report::{Progress, Stage, Summary, WarningReason};
use std::time::{Duration, Instant};

/// How long a service without a health check must stay up to count as
/// started: long enough to catch a command that fails at once (a typo, a
/// missing file, a port in use), short enough not to slow a stack down.
pub const SETTLE: Duration = Duration::from_millis(250);

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
            } => self.begin_start(op, &indices(&targets), options, now, &mut out),
            Input::Stop {
                op,
                targets,
                options,
            } => self.begin_stop(op, &indices(&targets), options, None, now, &mut out),
            Input::Deploy {
                op,
                file,
                plan,
                options,
            } => self.begin_deploy(op, *file, plan, options, now, &mut out),
            // A start stops starting when its client goes; a stop that has
            // begun always runs to the end, or services would be left half
            // stopped with their dependents already gone. A deploy begins
            // no further service; the ones under way finish (or go back).
            Input::Cancel { op } => {
                self.cancel_deploy(op, &mut out);
                self.ops
                    .retain(|o| o.id != op || !matches!(o.kind, OpKind::Start(_)));
            }
            Input::Attached { service, found } => self.attached(service.0, found, now, &mut out),
            Input::AttachedBeside { service, found } => {
                self.attached_beside(service.0, found, &mut out)
            }
            Input::External { seen } => {
                for (service, found) in seen {
                    // Only while harness runs none of its own: its own run
                    // is the service, whatever else listens.
                    if let Some(svc) = self.svcs.get_mut(service.0)
                        && matches!(svc.phase, Phase::Stopped)
                    {
                        svc.external = found;
                    }
                }
            }
            Input::Adopt {
                service,
                pid,
                start_time,
            } => self.adopt(service.0, pid, start_time, now, &mut out),
            Input::Tick => {}
            Input::JobSettled {
                job,
                completed,
                detail,
            } => {
                let standing = match completed {
                    true => super::service::JobStanding::Completed,
                    false => super::service::JobStanding::Failed(detail),
                };
                self.jobs.insert(job, standing);
            }
            fact => self.run_fact(fact, now, &mut out),
        }
        self.advance(now, &mut out);
        out
    }

    /// A fact about one run, handed to the service whose run it is. Facts
    /// go by their run, which is never reused, not by the service's place
    /// in the config, which a reload may change: a fact about a run no
    /// service has any more is stale and ignored.
    fn run_fact(&mut self, fact: Input, now: Instant, out: &mut Vec<Action>) {
        let run = match &fact {
            Input::Spawned { run, .. }
            | Input::SpawnFailed { run, .. }
            | Input::Exited { run, .. }
            | Input::Probed { run, .. }
            | Input::Notified { run, .. } => *run,
            _ => return,
        };
        let Some(i) = self.svcs.iter().position(|s| s.phase.run() == Some(run)) else {
            // A run set aside by a start-first deploy: its end is all that
            // counts (its probes and messages are no longer the service's).
            if let Input::Exited { .. } = fact {
                self.beside_ended(run);
            }
            return;
        };
        match fact {
            Input::Spawned { pid, .. } => self.spawned(i, run, pid, now, out),
            Input::SpawnFailed { reason, .. } => self.spawn_failed(i, run, reason, now, out),
            Input::Exited { end, .. } => self.exited(i, run, end, now, out),
            Input::Probed { kind, ok, .. } => match kind {
                ProbeKind::Ready => self.probed(i, run, ok, now, out),
                ProbeKind::Live => self.probed_live(i, run, ok, now, out),
                ProbeKind::Startup => self.probed_startup(i, run, ok, now, out),
            },
            Input::Notified { message, .. } => self.notified(i, run, message, now, out),
            _ => {}
        }
    }

    pub(super) fn exited(
        &mut self,
        i: usize,
        run: RunId,
        end: ProcessEnd,
        now: Instant,
        out: &mut Vec<Action>,
    ) {
        let before = self.svcs[i].phase;
        if !self.apply(i, Move::Ended { run }) {
            return; // a stale fact about another run
        }
        let svc = &mut self.svcs[i];
        svc.last_end = Some(end);
        match before {
            Phase::Stopping { restart, .. } => {
                svc.verdict = Verdict::None;
                if let Some(kill) = restart {
                    if self.deploy_run_ended(i, end, &kill.why.describe(), out) {
                        return;
                    }
                    // harness stopped it to restart it: a failed run.
                    let (why, health) = (kill.why.describe(), ProbeHealth::Unhealthy);
                    let e = RunEnd {
                        end,
                        why,
                        forced_failure: true,
                        since: kill.since,
                        health,
                    };
                    self.ended_on_its_own(i, e, now, out);
                    return;
                }
                let why = stopped_on_request(end, self.run_stop_signal(i));
                self.record(i, HistoryState::Stopped, why, None, out);
            }
            Phase::Up { health, since, .. } => self.ended_while_up(i, end, since, health, now, out),
            // The machine lets only a run that is up or stopping end.
            Phase::Stopped | Phase::Spawning { .. } | Phase::Backoff { .. } => {}
        }
    }

    /// A run that was up ended: a one-shot a start waits on completed, a
    /// start waiting on it failed, or (nobody waiting) its restart policy
    /// decides.
    fn ended_while_up(
        &mut self,
        i: usize,
        end: ProcessEnd,
        since: Instant,
        health: ProbeHealth,
        now: Instant,
        out: &mut Vec<Action>,
    ) {
        if self.deploy_run_ended(i, end, &end.describe(), out) {
            return;
        }
        let starting = self.ops.iter().any(|o| {
            o.options().is_some() && o.member(i).is_some_and(|m| m.state == MemberState::Acting)
        });
        if starting && end.success() && self.is_completion_dependency(i) {
            self.svcs[i].wanted = false;
            self.svcs[i].verdict = Verdict::Exited(end);
            self.settle_everywhere(i, Stage::Started, "completed", now, out);
            let why = "completed (exit code 0)".to_string();
            self.record(i, HistoryState::Exited, why, None, out);
        } else if starting {
            // Someone is waiting on this start: say so at once rather
            // than retrying behind their back.
            self.fail_start(i, end.describe(), now, out);
        } else {
            let e = RunEnd {
                end,
                why: end.describe(),
                forced_failure: false,
                since,
                health,
            };
            self.ended_on_its_own(i, e, now, out);
        }
    }

    fn probed(&mut self, i: usize, run: RunId, ok: bool, now: Instant, out: &mut Vec<Action>) {
        let Some(check) = self.def(i).health_check.clone() else {
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
        self.push_probe(i, run, ProbeKind::Ready, next, out);
        if before != after {
            if after == ProbeHealth::Healthy && matches!(self.svcs[i].verdict, Verdict::TimedOut(_))
            {
                self.svcs[i].verdict = Verdict::None;
            }
            match (before, after) {
                (ProbeHealth::Starting, _) => {
                    self.came_up(i, "healthy".into(), "healthy".into(), out);
                }
                (_, ProbeHealth::Healthy) => {
                    let why = "healthy again".to_string();
                    self.record(i, HistoryState::Running, why, None, out);
                }
                _ => {
                    let why = format!("{} health checks failed", check.retries);
                    self.record(i, HistoryState::Unhealthy, why.clone(), None, out);
                    out.push(health_event(i, HealthEvent::Unhealthy(why)));
                }
            }
        }
    }

    /// Service `i` is up: `first` says how, or after an automatic restart
    /// "restarted successfully (`how`)" with its health-log line.
    pub(super) fn came_up(&mut self, i: usize, first: String, how: String, out: &mut Vec<Action>) {
        let restarted = match &mut self.svcs[i].phase {
            Phase::Up { restarting, .. } => std::mem::take(restarting),
            _ => false,
        };
        if restarted {
            let why = format!("restarted successfully ({how})");
            self.record(i, HistoryState::Running, why, None, out);
            out.push(health_event(i, HealthEvent::Restarted(how)));
        } else if self.svcs[i].recorded != HistoryState::Running {
            // (A run re-attached by a new daemon may already be running
            // as far as the history knows: then there is nothing to add.)
            self.record(i, HistoryState::Running, first, None, out);
        }
    }

    /// Settles every member, spawns what may start, stops what may stop,
    /// enforces deadlines, and closes finished operations — until nothing
    /// changes any more.
    fn advance(&mut self, now: Instant, out: &mut Vec<Action>) {
        self.fire_restarts(now, out);
        self.check_watchdogs(now, out);
        self.settle_unchecked(now, out);
        loop {
            self.advance_ops(now, out);
            let (done, open): (Vec<Op>, Vec<Op>) = std::mem::take(&mut self.ops)
                .into_iter()
                .partition(Op::settled);
            self.ops = open;
            if done.is_empty() {
                break;
            }
            // Closing may open a recovery's stop: advance again.
            for op in done {
                if op.deploy().is_some() {
                    self.close_deploy(op, now, out);
                } else {
                    self.close(op, now, out);
                }
            }
        }
    }

    fn advance_ops(&mut self, now: Instant, out: &mut Vec<Action>) {
        loop {
            let mut changed = false;
            for k in 0..self.ops.len() {
                changed |= match self.ops[k].kind {
                    OpKind::Start(_) => self.advance_start(k, now, out),
                    OpKind::Stop(_) => self.advance_stop(k, now, out),
                    OpKind::Deploy(_) => self.advance_deploy(k, now, out),
                };
            }
            if !changed {
                break;
            }
        }
    }

    /// A service without a health check is healthy once it has stayed up
    /// for [`SETTLE`]: one that dies at once has failed to start.
    fn settle_unchecked(&mut self, now: Instant, out: &mut Vec<Action>) {
        for i in 0..self.svcs.len() {
            let cfg = self.def(i);
            if cfg.health_check.is_some() || cfg.ready.is_some() {
                continue;
            }
            if let Phase::Up {
                since,
                health: health @ ProbeHealth::Starting,
                started: true,
                ..
            } = &mut self.svcs[i].phase
                && now >= *since + SETTLE
            {
                *health = ProbeHealth::Healthy;
                self.came_up(
                    i,
                    "up (no health check)".into(),
                    "no health check".into(),
                    out,
                );
            }
        }
    }

    pub(super) fn summarize(&self, op: &Op, now: Instant) -> Summary {
        let mut s = Summary {
            elapsed: now.saturating_duration_since(op.started),
            ..Summary::default()
        };
        for m in &op.members {
            let name = self.graph.name(m.service).to_string();
            // Up once, and asked to stop since, by a stop that came while
            // this start ran (it may still be taking it down, dependents
            // first): not "started" any more.
            // (A one-shot that completed is not wanted either: it ended on
            // its own, and says so as Exited.)
            let svc = &self.svcs[m.service];
            let stopped_since = !svc.wanted && !matches!(svc.verdict, Verdict::Exited(_));
            match m.state {
                MemberState::Settled(
                    Stage::Existing | Stage::Healthy | Stage::Started | Stage::Warning,
                ) if stopped_since => s.stopped.push(name),
                MemberState::Settled(Stage::Existing) => {
                    s.existing.push(name.clone());
                    s.started.push(name);
                }
                MemberState::Settled(Stage::Healthy | Stage::Started) => s.started.push(name),
                MemberState::Settled(Stage::Warning) => {
                    // Started past its dependencies, or not healthy in time.
                    let why = if m.forced {
                        WarningReason::DependenciesNotHealthy
                    } else {
                        WarningReason::NotHealthy
                    };
                    s.warned.push((name, why));
                }
                MemberState::Settled(Stage::Blocked) => s.blocked.push(name),
                // Only what this stop stopped: one already down is not.
                MemberState::Settled(Stage::Stopped) if m.found_running => s.stopped.push(name),
                // Harness cannot stop what it did not start.
                MemberState::Settled(Stage::Stopped) if svc.external.is_some() => {
                    s.left_running.push(name)
                }
                MemberState::Settled(Stage::Stopped) => {}
                _ => s.failed.push(name),
            }
        }
        s.success = s.failed.is_empty() && s.blocked.is_empty();
        s
    }
}

/// Places in the config, for the engine's own indexing.
fn indices(ids: &[ServiceId]) -> Vec<usize> {
    ids.iter().map(|s| s.index()).collect()
}

/// Why a run that harness was stopping ended: the stop was asked for, and
/// what ended it — the stop signal, or the SIGKILL that followed it.
pub(super) fn stopped_on_request(end: ProcessEnd, signal: StopSignal) -> String {
    let how = match end {
        ProcessEnd::Signaled(s) if s == signal.number() => signal.name().to_string(),
        ProcessEnd::Signaled(s) if s == StopSignal::Kill.number() => {
            format!("SIGKILL after {}", signal.name())
        }
        ProcessEnd::Signaled(s) => format!("signal {s}"),
        ProcessEnd::Exited(c) => format!("exit code {c}"),
        ProcessEnd::Lost => "an unseen end (exit status lost)".to_string(),
        ProcessEnd::NotSpawned => "a failed spawn".to_string(),
        ProcessEnd::Unknown => "an end harness could not see (adopted)".to_string(),
    };
    format!("stop requested; ended by {how}")
}

pub(super) fn progress(
    op: OpId,
    name: &str,
    stage: Stage,
    started: Instant,
    now: Instant,
    pid: Option<u32>,
    detail: &str,
) -> Action {
    Action::Progress {
        op,
        progress: Progress {
            service: name.to_string(),
            stage,
            elapsed: now.saturating_duration_since(started),
            pid,
            exit_code: None,
            detail: detail.to_string(),
        },
    }
}
