//! The job decisions, tested as tables with time as a value.

mod classify;
mod resume;
mod run;
mod runner;
