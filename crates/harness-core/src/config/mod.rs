//! The `services.yaml` contract: parsed with source locations, validated as a
//! whole, and turned into a model the rest of harness can trust.

mod error;
mod model;
mod parse;
pub(crate) mod validate;

pub use error::{ConfigError, ConfigErrors, Location};
pub use model::{
    Attach, Command, Condition, Config, Dependency, HealthCheck, Job, JobOnFailure, LogRotation,
    Probe, ProbeTiming, Ready, Restart, RestartPolicy, Service, Settings, Step, StopSignal, Update,
    UpdateOrder, Version,
};
pub use parse::parse;
pub use validate::check_paths;

#[cfg(test)]
mod tests;
