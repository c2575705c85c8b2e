//! The class of a failed attempt. Transient failures (a network timeout,
//! a busy resource) are worth retrying on their own; persistent ones (a
//! configuration error, a missing dependency) are not — retrying them
//! only repeats the failure, so they wait for a person. Anything harness
//! cannot place is persistent: an automatic retry must be earned.

use regex::Regex;

/// A failed attempt's class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// Retried on its own, within the step's transient policy.
    Transient,
    /// Waits for a person (within the persistent policy, one attempt by
    /// default).
    Persistent,
}

impl Class {
    /// `transient` / `persistent`, as the config, JSON and history say it.
    pub fn as_str(self) -> &'static str {
        match self {
            Class::Transient => "transient",
            Class::Persistent => "persistent",
        }
    }
}

/// How an attempt failed, as the runtime saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// It exited with this code (not a success).
    Exited(i32),
    /// It was killed by this signal, not by harness.
    Signaled(i32),
    /// It ran past its `timeout` and harness stopped it.
    TimedOut,
    /// It could not be started at all (command not found, …).
    NotStarted,
    /// Its end was not seen: its shim vanished with it (killed too, or the
    /// host went down). Classed as a death by a signal nobody sent.
    Lost,
    /// It exited 0 without making one of its declared outputs: retrying
    /// would not make it (persistent).
    NoOutput,
}

/// A step's (or job's) `classify:` rules. For an exit, a code listed as
/// persistent decides first, then the output patterns (the tool said what
/// went wrong), then the codes listed as transient; any other code is
/// persistent. A timeout, a death by a signal and an unseen end are what
/// their own keys say: the kind of end is the fact, whatever the output.
#[derive(Debug, Clone)]
pub struct Classify {
    /// Exit codes that are transient. Default: 75 (EX_TEMPFAIL) and 69
    /// (EX_UNAVAILABLE).
    pub transient_codes: Vec<i32>,
    /// Exit codes that are persistent (64 EX_USAGE, 65 EX_DATAERR, 77
    /// EX_NOPERM, 78 EX_CONFIG by default); listed so that a pattern
    /// cannot make them transient by accident — they win over output.
    pub persistent_codes: Vec<i32>,
    /// Output (the attempt's last lines) that makes a failure transient.
    pub transient_output: Vec<Regex>,
    /// The class of a step that ran past its `timeout` (default
    /// transient: a hung download is the usual cause).
    pub timeout: Class,
    /// The class of a death by a signal harness did not send (default
    /// transient: the OOM killer, a host shutting down).
    pub signal: Class,
}

/// The output that makes a failure transient unless a job says otherwise.
pub const DEFAULT_TRANSIENT_OUTPUT: &str = "(?i)timed? ?out|connection reset";

impl Default for Classify {
    fn default() -> Classify {
        Classify {
            transient_codes: vec![75, 69],
            persistent_codes: vec![64, 65, 77, 78],
            // A network that timed out or dropped the connection is the
            // usual transient failure, whatever the tool's exit code.
            transient_output: vec![
                Regex::new(DEFAULT_TRANSIENT_OUTPUT).expect("the default pattern is valid"),
            ],
            timeout: Class::Transient,
            signal: Class::Transient,
        }
    }
}

impl Classify {
    /// The class of `failure`, whose output ended with `tail`, and why (for
    /// the attempt's record: "exit code 75 is transient").
    pub fn classify(&self, failure: Failure, tail: &str) -> (Class, String) {
        if let Failure::Exited(code) = failure
            && self.persistent_codes.contains(&code)
        {
            return (Class::Persistent, format!("exit code {code} is persistent"));
        }
        if let Failure::Exited(_) = failure
            && let Some(re) = self.transient_output.iter().find(|re| re.is_match(tail))
        {
            return (
                Class::Transient,
                format!("its output matches `{}`", re.as_str()),
            );
        }
        match failure {
            Failure::Exited(code) if self.transient_codes.contains(&code) => {
                (Class::Transient, format!("exit code {code} is transient"))
            }
            Failure::Exited(code) => (
                Class::Persistent,
                format!("exit code {code} is not classified (persistent)"),
            ),
            Failure::TimedOut => (self.timeout, "it ran past its timeout".into()),
            Failure::Signaled(sig) => (self.signal, format!("killed by signal {sig}")),
            Failure::Lost => (
                self.signal,
                "its end was not seen (its shim vanished)".into(),
            ),
            Failure::NotStarted => (Class::Persistent, "it could not be started".into()),
            Failure::NoOutput => (
                Class::Persistent,
                "it exited 0 without making its declared outputs".into(),
            ),
        }
    }
}

impl PartialEq for Classify {
    /// Rules are equal when they say the same (patterns by their text).
    fn eq(&self, other: &Classify) -> bool {
        let patterns = |c: &Classify| {
            c.transient_output
                .iter()
                .map(|r| r.as_str().to_string())
                .collect::<Vec<_>>()
        };
        self.transient_codes == other.transient_codes
            && self.persistent_codes == other.persistent_codes
            && patterns(self) == patterns(other)
            && self.timeout == other.timeout
            && self.signal == other.signal
    }
}
