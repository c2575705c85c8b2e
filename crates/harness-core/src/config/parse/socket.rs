//! `socket: { tcp: "127.0.0.1:8080" }`: a listening socket harness binds
//! and hands to the service (systemd's socket-activation protocol), so
//! that the port is never closed while one version replaces another.

use super::fields::{check_keys, mapping};
use crate::config::Location;
use crate::config::error::Errors;
use marked_yaml::Node;
use std::net::SocketAddr;

const SOCKET_KEYS: &[&str] = &["tcp"];

/// `socket:`, as the address to listen on and where it is written.
pub(super) fn socket(node: &Node, errs: &mut Errors) -> Option<(SocketAddr, Location)> {
    let map = mapping(node, "`socket`", errs)?;
    check_keys(map, SOCKET_KEYS, "in `socket`", errs);
    let Some(tcp) = map.get_node("tcp") else {
        errs.push(
            Location::of(node.span()),
            "`socket` needs `tcp: \"ADDRESS:PORT\"`",
        );
        return None;
    };
    let at = Location::of(tcp.span());
    let text = tcp.as_scalar().map(|s| s.as_str()).unwrap_or("");
    match text.parse::<SocketAddr>() {
        Ok(addr) if addr.port() != 0 => Some((addr, at)),
        Ok(_) => {
            errs.push(at, "`socket.tcp` needs a port other than 0");
            None
        }
        Err(_) => {
            errs.push_help(
                at,
                format!("`socket.tcp` must be an IP address and port, not `{text}`"),
                Some("for example \"127.0.0.1:8080\" or \"[::1]:8080\"".into()),
            );
            None
        }
    }
}
