//! Health for other tools: Prometheus metrics and per-service health on the
//! Unix socket, and read-only on TCP when `settings.listen` asks for it.

mod common;
use common::*;
use std::net::TcpStream;

#[test]
fn metrics_and_health_on_the_socket_and_read_only_on_tcp() {
    let port = free_port();
    let s = Stack::new(&format!(
        "settings:\n  listen: {port}\nservices:\n  db:\n    command: sleep 1000\n  api:\n    command: exit 1\n    restart: never\n"
    ));
    assert_eq!(s.harness(&["start", "db"]).code, 0);
    assert_eq!(s.harness(&["start", "api"]).code, 3);

    let (code, text) = http(s.socket(), "GET", "/metrics");
    assert_eq!(code, 200);
    for line in [
        "harness_service_up{service=\"db\"} 1",
        "harness_service_up{service=\"api\"} 0",
        "harness_service_healthy{service=\"db\"} 1",
        "harness_service_state{service=\"db\",state=\"running\"} 1",
        "harness_service_restarts_total{service=\"db\"} 0",
    ] {
        assert!(text.lines().any(|l| l == line), "{line}\n{text}");
    }

    let tcp = || {
        let t = TcpStream::connect(("127.0.0.1", port)).expect("listening on loopback");
        // An answer that never comes fails the test instead of hanging it.
        t.set_read_timeout(Some(HARNESS_TIMEOUT)).unwrap();
        t.set_write_timeout(Some(HARNESS_TIMEOUT)).unwrap();
        t
    };
    let (code, text) = http(tcp(), "GET", "/metrics");
    assert_eq!(code, 200);
    assert!(
        text.contains("harness_service_up{service=\"db\"} 1"),
        "{text}"
    );
    let (code, body) = http(tcp(), "GET", "/v1/services/db/health");
    assert_eq!(code, 200, "{body}");
    assert!(body.contains("\"health\":\"healthy\""), "{body}");
    let (code, _) = http(tcp(), "GET", "/v1/services/api/health");
    assert_eq!(code, 503);
    let (code, _) = http(tcp(), "GET", "/v1/services/nope/health");
    assert_eq!(code, 404);
    let (code, _) = http(tcp(), "POST", "/v1/stop");
    assert!(
        code == 404 || code == 405,
        "control stays on the socket: {code}"
    );
    assert!(s.pid("db").is_some());
}
