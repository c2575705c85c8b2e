//! `$NOTIFY_SOCKET`: a service with `ready: notify` speaks systemd's
//! `sd_notify` protocol (`READY=1`, `STATUS=…`, `WATCHDOG=1`) to a datagram
//! socket of its own, `.harness/run/NAME.notify`. The socket names the
//! service, so a message counts whoever sends it — the main process, a
//! worker, or `systemd-notify --ready` from a wrapper script that exits at
//! once. A new daemon binds the same path again for a service it
//! re-attaches to, so pings keep arriving.

use crate::supervisor::Msg;
use harness_core::engine::{Input, Notified, RunId, ServiceId};
use std::path::Path;
use tokio::net::UnixDatagram;
use tokio::sync::mpsc::UnboundedSender;

/// Binds the service's socket, replacing a stale one.
pub fn bind(path: &Path) -> std::io::Result<UnixDatagram> {
    use std::os::unix::fs::PermissionsExt;
    let _ = std::fs::remove_file(path);
    let sock = UnixDatagram::bind(path)?;
    // The service runs as the daemon's user: no one else needs to write.
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    Ok(sock)
}

/// Forwards what run `run` of `service` says, until the supervisor is gone
/// (the caller stops it when the run ends).
pub async fn forward(sock: UnixDatagram, service: ServiceId, run: RunId, tx: UnboundedSender<Msg>) {
    let mut buf = vec![0u8; 4096];
    while let Ok(n) = sock.recv(&mut buf).await {
        for message in parse(&String::from_utf8_lossy(&buf[..n])) {
            let fact = Input::Notified {
                service,
                run,
                message,
            };
            if tx.send(Msg::Fact(fact)).is_err() {
                return;
            }
        }
    }
}

/// The messages of one datagram harness acts on: `READY=1`, `STATUS=…`,
/// `WATCHDOG=1` (others, such as `MAINPID=`, are ignored).
pub fn parse(text: &str) -> Vec<Notified> {
    text.lines()
        .filter_map(|line| match line.split_once('=') {
            Some(("READY", "1")) => Some(Notified::Ready("READY=1".into())),
            Some(("STATUS", s)) => Some(Notified::Status(s.to_string())),
            Some(("WATCHDOG", "1")) => Some(Notified::Watchdog),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::parse;
    use harness_core::engine::Notified;

    #[test]
    fn reads_the_lines_harness_acts_on() {
        assert_eq!(
            parse("STATUS=warming up\nMAINPID=4\nREADY=1\nWATCHDOG=1\nREADY=0"),
            [
                Notified::Status("warming up".into()),
                Notified::Ready("READY=1".into()),
                Notified::Watchdog
            ]
        );
    }
}
