//! One entry of `services:`: its own keys (`command`, `stop_signal`,
//! `ready`, `watchdog`…), with the settings filled in for what it leaves
//! out, and the other parts of it read by their own files.

use super::depends_on::depends_on;
use super::env::env;
use super::fields::{check_keys, mapping, opt_duration, opt_path, opt_string, positive};
use super::probe::probe;
use super::restart::{exit_codes, restart};
use super::socket::socket;
use super::update::{update, version};
use crate::config::Location;
use crate::config::error::{Errors, did_you_mean};
use crate::config::model::{Command, Ready, Service, Settings, StopSignal};
use marked_yaml::Node;
use marked_yaml::types::{MarkedMappingNode, MarkedScalarNode};
use std::time::Duration;

const SERVICE_KEYS: &[&str] = &[
    "command",
    "working_dir",
    "env",
    "env_file",
    "depends_on",
    "health_check",
    "startup_timeout",
    "stop_signal",
    "stop_timeout",
    "network",
    "restart",
    "success_exit_codes",
    "liveness",
    "startup",
    "ready",
    "watchdog",
    "update",
    "version",
    "socket",
    "logs",
    "attach",
];

pub(super) fn walk_service(
    key: &MarkedScalarNode,
    node: &Node,
    settings: &Settings,
    errs: &mut Errors,
) -> Option<Service> {
    let name = key.as_str().to_string();
    let location = Location::of(key.span());
    let map = mapping(node, &format!("service `{name}`"), errs)?;
    check_keys(map, SERVICE_KEYS, &format!("in service `{name}`"), errs);
    let command = service_command(map, &name, location, errs)?;
    let stop_signal = match map.get_scalar("stop_signal") {
        Some(s) => stop_signal(s, errs),
        None => StopSignal::Term,
    };
    let ready = map.get_node("ready").and_then(|n| ready(n, errs));
    check_watchdog(map, ready.as_ref(), errs);
    Some(Service {
        working_dir: opt_path(map, "working_dir", errs),
        env: env(map, errs),
        env_file: opt_path(map, "env_file", errs),
        depends_on: map
            .get_node("depends_on")
            .map(|n| depends_on(n, errs))
            .unwrap_or_default(),
        health_check: probe(map, "health_check", &settings.readiness, errs),
        liveness: probe(map, "liveness", &settings.liveness, errs),
        startup: probe(map, "startup", &settings.startup, errs),
        startup_timeout: opt_duration(map, "startup_timeout", errs),
        stop_timeout: opt_duration(map, "stop_timeout", errs).unwrap_or(Duration::from_secs(10)),
        network: opt_string(map, "network", errs),
        ready,
        watchdog: positive(map, "watchdog", errs),
        restart: map
            .get_node("restart")
            .map(|n| restart(n, &settings.restart, errs))
            .unwrap_or_else(|| settings.restart.clone()),
        success_exit_codes: map
            .get_node("success_exit_codes")
            .map(|n| exit_codes(n, "success_exit_codes", errs))
            .or_else(|| settings.success_exit_codes.clone())
            .unwrap_or_else(|| vec![0]),
        update: map
            .get_node("update")
            .map(|n| update(n, &settings.update, errs))
            .unwrap_or(settings.update),
        logs: map
            .get_node("logs")
            .map(|n| super::logs::logs(n, &settings.logs, errs))
            .unwrap_or(settings.logs),
        version: map
            .get_node("version")
            .map(|n| version(n, errs))
            .unwrap_or_default(),
        socket: map.get_node("socket").and_then(|n| socket(n, errs)),
        attach: map
            .get_node("attach")
            .and_then(|n| super::attach::attach(n, errs)),
        observed: Default::default(),
        stop_signal,
        command,
        name,
        location,
    })
}

/// `command`, the one key a service cannot do without: with none, the
/// service is dropped and the error points at its name.
fn service_command(
    map: &MarkedMappingNode,
    name: &str,
    location: Location,
    errs: &mut Errors,
) -> Option<Command> {
    match map.get_node("command") {
        Some(node) => command(node, errs),
        None => {
            errs.push(location, format!("service `{name}` has no `command`"));
            None
        }
    }
}

pub(super) fn command(node: &Node, errs: &mut Errors) -> Option<Command> {
    let at = Location::of(node.span());
    match node {
        Node::Scalar(s) if !s.as_str().trim().is_empty() => {
            Some(Command::Shell(s.as_str().to_string()))
        }
        Node::Sequence(seq) if !seq.is_empty() => {
            let mut argv = Vec::new();
            for item in seq.iter() {
                match item.as_scalar() {
                    Some(s) => argv.push(s.as_str().to_string()),
                    None => {
                        errs.push(
                            Location::of(item.span()),
                            "each `command` argument must be a string",
                        );
                        return None;
                    }
                }
            }
            Some(Command::Argv(argv))
        }
        _ => {
            errs.push(
                at,
                "`command` must be a non-empty string or list of strings",
            );
            None
        }
    }
}

/// A signal name, with or without `SIG`, in any case.
fn stop_signal(s: &MarkedScalarNode, errs: &mut Errors) -> StopSignal {
    let text = s.as_str().to_ascii_uppercase();
    let full = if text.starts_with("SIG") {
        text.clone()
    } else {
        format!("SIG{text}")
    };
    match StopSignal::ALL.iter().find(|(_, n)| *n == full) {
        Some((sig, _)) => *sig,
        None => {
            errs.push_help(
                Location::of(s.span()),
                format!("unknown stop signal `{}`", s.as_str()),
                did_you_mean(&full, StopSignal::ALL.iter().map(|(_, n)| *n)).or(Some(
                    "use SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGKILL, SIGUSR1 or SIGUSR2".into(),
                )),
            );
            StopSignal::Term
        }
    }
}

/// `ready: notify` or `ready: { log: "regex" }`.
fn ready(node: &Node, errs: &mut Errors) -> Option<Ready> {
    const HELP: &str = "write `ready: notify` or `ready: { log: \"listening on\" }`";
    match node {
        Node::Scalar(s) if s.as_str() == "notify" => Some(Ready::Notify),
        Node::Mapping(map) => {
            check_keys(map, &["log"], "in `ready`", errs);
            let Some(pattern) = map.get_scalar("log") else {
                errs.push_help(
                    Location::of(map.span()),
                    "`ready` needs `log`",
                    Some(HELP.into()),
                );
                return None;
            };
            ready_log(pattern, errs)
        }
        other => {
            errs.push_help(
                Location::of(other.span()),
                "`ready` must be `notify` or a mapping with `log`",
                Some(HELP.into()),
            );
            None
        }
    }
}

/// The pattern is compiled here only to be checked, so that a bad one is
/// an error at its line now rather than a service that never turns ready.
fn ready_log(pattern: &MarkedScalarNode, errs: &mut Errors) -> Option<Ready> {
    match regex::Regex::new(pattern.as_str()) {
        Ok(_) => Some(Ready::Log(pattern.as_str().to_string())),
        Err(e) => {
            // The regex message repeats the pattern with a caret under the
            // fault; its last line says what the fault is.
            let fault = e
                .to_string()
                .lines()
                .last()
                .unwrap_or("")
                .trim()
                .to_string();
            errs.push(
                Location::of(pattern.span()),
                format!("`ready.log` is not a valid regular expression: {fault}"),
            );
            None
        }
    }
}

/// The watchdog is fed by `WATCHDOG=1` on the notify socket, which only
/// `ready: notify` sets up; without it, it could never be fed.
fn check_watchdog(map: &MarkedMappingNode, ready: Option<&Ready>, errs: &mut Errors) {
    if let Some(w) = map.get_node("watchdog")
        && ready != Some(&Ready::Notify)
    {
        errs.push_help(
            Location::of(w.span()),
            "`watchdog` needs `ready: notify` (the service pings with WATCHDOG=1)",
            Some("add `ready: notify`, or use a `liveness` probe".into()),
        );
    }
}
