//! Clients that misbehave on the daemon's socket: bad requests get a 4xx
//! with a clear error and change nothing; no input takes the daemon down;
//! hung connections are closed and never hold up anyone else; a client
//! that never reads its start's progress holds up nothing.

mod common;
use common::*;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::time::Duration;

const TWO: &str = "services:\n  api: { command: sleep 1000 }\n  db: { command: sleep 1000 }\njobs:\n  build:\n    steps:\n      - { name: compile, command: \"echo compiled\" }\n";

/// Sends `raw` as it is and reads the answer to its end: (status, body).
fn exchange(s: &Stack, raw: &[u8]) -> (u16, String) {
    exchange_at(&s.path().join(".harness/harness.sock"), raw)
}

/// [`exchange`] on the socket at `sock`.
fn exchange_at(sock: &std::path::Path, raw: &[u8]) -> (u16, String) {
    let mut c = UnixStream::connect(sock).expect("the daemon's socket");
    c.set_read_timeout(Some(HARNESS_TIMEOUT)).unwrap();
    let _ = c.write_all(raw);
    let mut out = Vec::new();
    let _ = c.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out).into_owned();
    let code = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_string());
    (code, body.unwrap_or_default())
}

fn post(s: &Stack, path: &str, content_type: &str, body: &[u8]) -> (u16, String) {
    let mut raw = format!(
        "POST {path} HTTP/1.0\r\nHost: h\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    raw.extend_from_slice(body);
    exchange(s, &raw)
}

fn get(s: &Stack, path: &str) -> (u16, String) {
    exchange(
        s,
        format!("GET {path} HTTP/1.0\r\nHost: h\r\n\r\n").as_bytes(),
    )
}

/// The daemon is the one that started, and never panicked.
fn still_the_same_daemon(s: &Stack, pid: u32) {
    assert_eq!(get(s, "/v1/status").0, 200);
    assert_eq!(s.daemon_pid(), Some(pid), "the daemon was replaced");
    let log = std::fs::read_to_string(s.path().join(".harness/daemon.log")).unwrap();
    assert!(!log.contains("panicked"), "{log}");
}

#[test]
fn bad_requests_get_a_clear_4xx_and_change_nothing() {
    let s = Stack::new(TWO);
    assert_eq!(s.harness(&["status"]).code, 0);
    let daemon = s.daemon_pid().unwrap();
    let json = "application/json";
    let cases: Vec<(&str, (u16, String), u16, &str)> = vec![
        (
            "not HTTP",
            exchange(&s, b"\x00\x01GARBAGE\r\n\r\n"),
            400,
            "",
        ),
        (
            "not JSON's content type",
            post(&s, "/v1/start", "text/plain", b"all"),
            415,
            "Content-Type: application/json",
        ),
        (
            "broken JSON",
            post(&s, "/v1/start", json, br#"{"all": tru"#),
            400,
            "Failed to parse the request body as JSON",
        ),
        (
            "wrong types",
            post(&s, "/v1/start", json, br#"{"services": 5}"#),
            422,
            "invalid type: integer `5`, expected a sequence",
        ),
        (
            "a negative timeout",
            post(
                &s,
                "/v1/start",
                json,
                br#"{"all": true, "timeout_secs": -5}"#,
            ),
            422,
            "timeout_secs: -5 is not a number of seconds from 0 to 604800 (7 days)",
        ),
        (
            "an absurd timeout",
            post(
                &s,
                "/v1/plan",
                json,
                br#"{"all": true, "timeout_secs": 1e308}"#,
            ),
            422,
            "is not a number of seconds",
        ),
        (
            "an unknown service",
            post(&s, "/v1/stop", json, br#"{"services": ["nope"]}"#),
            422,
            "unknown service `nope`; services are: api, db",
        ),
        (
            "a number too large",
            get(&s, "/v1/logs?tail=99999999999999999999999"),
            400,
            "number too large",
        ),
        ("no such route", get(&s, "/v1/nope"), 404, ""),
        (
            "a body of 100 MB",
            post(&s, "/v1/start", json, &vec![b' '; 100 << 20]),
            413,
            "length limit exceeded",
        ),
    ];
    for (what, (code, body), want, says) in cases {
        assert_eq!(code, want, "{what}: {body}");
        assert!(body.contains(says), "{what}: {body}");
    }
    // None of it started anything.
    let status = s.status();
    assert!(
        status["services"]
            .as_array()
            .unwrap()
            .iter()
            .all(|v| v["status"] == "stopped"),
        "{status}"
    );
    still_the_same_daemon(&s, daemon);
}

/// A small deterministic generator (xorshift), so a failure is replayed
/// by the same seed.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<'a, T>(&mut self, from: &'a [T]) -> &'a T {
        &from[(self.next() % from.len() as u64) as usize]
    }
    /// A JSON value of the kinds a request's fields take, and others.
    fn value(&mut self, depth: u32) -> serde_json::Value {
        use serde_json::json;
        const KEYS: [&str; 16] = [
            "services",
            "all",
            "timeout_secs",
            "force",
            "no_wait",
            "failed",
            "blocked",
            "on_failure",
            "exact",
            "start",
            "restart",
            "service",
            "to",
            "step",
            "via",
            "reason",
        ];
        match self.next() % 10 {
            0 if depth < 3 => (0..self.next() % 4)
                .map(|_| self.value(depth + 1))
                .collect(),
            1 if depth < 3 => {
                let mut m = serde_json::Map::new();
                for _ in 0..self.next() % 5 {
                    let k = *self.pick(&KEYS);
                    m.insert(k.into(), self.value(depth + 1));
                }
                m.into()
            }
            2 => json!(*self.pick(&[-1.0, 0.0, 1e308, -1e308, 2.5, 604_801.0])),
            3 => json!(*self.pick(&[0u64, 1, u64::MAX, 1 << 53])),
            4 => json!(*self.pick(&[
                "api", "db", "build", "compile", "nope", "../x", "", "rollback", "retry", "skip"
            ])),
            5 => json!("x".repeat((self.next() % 5000) as usize)),
            6 => json!(["api"]),
            7 => serde_json::Value::Null,
            _ => json!(self.next().is_multiple_of(2)),
        }
    }
}

#[test]
fn a_thousand_random_requests_never_take_the_daemon_down() {
    let s = Stack::new(TWO);
    assert_eq!(s.harness(&["status"]).code, 0);
    let daemon = s.daemon_pid().unwrap();
    const POSTS: [&str; 12] = [
        "/v1/plan",
        "/v1/deploy/plan",
        "/v1/start",
        "/v1/stop",
        "/v1/health",
        "/v1/choice",
        "/v1/rollback",
        "/v1/jobs/build/run",
        "/v1/jobs/build/decide",
        "/v1/jobs/build/mark",
        "/v1/jobs/build/cancel",
        "/v1/deploys/1/cancel",
    ];
    const GETS: [&str; 10] = [
        "/v1/status",
        "/v1/history?limit=5",
        "/v1/deploys/999999999999",
        "/v1/jobs/nope",
        "/v1/jobs/build/logs/compile?attempt=-5",
        "/v1/logs?services=,,",
        "/v1/logs/..%2f..%2fx",
        "/v1/logs?services=build/compile/x",
        "/v1/metrics",
        "/v1/info",
    ];
    let mut g = Gen(0x9e37_79b9_7f4a_7c15);
    for n in 0..1000 {
        let (code, body, what) = if g.next().is_multiple_of(4) {
            let path = *g.pick(&GETS);
            let (c, b) = get(&s, path);
            (c, b, path.to_string())
        } else {
            let path = *g.pick(&POSTS);
            let mut m = serde_json::Map::new();
            for _ in 0..g.next() % 5 {
                let key = g.value(3);
                let key = key.as_str().unwrap_or("all").to_string();
                m.insert(key, g.value(0));
            }
            let body = if g.next().is_multiple_of(10) {
                g.value(0)
            } else {
                m.into()
            };
            let text = body.to_string();
            // A start's progress stream is read to its end like any answer.
            let (c, b) = post(&s, path, "application/json", text.as_bytes());
            (c, b, format!("{path} {}", &text[..text.len().min(300)]))
        };
        assert!(
            code != 0 && code < 500,
            "request {n}: {what} → {code} {body}"
        );
    }
    still_the_same_daemon(&s, daemon);
}

/// Lets this test process hold as many descriptors as it may (1,200
/// sockets at once are past the usual soft limit of 1,024).
fn raise_fd_limit() {
    let mut l = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: plain calls on a struct we own.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut l) == 0 {
            l.rlim_cur = l.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &l);
        }
    }
}

#[test]
fn hung_connections_are_closed_and_hold_up_no_one() {
    raise_fd_limit();
    let s = Stack::new(TWO);
    assert_eq!(s.harness(&["status"]).code, 0);
    let daemon = s.daemon_pid().unwrap();
    // 200 connections: half say nothing, half send half a request.
    let hung: Vec<UnixStream> = (0..200)
        .map(|k| {
            let mut c = s.socket();
            if k % 2 == 1 {
                c.write_all(b"GET /v1/status HTTP/1.1\r\nHost: h\r\n")
                    .unwrap();
            }
            c
        })
        .collect();
    // A start whose body stops half way.
    let mut stalled = s.socket();
    stalled
        .write_all(b"POST /v1/start HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\nContent-Length: 13\r\n\r\n{\"all\"")
        .unwrap();
    // A start whose progress its client never reads.
    let mut unread = s.socket();
    let body = r#"{"all": true}"#;
    write!(
        unread,
        "POST /v1/start HTTP/1.0\r\nHost: h\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    // Meanwhile, 1000 status requests at once are all answered, and the
    // start goes through.
    let sock = s.path().join(".harness/harness.sock");
    let answered: Vec<u16> = std::thread::scope(|scope| {
        let asks: Vec<_> = (0..1000)
            .map(|_| {
                scope.spawn(|| exchange_at(&sock, b"GET /v1/status HTTP/1.0\r\nHost: h\r\n\r\n").0)
            })
            .collect();
        asks.into_iter().map(|a| a.join().unwrap()).collect()
    });
    assert!(answered.iter().all(|&c| c == 200), "{answered:?}");
    assert!(wait_for(10, || {
        s.status()["services"]
            .as_array()
            .unwrap()
            .iter()
            .all(|v| v["status"] == "running")
    }));
    assert_eq!(s.harness(&["status"]).code, 0);
    // Past the time headers may take, every hung connection is closed.
    std::thread::sleep(Duration::from_secs(11));
    for (k, mut c) in hung.into_iter().enumerate() {
        c.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
        let mut rest = Vec::new();
        let closed = c.read_to_end(&mut rest).is_ok();
        assert!(closed, "hung connection {k} is still open");
    }
    // The stalled body is cut off and answered, saying why.
    stalled
        .set_read_timeout(Some(Duration::from_secs(1)))
        .unwrap();
    let mut answer = String::new();
    assert!(stalled.read_to_string(&mut answer).is_ok(), "still open");
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(
        answer.contains("the request's body did not arrive within 10 s"),
        "{answer}"
    );
    drop(unread);
    still_the_same_daemon(&s, daemon);
}

#[test]
fn the_tcp_listener_answers_bad_requests_with_4xx_and_closes_hung_connections() {
    use std::net::TcpStream;
    let port = free_port();
    let s = Stack::new(&format!(
        "settings:\n  listen: {port}\nservices:\n  api: {{ command: sleep 1000 }}\n"
    ));
    assert_eq!(s.harness(&["start", "api"]).code, 0);
    let daemon = s.daemon_pid().unwrap();
    let tcp = || {
        let t = TcpStream::connect(("127.0.0.1", port)).expect("listening on loopback");
        t.set_read_timeout(Some(HARNESS_TIMEOUT)).unwrap();
        t
    };
    let send = |raw: &[u8]| {
        let mut t = tcp();
        let _ = t.write_all(raw);
        let mut out = Vec::new();
        let _ = t.read_to_end(&mut out);
        String::from_utf8_lossy(&out).into_owned()
    };
    assert!(send(b"\x16\x03\x01 not http\r\n\r\n").starts_with("HTTP/1.1 400"));
    // Read-only: the routes that act are not there.
    let stop = send(b"POST /v1/stop HTTP/1.0\r\nContent-Type: application/json\r\nContent-Length: 12\r\n\r\n{\"all\":true}");
    assert!(
        stop.starts_with("HTTP/1.0 404") || stop.starts_with("HTTP/1.0 405"),
        "{stop}"
    );
    assert_eq!(s.service("api")["status"], "running");
    let status = send(b"GET /v1/status HTTP/1.0\r\n\r\n");
    assert!(status.starts_with("HTTP/1.0 200"), "{status}");
    // A hung connection is closed once its headers are overdue.
    let mut hung = tcp();
    hung.write_all(b"GET /metrics HTTP/1.1\r\n").unwrap();
    hung.set_read_timeout(Some(Duration::from_secs(15)))
        .unwrap();
    let started = std::time::Instant::now();
    let mut rest = Vec::new();
    assert!(hung.read_to_end(&mut rest).is_ok(), "closed, not timed out");
    assert!(started.elapsed() < Duration::from_secs(14));
    still_the_same_daemon(&s, daemon);
}
