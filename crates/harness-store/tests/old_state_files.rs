//! State files written by real older builds (schema 1 to 8; how each was
//! made is in `tests/data/README.md`) open with this build, migrate to the
//! current schema, and keep what the old daemon wrote; opening one again
//! changes nothing.
//!
//! Each test works on a copy: the checked-in file is never opened, since
//! opening it would migrate it in place. Only columns the old files had are
//! looked at, so a later schema that adds columns keeps these tests valid.

use harness_core::engine::{Outcome, ProcessEnd, Verdict};
use harness_store::{HistoryRow, SCHEMA_VERSION, Store};
use rusqlite::Connection;
use rusqlite::types::Value;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A copy of `tests/data/NAME` in a fresh temporary folder.
fn copy_of(name: &str) -> (tempfile::TempDir, PathBuf) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    std::fs::copy(&src, &path).unwrap_or_else(|e| panic!("{}: {e}", src.display()));
    (dir, path)
}

/// `meta`'s value for `key`, read past the store.
fn meta(path: &Path, key: &str) -> i64 {
    Connection::open(path)
        .unwrap()
        .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
        .unwrap()
}

/// Everything in the file: SQLite's schema cookie, the schema, and every
/// row of every table.
type Snapshot = (i64, Vec<String>, Vec<(String, Vec<Vec<Value>>)>);

fn snapshot(path: &Path) -> Snapshot {
    let conn = Connection::open(path).unwrap();
    let cookie: i64 = conn
        .query_row("PRAGMA schema_version", [], |r| r.get(0))
        .unwrap();
    let mut stmt = conn
        .prepare("SELECT name, type, coalesce(sql, '') FROM sqlite_master ORDER BY name")
        .unwrap();
    let objects: Vec<(String, String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let schema = objects.iter().map(|(_, _, sql)| sql.clone()).collect();
    let tables = objects
        .iter()
        .filter(|(_, kind, _)| kind == "table")
        .map(|(name, _, _)| {
            let mut stmt = conn
                .prepare(&format!("SELECT * FROM \"{name}\" ORDER BY rowid"))
                .unwrap();
            let width = stmt.column_count();
            let rows = stmt
                .query_map([], |r| (0..width).map(|i| r.get::<_, Value>(i)).collect())
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            (name.clone(), rows)
        })
        .collect();
    (cookie, schema, tables)
}

/// A history row as the columns every schema has.
type Row = (i64, String, String, String, String);

fn row(h: &HistoryRow) -> Row {
    (
        h.ts_ms,
        h.service.clone(),
        h.from.clone(),
        h.to.clone(),
        h.reason.clone(),
    )
}

fn want(ts_ms: i64, service: &str, from: &str, to: &str, reason: &str) -> Row {
    (ts_ms, service.into(), from.into(), to.into(), reason.into())
}

/// What an outcome says, with the restart times as a count (they come
/// back through the wall clock, so they are compared apart).
#[derive(Debug, PartialEq)]
struct Known {
    service: String,
    verdict: Verdict,
    last_end: Option<ProcessEnd>,
    wanted: bool,
    streak: u32,
    total: u32,
    recent: usize,
    backoff: bool,
}

fn known(outcomes: &[(String, Outcome)]) -> Vec<Known> {
    let mut k: Vec<Known> = outcomes
        .iter()
        .map(|(service, o)| Known {
            service: service.clone(),
            verdict: o.verdict.clone(),
            last_end: o.last_end,
            wanted: o.wanted,
            streak: o.restarts.streak,
            total: o.restarts.total,
            recent: o.restarts.recent().count(),
            backoff: o.backoff.is_some(),
        })
        .collect();
    k.sort_by(|a, b| a.service.cmp(&b.service));
    k
}

/// An outcome with no restart memory, as every v1/v2 one and most v3 ones.
fn plain(service: &str, verdict: Verdict, last_end: Option<ProcessEnd>) -> Known {
    Known {
        service: service.into(),
        verdict,
        last_end,
        wanted: false,
        streak: 0,
        total: 0,
        recent: 0,
        backoff: false,
    }
}

/// Copies the fixture, checks it is the version it claims, opens it (which
/// migrates it) and checks the result is at the current version.
fn open_migrated(name: &str, old_version: i64) -> (tempfile::TempDir, PathBuf, Store) {
    let (dir, path) = copy_of(name);
    assert_eq!(meta(&path, "schema_version"), old_version, "{name}");
    let store = Store::open(&path).unwrap();
    assert_eq!(meta(&path, "schema_version"), SCHEMA_VERSION, "{name}");
    (dir, path, store)
}

/// Opening the migrated file again changes nothing in it and reads the
/// same history, outcomes and runs.
fn second_open_is_a_no_op(path: &Path, first: &Store) {
    let before = snapshot(path);
    let again = Store::open(path).unwrap();
    assert_eq!(
        again.history(None, 1000).unwrap(),
        first.history(None, 1000).unwrap()
    );
    assert_eq!(
        known(&again.outcomes().unwrap()),
        known(&first.outcomes().unwrap())
    );
    assert_eq!(again.runs().unwrap(), first.runs().unwrap());
    drop(again);
    assert_eq!(snapshot(path), before);
}

/// The migrated file takes this build's writes and hands out run ids after
/// the ones the old daemon used.
fn takes_new_writes(mut store: Store, path: &Path, next_run: u64) {
    assert_eq!(store.reserve_runs(1).unwrap(), next_run);
    store
        .apply(&[harness_store::Write::Outcome {
            service: "db".into(),
            outcome: Outcome {
                verdict: Verdict::Failed("exit code 2".into()),
                last_end: Some(ProcessEnd::Exited(2)),
                wanted: true,
                ..Outcome::default()
            },
        }])
        .unwrap();
    let db = store
        .outcomes()
        .unwrap()
        .into_iter()
        .find(|(s, _)| s == "db")
        .unwrap()
        .1;
    assert_eq!(db.verdict, Verdict::Failed("exit code 2".into()));
    drop(store);
    assert_eq!(meta(path, "next_run"), next_run as i64 + 1);
}

/// Schema 1 (0a82e3b): runs and history, no outcomes table.
#[test]
fn a_schema_1_file_from_0a82e3b() {
    let (_dir, path, store) = open_migrated("state-v1.db", 1);
    let history: Vec<Row> = store.history(None, 1000).unwrap().iter().map(row).collect();
    assert_eq!(history.len(), 11, "{history:#?}");
    assert_eq!(
        history[0],
        want(
            1796206644638,
            "db",
            "stopped",
            "starting",
            "start requested"
        )
    );
    assert_eq!(
        history[5],
        want(
            1796206644898,
            "api",
            "starting",
            "stopped",
            "failed: exit code 1"
        )
    );
    assert_eq!(
        history[6],
        want(
            1796206644898,
            "worker",
            "stopped",
            "blocked",
            "dependency failed: api"
        )
    );
    assert_eq!(
        history[10],
        want(
            1796206644919,
            "cache",
            "stopping",
            "stopped",
            "stopped (killed by signal 15)"
        )
    );
    // One service's history, still in order.
    let api: Vec<Row> = store
        .history(Some("api"), 1000)
        .unwrap()
        .iter()
        .map(row)
        .collect();
    assert_eq!(api, [history[3].clone(), history[5].clone()]);
    // Schema 1 kept no outcomes; the table the migration made is empty.
    assert!(store.outcomes().unwrap().is_empty());
    // `stop --all` ended every run before the daemon stopped.
    assert!(store.runs().unwrap().is_empty());
    second_open_is_a_no_op(&path, &store);
    takes_new_writes(store, &path, 4);
}

/// Schema 2 (6087e34): outcomes without restart memory.
#[test]
fn a_schema_2_file_from_6087e34() {
    let (_dir, path, store) = open_migrated("state-v2.db", 2);
    let history: Vec<Row> = store.history(None, 1000).unwrap().iter().map(row).collect();
    assert_eq!(history.len(), 11, "{history:#?}");
    assert_eq!(
        history[5],
        want(
            1796206681652,
            "api",
            "starting",
            "stopped",
            "failed: exit code 1"
        )
    );
    assert_eq!(
        history[6],
        want(
            1796206681652,
            "worker",
            "stopped",
            "blocked",
            "dependency failed: api"
        )
    );
    assert_eq!(
        history[10],
        want(
            1796206681659,
            "db",
            "stopping",
            "stopped",
            "killed by signal 15"
        )
    );
    // What the old daemon knew after `stop --all`: api's failure stays,
    // worker's block was cleared by the stop, db and cache were stopped by
    // SIGTERM, nothing is wanted; restart memory starts empty.
    assert_eq!(
        known(&store.outcomes().unwrap()),
        [
            plain(
                "api",
                Verdict::Failed("exit code 1".into()),
                Some(ProcessEnd::Exited(1))
            ),
            plain("cache", Verdict::None, Some(ProcessEnd::Signaled(15))),
            plain("db", Verdict::None, Some(ProcessEnd::Signaled(15))),
            plain("worker", Verdict::None, None),
        ]
    );
    assert!(store.runs().unwrap().is_empty());
    second_open_is_a_no_op(&path, &store);
    takes_new_writes(store, &path, 4);
}

/// Schema 3 (24872ff): outcomes with restart memory; `flaky` crashed twice
/// and was restarted twice before `stop --all`.
#[test]
fn a_schema_3_file_from_24872ff() {
    let (_dir, path, store) = open_migrated("state-v3.db", 3);
    let history: Vec<Row> = store.history(None, 1000).unwrap().iter().map(row).collect();
    assert_eq!(history.len(), 21, "{history:#?}");
    assert_eq!(
        history[7],
        want(
            1796206726537,
            "api",
            "starting",
            "stopped",
            "failed: exit code 1"
        )
    );
    assert_eq!(
        history[9],
        want(
            1796206726690,
            "flaky",
            "running",
            "restarting",
            "exit code 1; restart 1/5 in 200ms"
        )
    );
    assert_eq!(
        history[12],
        want(
            1796206727296,
            "flaky",
            "running",
            "restarting",
            "exit code 1; restart 2/5 in 400ms"
        )
    );
    assert_eq!(
        history[20],
        want(
            1796206730572,
            "cache",
            "stopping",
            "stopped",
            "killed by signal 15"
        )
    );
    let outcomes = store.outcomes().unwrap();
    assert_eq!(
        known(&outcomes),
        [
            plain(
                "api",
                Verdict::Failed("exit code 1".into()),
                Some(ProcessEnd::Exited(1))
            ),
            plain("cache", Verdict::None, Some(ProcessEnd::Signaled(15))),
            plain("db", Verdict::None, Some(ProcessEnd::Signaled(15))),
            Known {
                streak: 2,
                total: 2,
                recent: 2,
                ..plain("flaky", Verdict::None, Some(ProcessEnd::Signaled(15)))
            },
            plain("worker", Verdict::None, None),
        ]
    );
    // The two restart times (wall-clock ns 1796206726689969011 and
    // 1796206727296773129) come back as instants in the past, 606.804 ms
    // apart to within the jitter of the clock readings.
    let flaky = &outcomes.iter().find(|(s, _)| s == "flaky").unwrap().1;
    let times: Vec<Instant> = flaky.restarts.recent().collect();
    assert!(times.iter().all(|&t| t < Instant::now()));
    let gap = times[1] - times[0];
    let exact = Duration::from_nanos(606_804_118);
    assert!(
        gap.max(exact) - gap.min(exact) < Duration::from_millis(5),
        "{gap:?}"
    );
    assert!(store.runs().unwrap().is_empty());
    second_open_is_a_no_op(&path, &store);
    takes_new_writes(store, &path, 7);
}

/// Schema 4 (51ca8e9): history with `cause`, outcomes with end kinds. A
/// stop clears every verdict, so api's failed start is history only; no
/// file was recorded as served (that came with schema 5).
#[test]
fn a_schema_4_file_from_51ca8e9() {
    let (_dir, path, store) = open_migrated("state-v4.db", 4);
    let history = store.history(None, 1000).unwrap();
    assert_eq!(history.len(), 21, "{history:#?}");
    assert!(history.iter().all(|h| h.cause.is_none()));
    let rows: Vec<Row> = history.iter().map(row).collect();
    assert_eq!(
        rows[7],
        want(
            1796228114032,
            "api",
            "starting",
            "stopped",
            "failed: exit code 1"
        )
    );
    assert_eq!(
        rows[20],
        want(
            1796228118051,
            "flaky",
            "stopping",
            "stopped",
            "stop requested; ended by SIGTERM"
        )
    );
    assert_eq!(
        known(&store.outcomes().unwrap()),
        [
            plain("api", Verdict::None, Some(ProcessEnd::Exited(1))),
            plain("cache", Verdict::None, Some(ProcessEnd::Signaled(15))),
            plain("db", Verdict::None, Some(ProcessEnd::Signaled(15))),
            Known {
                streak: 2,
                total: 2,
                recent: 2,
                ..plain("flaky", Verdict::None, Some(ProcessEnd::Signaled(15)))
            },
            plain("worker", Verdict::None, None),
        ]
    );
    assert_eq!(store.served().unwrap(), None);
    assert!(store.runs().unwrap().is_empty());
    second_open_is_a_no_op(&path, &store);
    takes_new_writes(store, &path, 7);
}

#[test]
fn a_schema_5_file_from_9e3677b() {
    let (_dir, path, store) = open_migrated("state-v5.db", 5);
    let history = store.history(None, 1000).unwrap();
    assert_eq!(history.len(), 21, "{history:#?}");
    let rows: Vec<Row> = history.iter().map(row).collect();
    assert_eq!(
        rows[7],
        want(
            1796281150744,
            "api",
            "starting",
            "stopped",
            "failed: exit code 1"
        )
    );
    assert_eq!(
        rows[20],
        want(
            1796281154767,
            "cache",
            "stopping",
            "stopped",
            "stop requested; ended by SIGTERM"
        )
    );
    assert_eq!(
        store.served().unwrap().as_deref(),
        Some(Path::new("services.yaml"))
    );
    assert!(store.runs().unwrap().is_empty());
    // Schema 6 adds the deploy tables, empty.
    assert!(store.deploys(10).unwrap().is_empty());
    assert_eq!(store.last_deploy_id().unwrap(), 0);
    second_open_is_a_no_op(&path, &store);
    takes_new_writes(store, &path, 7);
}

/// Schema 6 (b1b0a25): a deploy (cache changed and committed, api added and
/// failed, worker blocked) and three live runs, left behind by a daemon
/// killed with SIGKILL (their processes were stopped by hand after it).
/// Schema 7 keys `runs` by run id: the rows come through the table's
/// rebuild as they were, and a service can then hold two.
#[test]
fn a_schema_6_file_from_b1b0a25() {
    let (_dir, path, mut store) = open_migrated("state-v6.db", 6);
    let history = store.history(None, 1000).unwrap();
    assert_eq!(history.len(), 22, "{history:#?}");
    assert_eq!(
        row(&history[21]),
        want(
            1796288386554,
            "cache",
            "running",
            "running",
            "deployed 1d6ff8, was c1373d (deploy 1)"
        )
    );
    let runs: Vec<(String, u64, u32, u32, i64)> = store
        .runs()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r.unit.key().to_string(),
                r.run.0,
                r.shim_pid,
                r.pid,
                r.started_at_ms,
            )
        })
        .collect();
    assert_eq!(
        runs,
        [
            ("db".into(), 1, 23017, 23021, 1796288379918),
            ("flaky".into(), 6, 23033, 23037, 1796288381328),
            ("cache".into(), 8, 23087, 23088, 1796288384301),
        ]
    );
    let cache = store.runs().unwrap().remove(2);
    assert!(cache.definition.is_some(), "the definition print is kept");
    let deploys = store.deploys(10).unwrap();
    assert_eq!(deploys.len(), 1);
    assert_eq!(deploys[0].status, "failed");
    let (_, services) = store.deploy(1).unwrap().unwrap();
    let outcomes: Vec<(&str, Option<&str>)> = services
        .iter()
        .map(|s| (s.service.as_str(), s.outcome.as_deref()))
        .collect();
    assert_eq!(
        outcomes,
        [
            ("db", Some("unchanged")),
            ("api", Some("failed")),
            ("worker", Some("blocked")),
            ("cache", Some("deployed")),
            ("flaky", Some("unchanged")),
        ]
    );
    second_open_is_a_no_op(&path, &store);
    // A second run of cache beside run 8 (a start-first deploy's new
    // version) is a row of its own; the end of one forgets only it.
    let beside = harness_store::RunRecord {
        run: harness_core::engine::RunId(9),
        ..cache.clone()
    };
    store.apply(&[harness_store::Write::Run(beside)]).unwrap();
    assert_eq!(store.runs().unwrap().len(), 4);
    store
        .apply(&[harness_store::Write::RunEnded {
            unit: cache.unit.clone(),
            run: cache.run,
        }])
        .unwrap();
    let left: Vec<u64> = store.runs().unwrap().iter().map(|r| r.run.0).collect();
    assert_eq!(left, [1, 6, 9]);
    takes_new_writes(store, &path, 9);
}

/// Schema 7 (0583f2f): runs keyed by run id. cache was deployed
/// start-first (its new version beside the old one), api's add failed;
/// three live runs were left by a daemon killed with SIGKILL. Schema 8
/// adds the job tables, empty.
#[test]
fn a_schema_7_file_from_0583f2f() {
    let (_dir, path, store) = open_migrated("state-v7.db", 7);
    let history = store.history(None, 1000).unwrap();
    assert_eq!(history.len(), 20, "{history:#?}");
    assert_eq!(
        row(&history[16]),
        want(
            1796292761281,
            "cache",
            "running",
            "starting",
            "start requested (deploy 1: 1d6ff8, was c1373d; beside the running version, PID 10573)"
        )
    );
    let runs: Vec<(String, u64, i64)> = store
        .runs()
        .unwrap()
        .iter()
        .map(|r| (r.unit.key().to_string(), r.run.0, r.started_at_ms))
        .collect();
    assert_eq!(
        runs,
        [
            ("db".into(), 1, 1796292756800),
            ("flaky".into(), 6, 1796292758220),
            ("cache".into(), 8, 1796292761285),
        ]
    );
    assert_eq!(store.deploys(10).unwrap()[0].status, "failed");
    assert_eq!(store.last_job_run("image").unwrap(), None);
    assert_eq!(store.next_job_run("image").unwrap(), 1);
    second_open_is_a_no_op(&path, &store);
    takes_new_writes(store, &path, 9);
}

/// An attempt as the schema-8 test reads it: step, number, status,
/// class, exit code.
type Attempt = (String, i64, String, Option<String>, Option<i64>);

/// Schema 8 (f0844bc): jobs. image's run 1 failed at kickstart (two
/// transient attempts), was resumed and completed. Schema 9 adds the
/// file hashes' table, empty.
#[test]
fn a_schema_8_file_from_f0844bc() {
    let (_dir, path, store) = open_migrated("state-v8.db", 8);
    let run = store.last_job_run("image").unwrap().expect("image's run");
    assert_eq!(
        (
            run.run,
            run.state,
            run.state_step.as_str(),
            run.status.as_str(),
            run.start.as_str()
        ),
        (1, 2, "tests", "completed", "resume")
    );
    let attempts: Vec<Attempt> = store
        .attempts("image", 1)
        .unwrap()
        .into_iter()
        .map(|a| (a.step, a.attempt, a.status, a.class, a.exit_code))
        .collect();
    let want = |step: &str, n, status: &str, class: Option<&str>, code| {
        (
            step.to_string(),
            n,
            status.to_string(),
            class.map(str::to_string),
            code,
        )
    };
    assert_eq!(
        attempts,
        [
            want("base", 1, "completed", None, Some(0)),
            want("kickstart", 1, "failed", Some("transient"), Some(75)),
            want("kickstart", 2, "failed", Some("transient"), Some(75)),
            want("kickstart", 3, "completed", None, Some(0)),
            want("tests", 1, "completed", None, Some(0)),
        ]
    );
    // What decides a later run's skip is still there.
    let base = store
        .last_completion("image", "base")
        .unwrap()
        .expect("base completed");
    assert!(
        base.print.parts.contains_key("input versions.lock"),
        "{base:?}"
    );
    assert_eq!(base.outputs.len(), 1);
    assert_eq!(store.next_job_run("image").unwrap(), 2);
    assert!(store.file_hashes().unwrap().is_empty());
    second_open_is_a_no_op(&path, &store);
    takes_new_writes(store, &path, 7);
}
