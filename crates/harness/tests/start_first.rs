//! `update.order: start-first` and `socket:` with real processes: the old
//! run is never touched when the new one fails, and a service on a fixed
//! port is replaced under load with no connection refused or reset — also
//! after the daemon was killed, when the new daemon must take the socket
//! back from the running shim.

mod common;
use common::*;
use std::io::{Read, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

fn yaml(port: u16, version: &str, after_ms: u64) -> String {
    format!(
        "services:
  web:
    command: [{hk:?}, activated, {version}, --after, \"{after_ms}\"]
    socket: {{ tcp: \"127.0.0.1:{port}\" }}
    ready: notify
    update: {{ order: start-first, min_healthy: 1500ms }}
",
        hk = hk().display().to_string(),
    )
}

/// One request on a new connection: the body, or why it failed.
fn ask(port: u16) -> Result<String, String> {
    let mut c =
        std::net::TcpStream::connect(("127.0.0.1", port)).map_err(|e| format!("connect: {e}"))?;
    c.set_read_timeout(Some(Duration::from_secs(5)))
        .map_err(|e| e.to_string())?;
    c.write_all(b"GET / HTTP/1.0\r\n\r\n")
        .map_err(|e| format!("write: {e}"))?;
    let mut out = String::new();
    c.read_to_string(&mut out)
        .map_err(|e| format!("read: {e} (after {out:?})"))?;
    match out.split_once("\r\n\r\n") {
        Some((head, body)) if head.starts_with("HTTP/1.1 200") => Ok(body.trim().to_string()),
        _ => Err(format!("bad answer {out:?}")),
    }
}

/// Clients asking without a pause until stopped: (answers, failures).
struct Load {
    stop: Arc<AtomicBool>,
    ok: Arc<AtomicU64>,
    threads: Vec<std::thread::JoinHandle<Vec<String>>>,
}

impl Load {
    fn start(port: u16, clients: usize) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let ok = Arc::new(AtomicU64::new(0));
        let threads = (0..clients)
            .map(|_| {
                let (stop, ok) = (stop.clone(), ok.clone());
                std::thread::spawn(move || {
                    let mut failures = Vec::new();
                    while !stop.load(Ordering::Relaxed) {
                        match ask(port) {
                            Ok(_) => {
                                ok.fetch_add(1, Ordering::Relaxed);
                            }
                            Err(e) => failures.push(e),
                        }
                    }
                    failures
                })
            })
            .collect();
        Load { stop, ok, threads }
    }

    fn finish(self) -> (u64, Vec<String>) {
        self.stop.store(true, Ordering::Relaxed);
        let failures = self
            .threads
            .into_iter()
            .flat_map(|t| t.join().unwrap())
            .collect();
        (self.ok.load(Ordering::Relaxed), failures)
    }
}

#[test]
fn a_socket_service_is_replaced_under_load_with_no_failed_connection_even_after_a_daemon_kill() {
    let port = free_port();
    let s = Stack::new(&yaml(port, "v1", 0));
    let r = s.harness(&["start", "web"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(ask(port).as_deref(), Ok("v1"));
    let v1 = s.pid("web").unwrap();

    // A new daemon takes the socket back from the running shim.
    s.kill_daemon();
    assert_eq!(ask(port).as_deref(), Ok("v1"), "v1 serves without a daemon");

    std::fs::write(s.path().join("services.yaml"), yaml(port, "v2", 300)).unwrap();
    let load = Load::start(port, 3);
    std::thread::sleep(Duration::from_millis(200));
    let r = s.harness(&["deploy"]);
    std::thread::sleep(Duration::from_millis(200));
    let (answered, failures) = load.finish();
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        failures.is_empty(),
        "{} of {} failed: {:?}",
        failures.len(),
        answered as usize + failures.len(),
        &failures[..failures.len().min(5)]
    );
    assert!(answered > 200, "only {answered} requests made");
    assert_eq!(ask(port).as_deref(), Ok("v2"));
    assert!(wait_for(5, || !alive(v1)), "v1 still runs");
    let log = s.log("web");
    assert!(log.contains("v1 stopping: SIGTERM"), "{log}");

    // A plain restart of the service: the port never closes either.
    let load = Load::start(port, 2);
    let v2 = s.pid("web").unwrap();
    kill(v2, libc::SIGKILL);
    assert!(wait_for(10, || s.pid("web").is_some_and(|p| p != v2)));
    std::thread::sleep(Duration::from_millis(300));
    let (_, failures) = load.finish();
    // A request the killed run was answering is cut short; no connection
    // is refused, and none after the kill fails.
    assert!(failures.len() <= 2, "{failures:?}");
    assert!(
        failures.iter().all(|f| !f.contains("refused")),
        "{failures:?}"
    );

    // Stopped, the port is closed: refused, not left hanging.
    assert_eq!(s.harness(&["stop", "--all"]).code, 0);
    let refused = std::net::TcpStream::connect(("127.0.0.1", port));
    assert!(refused.is_err(), "the port still accepts after stop");
}

#[test]
fn a_start_first_version_that_never_gets_ready_is_killed_and_the_old_pid_never_changes() {
    let s = Stack::new(
        "services:
  api:
    command: sleep 1000
    update: { order: start-first, min_healthy: 200ms, healthy_deadline: 1s }
",
    );
    assert_eq!(s.harness(&["start", "--all"]).code, 0);
    let old = s.pid("api").unwrap();
    // Nothing ever listens on the port its check asks.
    let slow = format!(
        "services:
  api:
    command: sleep 1001
    health_check: {{ tcp: \"127.0.0.1:{}\" }}
    update: {{ order: start-first, min_healthy: 200ms, healthy_deadline: 1s }}
",
        free_port()
    );
    std::fs::write(s.path().join("services.yaml"), slow).unwrap();
    let r = s.harness(&["deploy"]);
    assert_eq!(r.code, 3, "{}", r.all());
    assert!(
        r.stdout
            .contains("  api: failed: not healthy within 1s (the previous version keeps running)"),
        "{}",
        r.stdout
    );
    assert_eq!(s.pid("api"), Some(old), "the old run is the service's run");
    assert!(alive(old));
    let deploy = s.harness(&["deploy", "status", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&deploy.stdout).unwrap();
    assert_eq!(v["services"][0]["outcome"], "failed", "{v}");
    // The old run was never signalled: the same process runs on.
    let rows = s.history();
    assert!(
        rows.iter().any(|r| r["reason"]
            .as_str()
            .is_some_and(|w| w.contains("kept running"))),
        "{rows:?}"
    );
    assert!(
        !rows.iter().any(|r| r["service"] == "api"
            && r["to"] == "stopping"
            && r["reason"]
                .as_str()
                .is_some_and(|w| w.contains("replacing"))),
        "the old run was stopped: {rows:?}"
    );
}

#[test]
fn a_deploy_that_drops_socket_lets_the_new_version_bind_the_port_itself() {
    let port = free_port();
    let s = Stack::new(&yaml(port, "v1", 0).replace("start-first", "stop-first"));
    assert_eq!(s.harness(&["start", "web"]).code, 0);
    assert_eq!(ask(port).as_deref(), Ok("v1"));
    // v2 listens on the port on its own: harness must have let go of it.
    let own = format!(
        "services:\n  web:\n    command: [{:?}, serve, \"{port}\"]\n    health_check: {{ http: \"http://127.0.0.1:{port}/\" }}\n    update: {{ min_healthy: 300ms }}\n",
        hk().display().to_string()
    );
    std::fs::write(s.path().join("services.yaml"), own).unwrap();
    let r = s.harness(&["deploy"]);
    assert_eq!(r.code, 0, "{}\n{}", r.all(), s.log("web"));
    assert_eq!(ask(port).as_deref(), Ok("ok"));
}
