//! The ids the engine and the runtime exchange. Each is its own type, so
//! an operation id can never be passed where a run id is meant, nor a
//! service's place in the config where either is.

use std::fmt;

/// One start or stop request; the runtime numbers them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OpId(pub u64);

/// One run (spawn) of a service; facts about an older run carry its id and
/// are ignored. The engine numbers them from a counter the store keeps, so
/// a new daemon never reuses one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RunId(pub u64);

/// A service, by its place in the config (the graph's index).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ServiceId(pub usize);

impl ServiceId {
    /// Its place in the config.
    pub fn index(self) -> usize {
        self.0
    }
}

impl fmt::Display for RunId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Display for OpId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Display for ServiceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// What a run belongs to, as run records, logs and the shim's files name
/// it: a service's run, or an attempt at a job's step. A step's key is
/// `JOB+STEP`, which cannot collide with a service's (a name has no `+`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum UnitId {
    /// A service, by name.
    Service(String),
    /// A step of a job; the key is kept whole (`JOB+STEP`).
    Step(String),
}

/// What separates a job's name from its step's in a step's key.
const STEP_SEPARATOR: char = '+';

impl UnitId {
    /// The unit of step `step` of job `job`.
    pub fn step(job: &str, step: &str) -> UnitId {
        UnitId::Step(format!("{job}{STEP_SEPARATOR}{step}"))
    }

    /// The unit's key in the store and its file names.
    pub fn key(&self) -> &str {
        match self {
            UnitId::Service(key) | UnitId::Step(key) => key,
        }
    }

    /// The unit a stored key names.
    pub fn from_key(key: &str) -> UnitId {
        match key.contains(STEP_SEPARATOR) {
            true => UnitId::Step(key.to_string()),
            false => UnitId::Service(key.to_string()),
        }
    }

    /// The service it is, if it is one.
    pub fn service(&self) -> Option<&str> {
        match self {
            UnitId::Service(name) => Some(name),
            UnitId::Step(_) => None,
        }
    }

    /// The job and step it is, if it is a step.
    pub fn job_step(&self) -> Option<(&str, &str)> {
        match self {
            UnitId::Step(key) => key.split_once(STEP_SEPARATOR),
            UnitId::Service(_) => None,
        }
    }
}

impl fmt::Display for UnitId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}
