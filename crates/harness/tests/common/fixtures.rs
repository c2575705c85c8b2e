//! Ports, fixture programs (`hk`) and HTTP exchanges.

use super::*;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

/// A free TCP port on loopback.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A shell command for a service that listens on 127.0.0.1:`port` after
/// `delay_ms` and then prints `listening on PORT` (`hk listen`).
pub fn listener(port: u16, delay_ms: u64) -> String {
    format!("{} listen {port} --after {delay_ms}", sh_quote(hk()))
}

/// `path` as one word for `sh -c`.
pub fn sh_quote(path: &Path) -> String {
    format!("'{}'", path.display().to_string().replace('\'', r"'\''"))
}

/// The `hk` fixture program (crates/harness-testkit), built on first use.
///
/// Cargo builds a package's own binaries for its integration tests, never
/// another package's, so under `cargo test -p harness` alone `hk` would be
/// missing from the target folder, or left there by an older build. So the
/// first test of each test binary that asks for it runs `cargo build -p
/// harness-testkit --bin hk` (already up to date, and so nearly free, under
/// `cargo test --workspace`) and uses the path cargo reports. `cargo test`
/// lets go of the target folder's lock before it runs the tests, so this
/// does not wait on the `cargo test` that runs it.
pub fn hk() -> &'static Path {
    static HK: OnceLock<PathBuf> = OnceLock::new();
    HK.get_or_init(|| {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| env!("CARGO").into());
        let out = run_within(
            Command::new(cargo)
                .args(["build", "--locked", "-p", "harness-testkit", "--bin", "hk"])
                .arg("--message-format=json-render-diagnostics")
                .current_dir(env!("CARGO_MANIFEST_DIR")),
            // A cold build of hk and libc takes seconds; this also covers
            // waiting for another cargo that holds the target folder.
            Duration::from_secs(300),
        );
        assert!(
            out.status.success(),
            "cannot build hk:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == "hk")
            .find_map(|m| m["executable"].as_str().map(PathBuf::from))
            .expect("cargo reports where it put hk")
    })
}

/// A plain HTTP/1.1 exchange over any stream: `(status code, body)`.
pub fn http(
    stream: impl std::io::Read + std::io::Write,
    method: &str,
    path: &str,
) -> (u16, String) {
    http_with_body(stream, method, path, "")
}

/// [`http`] with a JSON request body.
pub fn http_with_body(
    mut stream: impl std::io::Read + std::io::Write,
    method: &str,
    path: &str,
    json: &str,
) -> (u16, String) {
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: harness\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{json}",
        json.len()
    )
    .expect("send the HTTP request");
    let mut raw = String::new();
    stream
        .read_to_string(&mut raw)
        .expect("read the HTTP response");
    let code = raw
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = raw
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (code, body)
}
