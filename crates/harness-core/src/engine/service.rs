//! The engine and the state it keeps per service.

use super::definition::Definition;
use super::history::HistoryState;
use super::io::{ProcessEnd, RunId};
use super::op::Op;
use super::spec::RunSpec;
use super::transition::{KillForRestart, Move};
use crate::config::Config;
use crate::graph::Graph;
use crate::restart_policy::Tracker;
use std::time::{Duration, Instant};

/// What a service's process is doing, with the data each state needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// No process.
    Stopped,
    /// A spawn was asked for and has not been confirmed.
    Spawning {
        /// The run being spawned.
        run: RunId,
        /// It is an automatic restart.
        restart: bool,
        /// A stop arrived meanwhile: stop it as soon as it is up.
        stop_requested: bool,
    },
    /// The process runs.
    Up {
        /// The run.
        run: RunId,
        /// Main process id.
        pid: u32,
        /// When it started.
        since: Instant,
        /// What the probe says.
        health: ProbeHealth,
        /// Consecutive failed probes.
        fails: u32,
        /// Probes so far in this run (sets the fast start-up cadence).
        attempts: u32,
        /// Consecutive failed liveness probes.
        live_fails: u32,
        /// The startup probe has passed (or there is none): the other
        /// probes run.
        started: bool,
        /// It is an automatic restart that has not come up yet.
        restarting: bool,
        /// With a watchdog, once ready: when the next `WATCHDOG=1` is due.
        watchdog_due: Option<Instant>,
    },
    /// A stop was sent.
    Stopping {
        /// The run.
        run: RunId,
        /// Main process id.
        pid: u32,
        /// harness stops it to restart it (liveness, startup, watchdog):
        /// its end goes through the restart policy as a failed run.
        restart: Option<KillForRestart>,
    },
    /// Ended on its own; waiting out the backoff before a restart.
    Backoff {
        /// When the restart is spawned.
        until: Instant,
        /// Restarts within the window, this one included.
        attempt: u32,
        /// The limit (0: none).
        max: u32,
    },
}

/// Health as judged from probe results.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbeHealth {
    /// Not yet passed.
    Starting,
    /// Passed.
    Healthy,
    /// Failed `retries` times in a row after passing, or did not pass in time.
    Unhealthy,
}

impl Phase {
    /// The run it has, if it has one (spawning, up or stopping).
    pub fn run(&self) -> Option<RunId> {
        match *self {
            Phase::Spawning { run, .. } | Phase::Up { run, .. } | Phase::Stopping { run, .. } => {
                Some(run)
            }
            Phase::Stopped | Phase::Backoff { .. } => None,
        }
    }
}

/// Why a service is not simply running or cleanly stopped; shown in notes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Verdict {
    /// Nothing to say.
    #[default]
    None,
    /// It failed to start.
    Failed(String),
    /// It was not started: a dependency is not up.
    Blocked(String),
    /// It did not become healthy in time (still running).
    TimedOut(Duration),
    /// It ended on its own after having started.
    Exited(ProcessEnd),
    /// It was restarted too often and is given up on until a person
    /// starts it; how its last run ended.
    GaveUp(ProcessEnd),
}

#[derive(Debug, Clone)]
pub(crate) struct ServiceState {
    pub phase: Phase,
    pub last_end: Option<ProcessEnd>,
    pub verdict: Verdict,
    /// Asked to run (by a start) and not asked to stop since.
    pub wanted: bool,
    /// Automatic restart bookkeeping.
    pub tracker: Tracker,
    /// The last `STATUS=` the service sent.
    pub status_text: Option<String>,
    /// The state the history's last row recorded.
    pub recorded: HistoryState,
    /// What its current (or last) run was spawned with; `None` for a run
    /// recorded before prints were kept.
    pub running: Option<Definition>,
    /// The spec its current (or last) run was spawned with by this
    /// daemon: what an automatic restart runs again, and what a failed
    /// deploy goes back to. `None` for a run re-attached from a record.
    pub spec: Option<RunSpec>,
    /// The last deploy of it failed ("deploy 3 failed: exit code 7"):
    /// until one commits, the plan says `drifted` and status says so.
    pub drift: Option<String>,
    /// The run a start-first deploy keeps beside its new one.
    pub beside: Option<super::beside::Beside>,
    /// The definition whose checks (`health_check`, `liveness`, `startup`,
    /// `ready`) judge its run, when that is not the config's: the version
    /// a failed deploy went back to is judged as it was, not by the new
    /// file's checks it never had.
    pub judged_by: Option<Box<crate::config::Service>>,
    /// The definition its run was judged by when it was spawned: what a
    /// deploy that goes back to this run judges it by again (a reload
    /// since may have put other checks in force).
    pub started_as: Option<Box<crate::config::Service>>,
    /// An instance of it that harness did not start, as the runtime last
    /// saw one while harness ran none: it stands for the service (its
    /// dependents take it), and harness starts no second one beside it.
    pub external: Option<super::io::ExternalInstance>,
    /// The run that is a process harness adopted rather than spawned
    /// (while it is the service's run).
    pub adopted: Option<RunId>,
}

/// What the engine knows of a service apart from its process: how its last
/// start or run ended, whether it is wanted up, and its restart policy's
/// memory. The runtime keeps it in the store so that a new daemon still
/// knows what failed and what was blocked (`start --failed`, status notes),
/// and neither forgets a restart that was due nor starts a crash loop's
/// count over.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Outcome {
    /// Failed, blocked, timed out, exited, or nothing to say.
    pub verdict: Verdict,
    /// How its last run ended.
    pub last_end: Option<ProcessEnd>,
    /// Asked to run and not asked to stop since.
    pub wanted: bool,
    /// Backoff streak, restarts within the window, total restarts.
    pub restarts: Tracker,
    /// The restart it is backing off towards, if any.
    pub backoff: Option<Backoff>,
    /// How its last deploy failed, until one commits (the plan's
    /// `drifted`).
    pub drift: Option<String>,
}

/// Why a changed config cannot be taken now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReloadError {
    /// A start, stop or deploy is in progress.
    Busy,
}

impl std::fmt::Display for ReloadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReloadError::Busy => f.write_str(
                "the config file changed while a start, stop or deploy is in progress; \
                 try again when it is done (it runs with the config it began with)",
            ),
        }
    }
}

/// A restart that is due at `until`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// When the restart is spawned.
    pub until: Instant,
    /// Restarts within the window, this one included.
    pub attempt: u32,
    /// The limit (0: none).
    pub max: u32,
}

impl ServiceState {
    fn backoff(&self) -> Option<Backoff> {
        match self.phase {
            Phase::Backoff {
                until,
                attempt,
                max,
            } => Some(Backoff {
                until,
                attempt,
                max,
            }),
            _ => None,
        }
    }
}

/// The state machine over all services of one project.
#[derive(Debug, Clone)]
pub struct Engine {
    pub(crate) config: Config,
    pub(crate) graph: Graph,
    pub(crate) svcs: Vec<ServiceState>,
    pub(crate) ops: Vec<Op>,
    pub(crate) next_run: RunId,
    /// Services in the config that the file does not have: kept while
    /// they have a process, dropped once down ([`Engine::drop_removed`]).
    pub(crate) removed: std::collections::BTreeSet<String>,
    /// Where each job that services wait for stands, as far as starts are
    /// concerned: asked to run by a start, or how its last run ended.
    pub(crate) jobs: std::collections::BTreeMap<String, JobStanding>,
}

/// Where a job that services wait for stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobStanding {
    /// A start asked for it to run; it has not ended yet.
    Running,
    /// Its last run completed.
    Completed,
    /// Its last run did not complete: how it ended.
    Failed(String),
}

impl Engine {
    /// An engine for `config` with every service stopped. `first_run` is
    /// the first run id to hand out (the runtime keeps ids unique across
    /// daemon restarts).
    pub fn new(config: Config, first_run: RunId) -> Self {
        let graph = Graph::new(&config);
        let svcs = config
            .services
            .iter()
            .map(|_| ServiceState {
                phase: Phase::Stopped,
                last_end: None,
                verdict: Verdict::None,
                wanted: false,
                tracker: Tracker::default(),
                status_text: None,
                recorded: HistoryState::Stopped,
                running: None,
                spec: None,
                drift: None,
                beside: None,
                judged_by: None,
                started_as: None,
                external: None,
                adopted: None,
            })
            .collect();
        Engine {
            config,
            graph,
            svcs,
            ops: Vec::new(),
            next_run: first_run,
            removed: Default::default(),
            jobs: Default::default(),
        }
    }

    /// The config in force.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The dependency graph.
    pub fn graph(&self) -> &Graph {
        &self.graph
    }

    /// The definition service `i`'s run is judged by: its checks and how
    /// it says it is ready (see `ServiceState::judged_by`).
    pub(crate) fn def(&self, i: usize) -> &crate::config::Service {
        self.svcs[i]
            .judged_by
            .as_deref()
            .unwrap_or(&self.config.services[i])
    }

    /// The phase of service `i`.
    pub fn phase(&self, i: usize) -> Phase {
        self.svcs[i].phase
    }

    /// The instance of service `i` running outside harness, as last seen.
    pub fn external(&self, i: usize) -> Option<super::io::ExternalInstance> {
        self.svcs[i].external
    }

    /// What run `run` of service `i` runs, while it is the service's run:
    /// how a runtime that re-attached to it watches it (its notify
    /// socket): the spec it was spawned with, or (found by a new daemon)
    /// the config's. A run set aside by a start-first deploy is not the
    /// service's run and has none here.
    pub fn run_spec(&self, i: usize, run: RunId) -> Option<RunSpec> {
        let svc = &self.svcs[i];
        (svc.phase.run() == Some(run)).then(|| {
            svc.spec
                .clone()
                .unwrap_or_else(|| RunSpec::of(&self.config.services[i]))
        })
    }

    /// How service `i`'s run differs from its definition in the config
    /// ("command changed"); empty when it has no run, when they match, or
    /// when the run's print is not known.
    pub fn changes(&self, i: usize) -> Vec<String> {
        self.changes_against(i, &self.config)
    }

    /// How service `i`'s run differs from its definition in `file` (the
    /// config file as it is now, which the engine may not have taken yet):
    /// "removed from the file" when `file` has no such service.
    pub fn changes_against(&self, i: usize, file: &Config) -> Vec<String> {
        let svc = &self.svcs[i];
        let (Some(_), Some(running)) = (svc.phase.run(), &svc.running) else {
            return Vec::new();
        };
        match file.service(self.graph.name(i)) {
            Some(def) => running.changes(&Definition::of(&RunSpec::of(def))),
            None => vec!["removed from the file".to_string()],
        }
    }

    /// What the engine knows of service `i` apart from its process.
    pub fn outcome(&self, i: usize) -> Outcome {
        let s = &self.svcs[i];
        Outcome {
            verdict: s.verdict.clone(),
            last_end: s.last_end,
            wanted: s.wanted,
            restarts: s.tracker.clone(),
            backoff: s.backoff(),
            drift: s.drift.clone(),
        }
    }

    /// Whether `o` is what the engine knows of service `i` (no copy).
    pub fn outcome_is(&self, i: usize, o: &Outcome) -> bool {
        let s = &self.svcs[i];
        s.verdict == o.verdict
            && s.last_end == o.last_end
            && s.wanted == o.wanted
            && s.tracker == o.restarts
            && s.backoff() == o.backoff
            && s.drift == o.drift
    }

    /// Restores what an earlier daemon knew of service `i`; call before
    /// re-attaching its run, if any. A restart that was due (the service
    /// was backing off) is due again, at the same time — unless the
    /// config's policy now says `never`. Saved times come from the wall
    /// clock, which can be stepped: none is taken as later than `now`
    /// (a restart) or than `now` plus the longest backoff (a due restart).
    pub fn restore(&mut self, i: usize, o: Outcome, now: Instant) {
        let policy = &self.config.services[i].restart;
        let restarts = policy.policy != crate::config::RestartPolicy::Never;
        let backoff_max = policy.backoff_max;
        let s = &mut self.svcs[i];
        s.verdict = o.verdict;
        s.last_end = o.last_end;
        s.wanted = o.wanted;
        s.drift = o.drift;
        s.tracker = Tracker::from_parts(
            o.restarts.streak,
            o.restarts.total,
            o.restarts.recent().map(|t| t.min(now)),
        );
        if let (Some(b), true, true) = (o.backoff, o.wanted, restarts) {
            let until = b.until.min(now + backoff_max);
            self.apply(i, Move::BackOff(Backoff { until, ..b }));
        }
    }

    /// The listening sockets (`socket.tcp`) service `i`'s runs need: its
    /// run's, while it has one or a restart is due, and the one set
    /// aside's. The runtime closes every other: a stopped service's port,
    /// or one a new version no longer listens on.
    pub fn sockets_in_use(&self, i: usize) -> Vec<std::net::SocketAddr> {
        let s = &self.svcs[i];
        let defined = self.config.services[i].socket.map(|(a, _)| a);
        let of = |spec: Option<&RunSpec>| spec.map_or(defined, |spec| spec.socket);
        let run = (!matches!(s.phase, Phase::Stopped))
            .then(|| of(s.spec.as_ref()))
            .flatten();
        let aside = s.beside.as_ref().and_then(|b| of(b.spec.as_ref()));
        run.into_iter().chain(aside).collect()
    }

    /// Whether any operation is in progress.
    pub fn busy(&self) -> bool {
        !self.ops.is_empty()
    }

    /// Whether nothing happens: no operation, no process, no restart due.
    /// Only then may the daemon make way for one serving another file.
    pub fn idle(&self) -> bool {
        !self.busy()
            && self
                .svcs
                .iter()
                .all(|s| matches!(s.phase, Phase::Stopped) && s.beside.is_none())
    }

    /// Takes the config file as it is now, keeping the state of services
    /// whose names stay. A service gone from the file that still has a
    /// process (or a restart due) stays too, as it was, until it is
    /// stopped: harness never loses track of what it runs. Refused while
    /// an operation runs (its members would change under it).
    pub fn reload(&mut self, file: Config) -> Result<(), ReloadError> {
        if self.busy() {
            return Err(ReloadError::Busy);
        }
        self.take_merged(&file, &|_| true);
        Ok(())
    }

    /// Whether service `name` is in force only because it still runs: the
    /// file has it no more.
    pub fn is_gone_from_file(&self, name: &str) -> bool {
        self.removed.contains(name)
    }

    /// Keeps a service gone from the file whose run (spawned with
    /// `print`) a new daemon found alive, so that it is shown, stoppable,
    /// and stopped by the next deploy, never lost (see
    /// [`Service::left_over`]). Call right before feeding its run's
    /// `Attached`: until then it is down, and down services gone from the
    /// file are dropped after every step.
    pub fn keep_left_over(&mut self, name: &str, print: Option<&Definition>) {
        if self.graph.index(name).is_some() {
            return;
        }
        let signal = print
            .and_then(Definition::stop_signal)
            .unwrap_or(crate::config::StopSignal::Term);
        let mut config = self.config.clone();
        config
            .services
            .push(crate::config::Service::left_over(name, signal));
        self.swap_config(config);
        self.removed.insert(name.to_string());
    }

    /// The config in force becomes `config`; state moves with the names.
    pub(crate) fn swap_config(&mut self, config: Config) {
        let mut next = Engine::new(config, self.next_run);
        for (i, svc) in next.config.services.iter().enumerate() {
            if let Some(old) = self.graph.index(&svc.name) {
                next.svcs[i] = self.svcs[old].clone();
            }
        }
        next.ops = std::mem::take(&mut self.ops);
        next.removed = std::mem::take(&mut self.removed);
        next.jobs = std::mem::take(&mut self.jobs);
        next.removed.retain(|n| next.graph.index(n).is_some());
        *self = next;
    }

    /// The earliest moment the engine wants a [`super::Input::Tick`].
    pub fn next_deadline(&self) -> Option<Instant> {
        let settling = self
            .svcs
            .iter()
            .enumerate()
            .filter_map(|(i, s)| match s.phase {
                Phase::Up {
                    since,
                    health: ProbeHealth::Starting,
                    started: true,
                    ..
                } if self.def(i).health_check.is_none() && self.def(i).ready.is_none() => {
                    Some(since + super::step::SETTLE)
                }
                _ => None,
            });
        let restarts = self.svcs.iter().filter_map(|s| match s.phase {
            Phase::Backoff { until, .. } => Some(until),
            Phase::Up { watchdog_due, .. } => watchdog_due,
            _ => None,
        });
        self.ops
            .iter()
            .filter_map(Op::next_deadline)
            .chain(settling)
            .chain(restarts)
            .min()
    }

    /// A run id for a process that is not a service's (a job's step):
    /// from the same counter, so no two runs ever share one.
    pub fn take_run_id(&mut self) -> RunId {
        self.new_run()
    }

    pub(crate) fn new_run(&mut self) -> RunId {
        let run = self.next_run;
        self.next_run.0 += 1;
        run
    }
}
