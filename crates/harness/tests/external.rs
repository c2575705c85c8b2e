//! Services harness did not start (seed 000's "State Detection for
//! External Services"): a listener started outside harness, in a session
//! of its own, stands for the service. Harness says so in the state check
//! and in status, starts its dependents against it, never starts a second
//! one, never stops it, and forgets it once it is gone.

mod common;
use common::*;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A process started outside harness (its own session), killed when
/// dropped.
struct Outside(Child);

impl Outside {
    /// `hk listen PORT` in a session of its own, once it listens.
    fn listener(port: u16) -> Outside {
        Outside::writing_to(port, Stdio::null())
    }

    /// [`Outside::listener`] with its standard output into `stdout`.
    fn writing_to(port: u16, stdout: impl Into<Stdio>) -> Outside {
        let mut cmd = Command::new(hk());
        cmd.args(["listen", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(Stdio::null());
        // SAFETY: setsid between fork and exec.
        unsafe {
            cmd.pre_exec(|| {
                libc::setsid();
                Ok(())
            });
        }
        let child = cmd.spawn().unwrap();
        assert!(
            wait_for(10, || std::net::TcpStream::connect(("127.0.0.1", port))
                .is_ok()),
            "the outside listener listens"
        );
        Outside(child)
    }

    fn pid(&self) -> u32 {
        self.0.id()
    }

    fn alive(&mut self) -> bool {
        self.0.try_wait().ok().flatten().is_none()
    }
}

impl Drop for Outside {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_database_started_outside_harness_is_used_as_it_is_and_never_started_again() {
    let port = free_port();
    let mut outside = Outside::listener(port);
    // Started by harness, db would die on the port in use.
    let s = Stack::new(&format!(
        "services:\n  db:\n    command: \"{listen}\"\n    health_check: {{ tcp: \"127.0.0.1:{port}\", interval: 100ms }}\n  api:\n    command: sleep 1000\n    depends_on: [db]\n",
        listen = listener(port, 0),
    ));
    let r = s.harness(&["start", "api"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stdout.contains("  ! db  ") && r.stdout.contains("(running, not managed by harness)"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains(&format!(
            "Detected external service: db (PID {})",
            outside.pid()
        )),
        "{}",
        r.stdout
    );
    let db = s.service("db");
    assert_eq!(db["status"], "external", "{db}");
    assert_eq!(db["health"], "healthy", "{db}");
    assert_eq!(db["pid"], outside.pid(), "{db}");
    assert_eq!(
        db["notes"],
        format!("not managed by harness (PID {})", outside.pid())
    );
    assert_eq!(s.service("api")["status"], "running");
    let starts = |name: &str| {
        s.history()
            .iter()
            .filter(|h| h["service"] == name && h["to"] == "starting")
            .count()
    };
    assert_eq!(starts("db"), 0, "never started by harness");
    // A deploy leaves it as it is too, and deploys its dependent.
    let file = s.path().join("services.yaml");
    let yaml = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, yaml.replace("sleep 1000", "sleep 1005")).unwrap();
    let r = s.harness(&["deploy"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stdout.contains(&format!(
            "! db   external: running outside harness (PID {}): left as it is",
            outside.pid()
        )),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("1 deployed"), "{}", r.stdout);
    assert_eq!(starts("db"), 0, "never started by harness");
    assert_eq!(s.service("db")["status"], "external");
    // `stop --all` stops what harness runs, and leaves what it does not.
    let r = s.harness(&["stop", "--all"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains("Stopped 1 service in"), "{}", r.stdout);
    assert!(
        r.stdout.contains("db is external: left running"),
        "{}",
        r.stdout
    );
    assert!(outside.alive(), "the outside instance is left running");
    assert_eq!(s.service("db")["status"], "external");
    // Gone: status says so at once, and the next start is harness's own.
    drop(outside);
    assert_eq!(s.service("db")["status"], "stopped");
    let r = s.harness(&["start", "db"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(starts("db"), 1);
    assert_eq!(s.service("db")["status"], "running");
    assert_eq!(s.harness(&["stop", "--all"]).code, 0);
}

/// db as a listener on `port` with a check, as an adoption test has it.
fn db_stack(port: u16) -> Stack {
    Stack::new(&format!(
        "services:\n  db:\n    command: \"{listen}\"\n    health_check: {{ tcp: \"127.0.0.1:{port}\", interval: 100ms }}\n    restart: {{ backoff: {{ initial: 100ms }} }}\n",
        listen = listener(port, 0),
    ))
}

#[test]
fn an_adopted_instance_is_supervised_kept_across_daemons_and_replaced_by_harnesss_own_when_it_ends()
{
    let port = free_port();
    let mut outside = Outside::listener(port);
    let s = db_stack(port);
    let r = s.harness(&["adopt", "db"]);
    assert_eq!(r.code, 2, "off a terminal it needs --yes: {}", r.all());
    assert!(r.stderr.contains("pass --yes"), "{}", r.all());
    let r = s.harness(&["adopt", "db", "--yes"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let pid = outside.pid();
    for line in [
        format!("Found db process (PID {pid}):"),
        format!("  Port: {port}"),
        format!("  Found by: port {port}; its health check passes"),
        "✓ Service 'db' adopted".to_string(),
    ] {
        assert!(r.stdout.contains(&line), "{line:?} in {}", r.stdout);
    }
    assert!(r.stdout.contains("  Command: "), "{}", r.stdout);
    assert!(r.stdout.contains("  User: "), "{}", r.stdout);
    assert!(
        wait_for(5, || s.service("db")["health"] == "healthy"),
        "{}",
        s.service("db")
    );
    let db = s.service("db");
    assert_eq!(db["status"], "running", "{db}");
    assert_eq!(db["pid"], pid, "{db}");
    assert_eq!(db["notes"], format!("adopted (PID {pid})"), "{db}");
    // Its output goes nowhere harness can read: `logs` says so.
    let r = s.harness(&["logs", "db"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stdout.contains(&format!("[harness] db (PID {pid}) was started outside harness: harness cannot capture its output, and its standard output goes to /dev/null, which harness cannot read")),
        "{}",
        r.all()
    );
    // Adopted twice: harness runs it now.
    let r = s.harness(&["adopt", "db", "--yes"]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(r.stderr.contains("harness runs db itself"), "{}", r.all());
    // A new daemon takes it over: the same process, still adopted.
    s.kill_daemon();
    let db = s.service("db");
    assert_eq!(db["pid"], pid, "{db}");
    assert_eq!(db["notes"], format!("adopted (PID {pid})"), "{db}");
    // Its end is noticed, told as unknown, and harness's own instance
    // starts from `command`.
    let _ = outside.0.kill();
    let _ = outside.0.wait();
    assert!(
        wait_for(10, || {
            let db = s.service("db");
            db["status"] == "running" && db["pid"] != pid && db["health"] == "healthy"
        }),
        "{}",
        s.service("db")
    );
    let ended: Vec<String> = s
        .history()
        .iter()
        .filter(|h| h["service"] == "db")
        .map(|h| format!("{} → {} ({})", h["from"], h["to"], h["reason"]))
        .collect();
    let told = ended
        .iter()
        .any(|h| h.contains("ended (adopted: exit status unknown)"));
    assert!(told, "{ended:#?}");
    assert!(
        ended[0].contains("adopted (PID"),
        "the first row says it was adopted: {ended:#?}"
    );
    assert_eq!(s.harness(&["stop", "--all"]).code, 0);
}

#[test]
fn stopping_an_adopted_instance_stops_that_process() {
    let port = free_port();
    let mut outside = Outside::listener(port);
    let s = db_stack(port);
    let r = s.harness(&["adopt", "db", "--yes"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let r = s.harness(&["stop", "db"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        wait_for(5, || !outside.alive()),
        "the adopted process was stopped"
    );
    let db = s.service("db");
    assert_eq!(db["status"], "stopped", "{db}");
    let r = s.harness(&["adopt", "db", "--yes"]);
    assert_eq!(r.code, 2, "nothing is left to adopt: {}", r.all());
    assert!(
        r.stderr
            .contains("no instance of db was found outside harness"),
        "{}",
        r.all()
    );
}

#[test]
fn the_logs_of_an_adopted_instance_are_read_from_the_file_it_writes_to() {
    let port = free_port();
    let s = db_stack(port);
    let file = s.dir.path().join("outside.log");
    let outside = Outside::writing_to(port, std::fs::File::create(&file).unwrap());
    let pid = outside.pid();
    assert_eq!(s.harness(&["adopt", "db", "--yes"]).code, 0);
    let r = s.harness(&["logs", "db"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(
        lines,
        [
            format!(
                "[harness] db (PID {pid}) was started outside harness: harness cannot capture its output; shown from {}, where its standard output goes (those lines have no capture time)",
                file.display()
            )
            .as_str(),
            &format!("listening on {port}"),
            &format!("[harness] adopted (PID {pid}): started outside harness, its output is not captured here"),
        ],
        "{}",
        r.all()
    );
    assert!(!r.stderr.contains("has not run yet"), "{}", r.all());
    // Followed: what it writes there comes as it is written.
    let mut follower = Background::start(s.command(&["logs", "-f", "db"]).stdout(Stdio::piped()));
    for _ in 0..3 {
        follower.next_line(Duration::from_secs(10)).unwrap();
    }
    let mut out = std::fs::OpenOptions::new()
        .append(true)
        .open(&file)
        .unwrap();
    std::io::Write::write_all(&mut out, b"checkpoint complete\n").unwrap();
    assert_eq!(
        follower.next_line(Duration::from_secs(10)).unwrap(),
        "checkpoint complete"
    );
    drop(follower);
    assert_eq!(s.harness(&["stop", "--all"]).code, 0);
}

/// db outside harness as a listener, api depending on it.
fn api_stack(port: u16) -> Stack {
    Stack::new(&format!(
        "services:\n  db:\n    command: \"{listen}\"\n    health_check: {{ tcp: \"127.0.0.1:{port}\", interval: 100ms }}\n  api:\n    command: sleep 1001\n    depends_on: [db]\n",
        listen = listener(port, 0),
    ))
}

/// Seed 000's prompt for `start api` with db outside harness, up to the
/// question.
fn asked(s: &Stack, pid: u32) -> rexpect::session::PtySession {
    let mut p = on_terminal(s, &["start", "api"]);
    p.exp_string("Checking current state...").unwrap();
    p.exp_string("(running, not managed by harness)").unwrap();
    p.exp_string(&format!("Detected external service: db (PID {pid})"))
        .unwrap();
    p.exp_string("How would you like to proceed?").unwrap();
    for line in [
        "1) Adopt - Manage this db instance",
        "2) Coexist - Leave it alone and start api",
        "3) Replace - Stop external db and start managed one",
        "4) Abort - Do nothing",
    ] {
        p.exp_string(line).unwrap();
    }
    p.exp_string(CHOICE).unwrap();
    p
}

fn choice_rows(s: &Stack) -> Vec<String> {
    s.history()
        .iter()
        .filter(|h| h["service"] == "(choice)")
        .map(|h| format!("{}: {}", h["from"], h["to"]))
        .collect()
}

#[test]
fn adopt_chosen_at_the_prompt_makes_the_outside_instance_harnesss_and_starts_the_rest() {
    let port = free_port();
    let outside = Outside::listener(port);
    let s = api_stack(port);
    let mut p = asked(&s, outside.pid());
    p.send_line("1").unwrap();
    // (rexpect reads bytes as Latin-1: the match leaves out the ✓.)
    p.exp_string("Service 'db' adopted").unwrap();
    let (code, rest) = finish(p);
    assert_eq!(code, 0, "{rest}");
    let db = s.service("db");
    assert_eq!(
        db["notes"],
        format!("adopted (PID {})", outside.pid()),
        "{db}"
    );
    assert_eq!(s.service("api")["status"], "running");
    assert_eq!(choice_rows(&s), ["\"external service\": \"adopt\""]);
}

#[test]
fn replace_chosen_at_the_prompt_stops_the_outside_instance_and_starts_harnesss_own() {
    let port = free_port();
    let mut outside = Outside::listener(port);
    let s = api_stack(port);
    let mut p = asked(&s, outside.pid());
    p.send_line("replace").unwrap();
    p.exp_string(&format!(
        "Stopped external db (PID {}, SIGTERM)",
        outside.pid()
    ))
    .unwrap();
    let (code, rest) = finish(p);
    assert_eq!(code, 0, "{rest}");
    assert!(!outside.alive(), "the outside instance was stopped");
    let db = s.service("db");
    assert_eq!(db["status"], "running", "{db}");
    assert_ne!(db["pid"], outside.pid(), "{db}");
    assert_eq!(db["notes"], "", "harness's own: {db}");
    assert_eq!(s.service("api")["status"], "running");
}

#[test]
fn abort_at_the_prompt_changes_nothing() {
    let port = free_port();
    let mut outside = Outside::listener(port);
    let s = api_stack(port);
    let mut p = asked(&s, outside.pid());
    p.send_line("4").unwrap();
    p.exp_string("Aborted: nothing was changed.").unwrap();
    let (code, _) = finish(p);
    assert_eq!(code, 130);
    assert!(outside.alive());
    assert_eq!(s.service("api")["status"], "stopped");
    assert_eq!(s.service("db")["status"], "external");
}

#[test]
fn the_flags_answer_for_scripts_and_conflict_with_each_other() {
    let port = free_port();
    let mut outside = Outside::listener(port);
    let s = api_stack(port);
    for both in [
        ["--adopt", "--replace"],
        ["--adopt", "--coexist"],
        ["--coexist", "--replace"],
    ] {
        let r = s.harness(&["start", "api", both[0], both[1]]);
        assert_eq!(r.code, 2, "{both:?}: {}", r.all());
    }
    let r = s.harness(&["start", "api", "--dry-run", "--replace"]);
    assert_eq!(r.code, 2, "{}", r.all());
    // --coexist on a terminal: no question.
    let p = on_terminal(&s, &["start", "api", "--coexist"]);
    let (code, rest) = finish(p);
    assert_eq!(code, 0, "{rest}");
    assert!(!rest.contains("How would you like to proceed?"), "{rest}");
    assert_eq!(s.service("db")["status"], "external");
    assert_eq!(s.harness(&["stop", "api"]).code, 0);
    // --replace off a terminal.
    let r = s.harness(&["start", "api", "--replace"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stdout.contains(&format!(
            "✓ Stopped external db (PID {}, SIGTERM)",
            outside.pid()
        )),
        "{}",
        r.stdout
    );
    assert!(!outside.alive());
    assert_ne!(s.service("db")["pid"], outside.pid());
    assert_eq!(s.service("db")["status"], "running");
}
