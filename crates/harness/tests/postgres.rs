//! End to end with a real PostgreSQL: a one-shot initdb, the server with a
//! `pg_isready` health check, a broken api that depends on it, and a worker
//! blocked behind the api.

mod common;
use common::*;
use std::path::PathBuf;

/// The folder holding initdb/postgres/pg_isready.
fn pg_bin() -> PathBuf {
    let from_path = std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .find(|d| d.join("initdb").is_file() && d.join("pg_isready").is_file())
    });
    let from_lib = std::fs::read_dir("/usr/lib/postgresql").ok().and_then(|d| {
        d.flatten()
            .map(|e| e.path().join("bin"))
            .find(|b| b.join("initdb").is_file())
    });
    from_path
        .or(from_lib)
        .expect("PostgreSQL server binaries (initdb, postgres, pg_isready); .ci/run installs them")
}

#[test]
fn real_postgres_gates_the_api_and_a_broken_api_blocks_the_worker() {
    let bin = pg_bin();
    let port = free_port();
    // PostgreSQL refuses to run as root: drop to the postgres user then.
    let as_pg = if unsafe { libc::geteuid() } == 0 {
        "setpriv --reuid=postgres --regid=postgres --init-groups "
    } else {
        ""
    };
    let yaml = format!(
        r#"
services:
  initdb:
    command: test -d data || {as_pg}{bin}/initdb -D data -A trust -U postgres --no-sync
  postgres:
    command: exec {as_pg}{bin}/postgres -D data -p {port} -k . -c listen_addresses=127.0.0.1 -c fsync=off
    depends_on: {{ initdb: {{ condition: completed }} }}
    stop_signal: SIGINT
    startup_timeout: 60
    health_check:
      command: {bin}/pg_isready -h 127.0.0.1 -p {port}
  api:
    command: '{bin}/pg_isready -h 127.0.0.1 -p {port} && echo "api: missing migration" >&2 && exit 1'
    depends_on: [postgres]
  worker:
    command: sleep 1000
    depends_on: [api]
"#,
        bin = bin.display()
    );
    let mut s = Stack::new(&yaml);
    // The start may wait up to postgres's startup_timeout (60 s): let it
    // say so itself before the deadline of the command.
    s.harness_timeout = std::time::Duration::from_secs(180);
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(s.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    }
    let r = s.harness(&["start", "--all"]);
    assert_eq!(r.code, 3, "{}", r.all());
    let pg = s.service("postgres");
    assert_eq!(
        (pg["status"].as_str(), pg["health"].as_str()),
        (Some("running"), Some("healthy")),
        "{pg}\n{}",
        r.all()
    );
    let api = s.service("api");
    assert_eq!(
        (api["health"].as_str(), api["exit_code"].as_i64()),
        (Some("failed"), Some(1))
    );
    assert!(s.log("api").contains("missing migration"));
    assert_eq!(s.service("worker")["health"], "blocked");
    assert_eq!(s.status()["system_state"], "PARTIAL");

    let pg_pid = s.pid("postgres").unwrap();
    // PostgreSQL puts each helper in a session of its own; they must go too.
    let helpers = children_of(pg_pid);
    assert!(!helpers.is_empty(), "postgres runs helper processes");
    let r = s.harness(&["stop", "--all"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(group_members(pg_pid).is_empty(), "the server is gone");
    assert!(
        wait_for(5, || helpers.iter().all(|p| !alive(*p))),
        "every helper is gone"
    );
}

/// Seed 000's "Service Adoption" with a real PostgreSQL: a server started
/// by hand with `pg_ctl` is found by its pidfile, adopted, probed, its log
/// read where `pg_ctl -l` sends it, stopped by `harness stop` with every
/// helper, and then run by harness itself from `command`.
#[test]
fn a_postgres_started_with_pg_ctl_is_adopted_then_stopped_and_run_by_harness() {
    let bin = pg_bin();
    let port = free_port();
    let root = unsafe { libc::geteuid() } == 0;
    let as_pg = if root {
        "setpriv --reuid=postgres --regid=postgres --init-groups "
    } else {
        ""
    };
    let yaml = format!(
        r#"
services:
  postgres:
    command: exec {as_pg}{bin}/postgres -D data -p {port} -k . -c listen_addresses=127.0.0.1 -c fsync=off
    stop_signal: SIGINT
    startup_timeout: 60
    attach: {{ pidfile: data/postmaster.pid }}
    health_check:
      command: {bin}/pg_isready -h 127.0.0.1 -p {port}
"#,
        bin = bin.display()
    );
    let mut s = Stack::new(&yaml);
    s.harness_timeout = std::time::Duration::from_secs(180);
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(s.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    }
    // Outside harness: initdb, then `pg_ctl start`, as a person would.
    let by_hand = |line: String| {
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(&line)
            .current_dir(s.path())
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{line}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let bin = bin.display();
    by_hand(format!(
        "{as_pg}{bin}/initdb -D data -A trust -U postgres --no-sync >/dev/null"
    ));
    by_hand(format!(
        "{as_pg}{bin}/pg_ctl -D data -l pg.log -w -o '-p {port} -k . -c listen_addresses=127.0.0.1 -c fsync=off' start >/dev/null"
    ));
    let pidfile = std::fs::read_to_string(s.path().join("data/postmaster.pid")).unwrap();
    let pid: u32 = pidfile.lines().next().unwrap().trim().parse().unwrap();

    let r = s.harness(&["adopt", "postgres", "--yes"]);
    assert_eq!(r.code, 0, "{}", r.all());
    for line in [
        format!("Found postgres process (PID {pid}):"),
        format!("  Port: {port}"),
        "  Found by: pidfile data/postmaster.pid; its health check passes".to_string(),
        "✓ Service 'postgres' adopted".to_string(),
    ] {
        assert!(r.stdout.contains(&line), "{line:?} in {}", r.stdout);
    }
    assert!(
        r.stdout
            .contains(&format!("  Command: {bin}/postgres -D data -p {port}")),
        "{}",
        r.stdout
    );
    if root {
        assert!(r.stdout.contains("  User: postgres"), "{}", r.stdout);
    }
    let pg = s.service("postgres");
    assert_eq!(pg["status"], "running", "{pg}");
    assert_eq!(pg["health"], "healthy", "{pg}");
    assert_eq!(pg["notes"], format!("adopted (PID {pid})"), "{pg}");
    // Its log is the file `pg_ctl -l` named.
    let logs = s.harness(&["logs", "postgres"]);
    assert!(
        logs.stdout.contains("shown from ")
            && logs
                .stdout
                .contains("database system is ready to accept connections"),
        "{}",
        logs.all()
    );
    // Stopped as harness stops any service: the server and its helpers.
    let helpers = children_of(pid);
    assert!(!helpers.is_empty(), "postgres runs helper processes");
    let r = s.harness(&["stop", "postgres"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        wait_for(10, || !alive(pid) && helpers.iter().all(|p| !alive(*p))),
        "the adopted server and every helper are gone"
    );
    assert!(
        !s.path().join("data/postmaster.pid").exists(),
        "a clean shutdown (SIGINT), not a kill"
    );
    // From now on harness runs it, from `command`.
    let r = s.harness(&["start", "postgres"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let pg = s.service("postgres");
    assert_eq!(pg["health"], "healthy", "{pg}");
    assert_ne!(pg["pid"], pid, "{pg}");
    assert_eq!(pg["notes"], "", "{pg}");
    let own = s.pid("postgres").unwrap();
    assert_eq!(s.harness(&["stop", "--all"]).code, 0);
    assert!(group_members(own).is_empty(), "the server is gone");
}
