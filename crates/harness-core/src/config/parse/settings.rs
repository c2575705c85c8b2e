//! The `settings:` block: the defaults every service starts from.

use super::fields::{check_keys, mapping, opt_duration};
use super::probe::timing_defaults;
use super::restart::{exit_codes, restart};
use super::update::update;
use crate::config::Location;
use crate::config::error::Errors;
use crate::config::model::{ProbeTiming, Restart, Settings, Update};
use marked_yaml::Node;
use marked_yaml::types::MarkedMappingNode;

const SETTINGS_KEYS: &[&str] = &[
    "startup_timeout",
    "restart",
    "success_exit_codes",
    "listen",
    "health_check",
    "liveness",
    "startup",
    "update",
    "logs",
];

pub(super) fn walk_settings(node: &Node, errs: &mut Errors) -> Settings {
    let Some(map) = mapping(node, "`settings`", errs) else {
        return Settings::default();
    };
    check_keys(map, SETTINGS_KEYS, "in `settings`", errs);
    Settings {
        startup_timeout: opt_duration(map, "startup_timeout", errs),
        restart: map
            .get_node("restart")
            .map(|n| restart(n, &Restart::default(), errs))
            .unwrap_or_default(),
        success_exit_codes: map
            .get_node("success_exit_codes")
            .map(|n| exit_codes(n, "success_exit_codes", errs)),
        listen: listen(map, errs),
        readiness: timing_defaults(map, "health_check", ProbeTiming::READINESS, errs),
        liveness: timing_defaults(map, "liveness", ProbeTiming::LIVENESS, errs),
        startup: timing_defaults(map, "startup", ProbeTiming::STARTUP, errs),
        update: map
            .get_node("update")
            .map(|n| update(n, &Update::default(), errs))
            .unwrap_or_default(),
        logs: map
            .get_node("logs")
            .map(|n| super::logs::logs(n, &Default::default(), errs))
            .unwrap_or_default(),
    }
}

/// `settings.listen`: `9100` (loopback) or `host:port`. A bare port means
/// loopback so that status and metrics are not served to the network
/// unless an address says so.
fn listen(map: &MarkedMappingNode, errs: &mut Errors) -> Option<String> {
    let node = map.get_scalar("listen")?;
    let text = node.as_str().trim();
    let addr = if text.parse::<u16>().is_ok() {
        format!("127.0.0.1:{text}")
    } else {
        text.to_string()
    };
    if addr.parse::<std::net::SocketAddr>().is_err() {
        errs.push_help(
            Location::of(node.span()),
            format!("`listen` must be a port or an address such as 127.0.0.1:9100, not `{text}`"),
            Some("a bare port listens on 127.0.0.1 only".into()),
        );
        return None;
    }
    Some(addr)
}
