//! A new daemon's decisions about a killed one's unfinished work, as
//! tables.

use crate::engine::interrupted::{Finish, Unsettled, finish, run_to_keep};
use crate::report::DeployAction as A;

#[test]
fn the_run_kept_is_the_newest_live_one_or_the_untouched_old_one_when_uncommitted() {
    let table: [(&[bool], bool, usize); 7] = [
        (&[true], false, 0),
        (&[true, true], false, 1),
        (&[true, true], true, 0),
        (&[false, true], true, 1),
        (&[true, false], false, 0),
        (&[false, false], false, 1),
        (&[], false, 0),
    ];
    for (alive, uncommitted, keep) in table {
        assert_eq!(
            run_to_keep(alive, uncommitted),
            keep,
            "{alive:?} {uncommitted}"
        );
    }
}

#[test]
fn each_unsettled_service_is_removed_discarded_reverted_kept_or_left() {
    let u = |action, running, gone, from: Option<&'static str>, now: Option<&'static str>, kept| {
        Unsettled {
            action,
            running,
            gone_from_file: gone,
            from,
            running_version: now,
            from_kept: kept,
        }
    };
    let table = [
        (
            u(A::Remove, true, true, Some("a"), Some("a"), true),
            Finish::Remove,
        ),
        // The file has it again: it is the file's now.
        (
            u(A::Remove, true, false, Some("a"), Some("a"), true),
            Finish::Nothing,
        ),
        (
            u(A::Remove, false, true, Some("a"), None, true),
            Finish::Nothing,
        ),
        (
            u(A::Add, true, false, None, Some("b"), false),
            Finish::Discard,
        ),
        (u(A::Add, false, false, None, None, false), Finish::Nothing),
        // The new version runs, uncommitted: back to the old one.
        (
            u(A::Change, true, false, Some("a"), Some("b"), true),
            Finish::Revert,
        ),
        // Nothing runs: the old one again.
        (
            u(A::Drifted, false, false, Some("a"), None, true),
            Finish::Revert,
        ),
        // The old version cannot be found: left as it is.
        (
            u(A::Change, true, false, Some("a"), Some("b"), false),
            Finish::Nothing,
        ),
        // start-first: the old run was never touched.
        (
            u(A::Change, true, false, Some("a"), Some("a"), true),
            Finish::KeptOld,
        ),
        (
            u(A::Unchanged, true, false, Some("a"), Some("a"), true),
            Finish::Nothing,
        ),
    ];
    for (unsettled, want) in table {
        assert_eq!(finish(unsettled), want, "{unsettled:?}");
    }
    assert_eq!(
        Finish::Revert.detail(4, Some("3f2a9c")),
        "interrupted; the next daemon goes back to 3f2a9c (deploy 4)"
    );
}
