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
/// it. Every run today is a service's; a job's step will be a second
/// variant, whose key cannot collide with a service's (a service name has
/// no `/`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum UnitId {
    /// A service, by name.
    Service(String),
}

impl UnitId {
    /// The unit's key in the store and its file names.
    pub fn key(&self) -> &str {
        match self {
            UnitId::Service(name) => name,
        }
    }

    /// The unit a stored key names.
    pub fn from_key(key: &str) -> UnitId {
        UnitId::Service(key.to_string())
    }

    /// The service it is, if it is one.
    pub fn service(&self) -> Option<&str> {
        match self {
            UnitId::Service(name) => Some(name),
        }
    }
}

impl fmt::Display for UnitId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}
