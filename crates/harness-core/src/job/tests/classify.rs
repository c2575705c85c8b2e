//! Classification and attempt counting, as tables.

use crate::job::classify::{Class, Classify, Failure};
use crate::job::retry::{Next, Retry};
use std::time::Duration;

#[test]
fn failures_are_classified_by_code_and_output_or_by_their_kind_and_unknown_is_persistent() {
    let c = Classify {
        transient_output: vec![regex::Regex::new("(?i)timed? ?out|connection reset").unwrap()],
        ..Classify::default()
    };
    let table = [
        (
            Failure::Exited(75),
            "",
            Class::Transient,
            "exit code 75 is transient",
        ),
        (
            Failure::Exited(69),
            "",
            Class::Transient,
            "exit code 69 is transient",
        ),
        (
            Failure::Exited(1),
            "",
            Class::Persistent,
            "exit code 1 is not classified (persistent)",
        ),
        (
            Failure::Exited(1),
            "curl: Connection reset by peer",
            Class::Transient,
            "its output matches `(?i)timed? ?out|connection reset`",
        ),
        (
            Failure::Exited(1),
            "Operation Timed Out",
            Class::Transient,
            "its output matches `(?i)timed? ?out|connection reset`",
        ),
        // A code listed as persistent wins over the output.
        (
            Failure::Exited(78),
            "timeout",
            Class::Persistent,
            "exit code 78 is persistent",
        ),
        (
            Failure::TimedOut,
            "",
            Class::Transient,
            "it ran past its timeout",
        ),
        (
            Failure::Signaled(9),
            "",
            Class::Transient,
            "killed by signal 9",
        ),
        (
            // Output decides only for exits: the kind of end is the fact.
            Failure::NotStarted,
            "timeout",
            Class::Persistent,
            "it could not be started",
        ),
        (
            Failure::Signaled(9),
            "timed out",
            Class::Transient,
            "killed by signal 9",
        ),
        (
            Failure::NotStarted,
            "",
            Class::Persistent,
            "it could not be started",
        ),
    ];
    for (failure, tail, class, why) in table {
        assert_eq!(
            c.classify(failure, tail),
            (class, why.to_string()),
            "{failure:?} {tail:?}"
        );
    }
}

#[test]
fn max_attempts_counts_every_attempt_and_the_backoff_doubles_to_its_cap() {
    let mut r = Retry::default();
    r.transient.backoff_initial = Duration::from_secs(60);
    r.transient.backoff_max = Duration::from_secs(90);
    let retry = |attempt, secs| Next::Retry {
        attempt,
        max: 3,
        delay: Duration::from_secs(secs),
    };
    // Kickstart: "retry with backoff, max 3 attempts" — three, not four.
    assert_eq!(r.after(1, Class::Transient), retry(2, 60));
    assert_eq!(r.after(2, Class::Transient), retry(3, 90));
    assert_eq!(
        r.after(3, Class::Transient),
        Next::GiveUp {
            attempts: 3,
            max: 3
        }
    );
    // A persistent failure is not retried by default, even on attempt 1.
    assert_eq!(
        r.after(1, Class::Persistent),
        Next::GiveUp {
            attempts: 1,
            max: 1
        }
    );
    // A persistent failure after transient retries ends it at once.
    assert_eq!(
        r.after(2, Class::Persistent),
        Next::GiveUp {
            attempts: 2,
            max: 1
        }
    );
    // max_attempts 0 is taken as 1: the first attempt always runs.
    r.transient.max_attempts = 0;
    assert_eq!(
        r.after(1, Class::Transient),
        Next::GiveUp {
            attempts: 1,
            max: 1
        }
    );
}

#[test]
fn by_default_a_network_timeout_in_the_output_is_transient_unless_the_code_is_persistent() {
    use crate::job::classify::{Class, Classify, Failure};
    let c = Classify::default();
    let cases = [
        (1, "curl: (28) Connection timed out", Class::Transient),
        (
            2,
            "ssh: connect: Connection reset by peer",
            Class::Transient,
        ),
        (1, "3 tests failed", Class::Persistent),
        (64, "usage: timed out waiting", Class::Persistent),
    ];
    for (code, tail, want) in cases {
        assert_eq!(
            c.classify(Failure::Exited(code), tail).0,
            want,
            "{code} {tail}"
        );
    }
}
