//! # harness-core: the pure heart of harness
//!
//! Theory of operation: everything here is a function of its inputs. The
//! config is parsed from text into a validated [`config::Config`]; the
//! [`graph::Graph`] answers dependency questions; the [`engine::Engine`] is a
//! state machine over all services of a project that takes facts
//! ([`engine::Input`]: a start was requested, a process was spawned or exited,
//! a probe answered, time passed) together with the current time as a value,
//! and returns the [`engine::Action`]s the runtime must carry out (spawn,
//! signal, probe, record a transition, report progress).
//!
//! No IO, no async, no clock reads: the runtime owns all of that, so every
//! rule here is unit-tested in microseconds.

pub mod config;
pub mod duration;
pub mod engine;
pub mod external;
pub mod graph;
pub mod job;
pub mod report;
pub mod restart_policy;
pub mod size;
pub mod timeout;
