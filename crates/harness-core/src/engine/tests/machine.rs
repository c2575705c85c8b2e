//! One service's state machine, row by row: every (phase, move) pair, the
//! phase it leads to, or that it is refused.

use super::*;

fn phases(t: Instant) -> [(&'static str, Phase); 5] {
    [
        ("stopped", Phase::Stopped),
        (
            "spawning",
            Phase::Spawning {
                run: RunId(1),
                restart: false,
                stop_requested: false,
            },
        ),
        (
            "up",
            Phase::Up {
                run: RunId(1),
                pid: 10,
                since: t,
                health: ProbeHealth::Healthy,
                fails: 0,
                attempts: 3,
                live_fails: 0,
                started: true,
                restarting: false,
                watchdog_due: None,
            },
        ),
        (
            "stopping",
            Phase::Stopping {
                run: RunId(1),
                pid: 10,
                restart: None,
            },
        ),
        (
            "backoff",
            Phase::Backoff {
                until: t,
                attempt: 1,
                max: 3,
            },
        ),
    ]
}

fn moves(t: Instant) -> [(&'static str, Move); 14] {
    let kill = KillForRestart {
        why: KillReason::Liveness(3),
        since: t,
    };
    [
        (
            "spawn 2",
            Move::Spawn {
                run: RunId(2),
                restart: false,
            },
        ),
        (
            "spawned 1",
            Move::Spawned {
                run: RunId(1),
                pid: 10,
                since: t,
                startup: false,
            },
        ),
        (
            "spawned 2",
            Move::Spawned {
                run: RunId(2),
                pid: 20,
                since: t,
                startup: false,
            },
        ),
        ("spawn failed 1", Move::SpawnFailed { run: RunId(1) }),
        ("spawn failed 2", Move::SpawnFailed { run: RunId(2) }),
        ("stop", Move::Stop { restart: None }),
        (
            "kill for restart",
            Move::Stop {
                restart: Some(kill),
            },
        ),
        ("ended 1", Move::Ended { run: RunId(1) }),
        ("ended 2", Move::Ended { run: RunId(2) }),
        (
            "back off",
            Move::BackOff(Backoff {
                until: t,
                attempt: 1,
                max: 3,
            }),
        ),
        ("cancel backoff", Move::CancelBackoff),
        ("set aside 1", Move::SetAside { run: RunId(1) }),
        ("set aside 2", Move::SetAside { run: RunId(2) }),
        (
            "restore 3",
            Move::Restore {
                run: RunId(3),
                pid: 30,
                since: t,
                health: ProbeHealth::Healthy,
            },
        ),
    ]
}

/// The name of the phase a move leads to ("-" when refused).
fn name(p: Option<Phase>) -> &'static str {
    match p {
        None => "-",
        Some(Phase::Stopped) => "stopped",
        Some(Phase::Spawning {
            stop_requested: true,
            ..
        }) => "spawning, stop asked",
        Some(Phase::Spawning { .. }) => "spawning",
        Some(Phase::Up { .. }) => "up",
        Some(Phase::Stopping {
            restart: Some(_), ..
        }) => "stopping to restart",
        Some(Phase::Stopping { .. }) => "stopping",
        Some(Phase::Backoff { .. }) => "backoff",
    }
}

#[test]
fn every_phase_and_move() {
    // Columns: the moves, in the order of `moves`.
    let table: [(&str, [&str; 14]); 5] = [
        (
            "stopped",
            [
                "spawning", "-", "-", "-", "-", "-", "-", "-", "-", "backoff", "-", "-", "-", "up",
            ],
        ),
        (
            "spawning",
            [
                "-",
                "up",
                "-",
                "stopped",
                "-",
                "spawning, stop asked",
                "-",
                "-",
                "-",
                "-",
                "-",
                "-",
                "-",
                "-",
            ],
        ),
        (
            "up",
            [
                "-",
                "-",
                "-",
                "-",
                "-",
                "stopping",
                "stopping to restart",
                "stopped",
                "-",
                "-",
                "-",
                "stopped",
                "-",
                "-",
            ],
        ),
        (
            "stopping",
            [
                "-", "-", "-", "-", "-", "-", "-", "stopped", "-", "-", "-", "-", "-", "-",
            ],
        ),
        (
            "backoff",
            [
                "spawning", "-", "-", "-", "-", "stopped", "-", "-", "-", "-", "stopped", "-", "-",
                "-",
            ],
        ),
    ];
    let t = Instant::now();
    for ((pname, phase), (row, want)) in phases(t).into_iter().zip(table) {
        assert_eq!(pname, row);
        for ((mname, m), want) in moves(t).into_iter().zip(want) {
            assert_eq!(name(next_phase(phase, m)), want, "{pname} + {mname}");
        }
    }
}

#[test]
fn a_spawned_run_starts_its_probes_fresh_and_keeps_whether_it_is_a_restart() {
    let t = Instant::now();
    let spawning = Phase::Spawning {
        run: RunId(4),
        restart: true,
        stop_requested: false,
    };
    let up = next_phase(
        spawning,
        Move::Spawned {
            run: RunId(4),
            pid: 99,
            since: t,
            startup: true,
        },
    );
    assert_eq!(
        up,
        Some(Phase::Up {
            run: RunId(4),
            pid: 99,
            since: t,
            health: ProbeHealth::Starting,
            fails: 0,
            attempts: 0,
            live_fails: 0,
            started: false,
            restarting: true,
            watchdog_due: None,
        })
    );
}
