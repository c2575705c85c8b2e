//! Services harness did not start (seed 000's "State Detection for
//! External Services"): a listener started outside harness, in a session
//! of its own, stands for the service. Harness says so in the state check
//! and in status, starts its dependents against it, never starts a second
//! one, never stops it, and forgets it once it is gone.

mod common;
use common::*;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};

/// A process started outside harness (its own session), killed when
/// dropped.
struct Outside(Child);

impl Outside {
    /// `hk listen PORT` in a session of its own, once it listens.
    fn listener(port: u16) -> Outside {
        let mut cmd = Command::new(hk());
        cmd.args(["listen", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
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
