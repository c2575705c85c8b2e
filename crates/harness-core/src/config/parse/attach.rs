//! `attach:`: how to recognise this service when something other than
//! harness started it (systemd, a person, another project) — by the name
//! of its process, a pidfile it writes, or a port it listens on — besides
//! the port its readiness check or `socket:` names, which is always
//! looked at.

use super::fields::{check_keys, mapping, opt_path, opt_string};
use crate::config::Location;
use crate::config::error::Errors;
use crate::config::model::Attach;
use marked_yaml::Node;

const ATTACH_KEYS: &[&str] = &["process_name", "pidfile", "port"];

/// `attach:`, with at least one of its keys.
pub(super) fn attach(node: &Node, errs: &mut Errors) -> Option<Attach> {
    let map = mapping(node, "`attach`", errs)?;
    check_keys(map, ATTACH_KEYS, "in `attach`", errs);
    let port = map.get_node("port").and_then(|n| {
        let text = n.as_scalar().map(|s| s.as_str()).unwrap_or("");
        match text.parse::<u16>() {
            Ok(p) if p != 0 => Some(p),
            _ => {
                errs.push(
                    Location::of(n.span()),
                    format!("`attach.port` must be a port number from 1 to 65535, not `{text}`"),
                );
                None
            }
        }
    });
    let attach = Attach {
        process_name: opt_string(map, "process_name", errs),
        pidfile: opt_path(map, "pidfile", errs),
        port,
    };
    if attach.process_name.is_none() && attach.pidfile.is_none() && attach.port.is_none() {
        // A key misspelt is said already; only an empty `attach` is not.
        if map.iter().next().is_none() {
            errs.push_help(
                Location::of(node.span()),
                "`attach` needs `process_name`, `pidfile` or `port`",
                Some("for example `attach: { process_name: postgres }`".into()),
            );
        }
        return None;
    }
    Some(attach)
}
