//! A project in a temporary folder, driven through the real `harness`
//! binary. Dropping it stops every service and the daemon, and kills any
//! process group the test saw, so no test leaves processes behind.
//!
//! Every command a test runs goes through [`Background`]: it leads a
//! process group of its own and has a deadline, and when the deadline
//! passes the whole group is SIGKILLed and the test fails saying what the
//! command had printed. A hung `harness` fails one test instead of hanging
//! the suite.

#![allow(dead_code, reason = "each test binary uses a different part")]

mod background;
mod fixtures;
mod procs;
mod pty;
mod stack;

#[allow(unused_imports, reason = "each test binary uses a different part")]
pub use background::*;
#[allow(unused_imports, reason = "each test binary uses a different part")]
pub use fixtures::*;
#[allow(unused_imports, reason = "each test binary uses a different part")]
pub use procs::*;
#[allow(unused_imports, reason = "each test binary uses a different part")]
pub use pty::*;
#[allow(unused_imports, reason = "each test binary uses a different part")]
pub use stack::*;
