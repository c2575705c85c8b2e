//! The engine, driven input by input with time as a value: the rig and
//! the stacks the tests share; one file per topic.

use super::*;
use crate::config::parse;
use crate::report::{Health, Stage as P, Status, SystemState, WarningReason};
use crate::restart_policy::Tracker;
use std::time::{Duration, Instant};

mod adopt;
mod attach;
mod deploy;
mod deploy_plan;
mod external;
mod history;
mod interrupted;
mod machine;
mod plan;
mod probes;
mod recovery;
mod restart;
mod start;
mod stop;
mod targets;

const STACK: &str = r#"
services:
  postgres:
    command: postgres
    health_check: { tcp: "127.0.0.1:5432" }
  api:
    command: ./api
    depends_on: [postgres]
    health_check: { http: "http://127.0.0.1:8080/health" }
    startup_timeout: 30
  worker:
    command: ./worker
    depends_on: [api]
  cache:
    command: redis-server
"#;

struct Rig {
    engine: Engine,
    t0: Instant,
    now: Instant,
    log: Vec<Action>,
    /// The state each service's last history row recorded.
    recorded: std::collections::HashMap<usize, HistoryState>,
}

impl Rig {
    fn new(yaml: &str) -> Self {
        let config = parse(yaml, "services.yaml").expect("valid config");
        let t0 = Instant::now();
        Rig {
            engine: Engine::new(config, RunId(1)),
            t0,
            now: t0,
            log: Vec::new(),
            recorded: Default::default(),
        }
    }
    fn idx(&self, name: &str) -> usize {
        self.engine.graph().index(name).unwrap()
    }
    fn at(&mut self, ms: u64) -> &mut Self {
        self.now = self.t0 + Duration::from_millis(ms);
        self
    }
    /// Steps the engine. Every test checks the history's chain on the
    /// way: each row starts where the service's previous row ended.
    fn feed(&mut self, input: Input) -> Vec<Action> {
        let out = self.engine.step(input, self.now);
        for a in &out {
            if let Action::Transition {
                service, from, to, ..
            } = a
            {
                let last = self.recorded.insert(service.0, *to);
                assert_eq!(
                    *from,
                    last.unwrap_or(HistoryState::Stopped),
                    "broken history chain for service {service}: {a:?}"
                );
            }
        }
        self.log.extend(out.clone());
        out
    }
    fn start(&mut self, names: &[&str], options: StartOptions) -> Vec<Action> {
        let targets = names.iter().map(|n| ServiceId(self.idx(n))).collect();
        self.feed(Input::Start {
            op: OpId(1),
            targets,
            options,
        })
    }
    /// Spawns confirmed for every Spawn in `actions`, returning the new actions.
    fn confirm(&mut self, actions: &[Action]) -> Vec<Action> {
        let mut out = Vec::new();
        for a in actions {
            if let Action::Spawn { service, run, .. } = a {
                out.extend(self.feed(Input::Spawned {
                    service: *service,
                    run: *run,
                    pid: 1000 + service.0 as u32,
                }));
            }
        }
        out
    }
    fn run_of(&self, name: &str) -> RunId {
        match self.engine.phase(self.idx(name)) {
            Phase::Up { run, .. } | Phase::Spawning { run, .. } | Phase::Stopping { run, .. } => {
                run
            }
            Phase::Stopped | Phase::Backoff { .. } => panic!("{name} has no run"),
        }
    }
    fn probe(&mut self, name: &str, ok: bool) -> Vec<Action> {
        let (service, run) = (self.idx(name), self.run_of(name));
        self.feed(Input::Probed {
            service: ServiceId(service),
            run,
            kind: ProbeKind::Ready,
            ok,
        })
    }
    fn spawned_names(&self, actions: &[Action]) -> Vec<String> {
        actions
            .iter()
            .filter_map(|a| match a {
                Action::Spawn { service, .. } => {
                    Some(self.engine.graph().name(service.0).to_string())
                }
                _ => None,
            })
            .collect()
    }
    fn done(&self) -> Option<crate::report::Summary> {
        self.log.iter().find_map(|a| match a {
            Action::Done { summary, .. } => Some(summary.clone()),
            _ => None,
        })
    }
    fn final_phase(&self, name: &str) -> Option<P> {
        self.log.iter().rev().find_map(|a| match a {
            Action::Progress { progress, .. }
                if progress.service == name && progress.stage.is_final() =>
            {
                Some(progress.stage)
            }
            _ => None,
        })
    }
}

const RESTARTING: &str = r#"
services:
  db:
    command: db
  api:
    command: api
    depends_on: [db]
    restart: { backoff: { initial: 1s }, max_restarts: 2, window: 10m, min_uptime: 10s }
  job:
    command: job
    restart: never
  web:
    command: web
    depends_on: [api]
"#;

/// Starts everything and lets it settle (no checks: 250 ms).
fn all_up(yaml: &str) -> Rig {
    let mut r = Rig::new(yaml);
    let n = r.engine.graph().len();
    let a = r.feed(Input::Start {
        op: OpId(7),
        targets: (0..n).map(ServiceId).collect(),
        options: StartOptions::default(),
    });
    r.confirm(&a);
    for step in 1..=n as u64 {
        let a = r.at(step * 300).feed(Input::Tick);
        r.confirm(&a);
    }
    assert!(r.done().is_some_and(|s| s.success), "{:?}", r.done());
    r.log.clear();
    r
}

fn kill9(r: &mut Rig, name: &str) -> Vec<Action> {
    let (service, run) = (r.idx(name), r.run_of(name));
    r.feed(Input::Exited {
        service: ServiceId(service),
        run,
        end: ProcessEnd::Signaled(9),
    })
}

fn transitions(r: &Rig, name: &str) -> Vec<(String, String, String)> {
    let i = r.idx(name);
    r.log
        .iter()
        .filter_map(|a| match a {
            Action::Transition {
                service,
                from,
                to,
                reason,
                ..
            } if *service == ServiceId(i) => {
                Some((from.to_string(), to.to_string(), reason.clone()))
            }
            _ => None,
        })
        .collect()
}
