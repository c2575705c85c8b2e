//! `$NOTIFY_SOCKET`: services with `ready: notify` speak systemd's
//! `sd_notify` protocol (`READY=1`, `STATUS=…`, `WATCHDOG=1`) to one datagram
//! socket per project. The kernel tells us the sender's pid
//! (`SCM_CREDENTIALS`); the supervisor maps it to a service through its
//! process group, so a message from any process of the service counts.

use crate::supervisor::Msg;
use rustix::net::{RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags, recvmsg, sockopt};
use std::io::IoSliceMut;
use std::mem::MaybeUninit;
use std::path::Path;
use tokio::io::Interest;
use tokio::net::UnixDatagram;
use tokio::sync::mpsc::UnboundedSender;

/// Binds the socket (replacing a stale one) and asks for credentials.
pub fn bind(path: &Path) -> std::io::Result<UnixDatagram> {
    let _ = std::fs::remove_file(path);
    let sock = UnixDatagram::bind(path)?;
    sockopt::set_socket_passcred(&sock, true)?;
    Ok(sock)
}

/// Forwards every datagram with its sender's pid until the supervisor is
/// gone.
pub async fn serve(sock: UnixDatagram, tx: UnboundedSender<Msg>) {
    let mut buf = vec![0u8; 4096];
    loop {
        if sock.readable().await.is_err() {
            return;
        }
        let got = sock.try_io(Interest::READABLE, || {
            let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmCredentials(1))];
            let mut control = RecvAncillaryBuffer::new(&mut space);
            let mut iov = [IoSliceMut::new(&mut buf)];
            let msg = recvmsg(&sock, &mut iov, &mut control, RecvFlags::DONTWAIT)?;
            let pid = control.drain().find_map(|m| match m {
                RecvAncillaryMessage::ScmCredentials(c) => Some(c.pid.as_raw_nonzero().get()),
                _ => None,
            });
            Ok((msg.bytes.min(buf.len()), pid))
        });
        match got {
            Ok((n, Some(pid))) => {
                let text = String::from_utf8_lossy(&buf[..n]).into_owned();
                if tx.send(Msg::Notify { pid, text }).is_err() {
                    return;
                }
            }
            Ok((_, None)) => tracing::debug!("notify message without credentials; ignored"),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) => tracing::warn!(error = %e, "notify socket"),
        }
    }
}

/// The messages of one datagram harness acts on: `READY=1`, `STATUS=…`,
/// `WATCHDOG=1` (others, such as `MAINPID=`, are ignored).
pub fn parse(text: &str) -> Vec<harness_core::engine::Notified> {
    use harness_core::engine::Notified;
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
