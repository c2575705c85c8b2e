//! From YAML text to the validated [`Config`], walking the marked node tree
//! so that every error can name its line and column.

use super::error::{Errors, did_you_mean};
use super::model::*;
use super::validate;
use super::{ConfigErrors, Location};
use crate::duration::parse_duration;
use marked_yaml::types::{MarkedMappingNode, MarkedScalarNode};
use marked_yaml::{LoadError, Node};
use std::path::PathBuf;
use std::time::Duration;

const TOP_KEYS: &[&str] = &["settings", "services"];
const SETTINGS_KEYS: &[&str] = &[
    "startup_timeout",
    "restart",
    "success_exit_codes",
    "listen",
    "health_check",
    "liveness",
    "startup",
];
const TIMING_KEYS: &[&str] = &["interval", "timeout", "retries", "start_period"];
const RESTART_KEYS: &[&str] = &["policy", "backoff", "max_restarts", "window", "min_uptime"];
const BACKOFF_KEYS: &[&str] = &["initial", "max"];
const POLICIES: &[&str] = &["on-failure", "always", "never"];
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
];
const HEALTH_KEYS: &[&str] = &[
    "command",
    "http",
    "tcp",
    "start_period",
    "interval",
    "timeout",
    "retries",
];
const PROBE_KINDS: &[&str] = &["command", "http", "tcp"];

/// Parses and validates a config. `file` is used only in error messages.
pub fn parse(text: &str, file: &str) -> Result<Config, ConfigErrors> {
    let mut errs = Errors {
        file: file.to_string(),
        list: Vec::new(),
    };
    let root = match marked_yaml::parse_yaml_with_options(
        0,
        text,
        marked_yaml::LoaderOptions::default().error_on_duplicate_keys(true),
    ) {
        Ok(node) => node,
        Err(e) => {
            let (at, msg) = load_error(&e);
            errs.push(at, msg);
            return Err(ConfigErrors(errs.list));
        }
    };
    let config = walk_root(&root, &mut errs);
    if let Some(config) = &config {
        validate::validate(config, &mut errs);
    }
    match config {
        Some(config) if errs.list.is_empty() => Ok(config),
        _ => {
            errs.list
                .sort_by_key(|e| (e.location.line, e.location.column));
            Err(ConfigErrors(errs.list))
        }
    }
}

fn load_error(e: &LoadError) -> (Location, String) {
    let at = |m: &marked_yaml::Marker| Location {
        line: m.line(),
        column: m.column(),
    };
    match e {
        LoadError::TopLevelMustBeMapping(m) => (
            at(m),
            "the file must be a mapping with a `services:` key".into(),
        ),
        LoadError::ScanError(m, se) => (at(m), format!("invalid YAML: {}", se.info())),
        LoadError::DuplicateKey(inner) => (
            Location::of(inner.key.span()),
            format!(
                "duplicate key `{}` (first written at line {})",
                inner.key.as_str(),
                Location::of(inner.prev_key.span()).line
            ),
        ),
        LoadError::UnexpectedAnchor(m) => (at(m), "YAML anchors are not supported".into()),
        LoadError::UnexpectedTag(m) => (at(m), "YAML tags are not supported".into()),
        LoadError::MappingKeyMustBeScalar(m) => {
            (at(m), "mapping keys must be plain strings".into())
        }
        other => (Location::default(), format!("invalid YAML: {other}")),
    }
}

fn walk_root(root: &Node, errs: &mut Errors) -> Option<Config> {
    let map = root.as_mapping()?;
    check_keys(map, TOP_KEYS, "at the top level", errs);
    let settings = match map.get_node("settings") {
        Some(node) => walk_settings(node, errs),
        None => Settings::default(),
    };
    let mut services = Vec::new();
    match map.get_node("services") {
        None => errs.push(Location::of(map.span()), "missing `services:`"),
        Some(node) => match node.as_mapping() {
            Some(svcs) => {
                for (key, value) in svcs.iter() {
                    if let Some(svc) = walk_service(key, value, &settings, errs) {
                        services.push(svc);
                    }
                }
                if svcs.is_empty() {
                    errs.push(Location::of(node.span()), "`services:` is empty");
                }
            }
            None => errs.push(
                Location::of(node.span()),
                "`services:` must be a mapping of service names to definitions",
            ),
        },
    }
    Some(Config { settings, services })
}

fn walk_settings(node: &Node, errs: &mut Errors) -> Settings {
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
            .map(|n| exit_codes(n, errs)),
        listen: listen(map, errs),
        readiness: timing_defaults(map, "health_check", ProbeTiming::READINESS, errs),
        liveness: timing_defaults(map, "liveness", ProbeTiming::LIVENESS, errs),
        startup: timing_defaults(map, "startup", ProbeTiming::STARTUP, errs),
    }
}

/// `settings.listen`: `9100` (loopback) or `host:port`.
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

/// `restart:` as a policy name or a mapping; what it leaves out comes from
/// `base` (the settings, or the seed's defaults).
fn restart(node: &Node, base: &Restart, errs: &mut Errors) -> Restart {
    let mut r = base.clone();
    let policy_node = match node {
        Node::Scalar(s) => Some(s),
        Node::Mapping(map) => {
            check_keys(map, RESTART_KEYS, "in `restart`", errs);
            if let Some(b) = map.get_node("backoff")
                && let Some(bm) = mapping(b, "`backoff`", errs)
            {
                check_keys(bm, BACKOFF_KEYS, "in `backoff`", errs);
                r.backoff_initial = opt_duration(bm, "initial", errs).unwrap_or(r.backoff_initial);
                r.backoff_max = opt_duration(bm, "max", errs).unwrap_or(r.backoff_max);
                if r.backoff_max < r.backoff_initial {
                    let at = bm.get_node("max").unwrap_or(b);
                    errs.push(
                        Location::of(at.span()),
                        "`backoff.max` must not be shorter than `backoff.initial`",
                    );
                }
            }
            if let Some(s) = map.get_scalar("max_restarts") {
                match s.as_str().parse::<u32>() {
                    Ok(n) if n <= 100_000 => r.max_restarts = n,
                    _ => errs.push(
                        Location::of(s.span()),
                        format!(
                            "`max_restarts` must be a whole number (0 for no limit), not `{}`",
                            s.as_str()
                        ),
                    ),
                }
            }
            r.window = positive(map, "window", errs).unwrap_or(r.window);
            r.min_uptime = opt_duration(map, "min_uptime", errs).unwrap_or(r.min_uptime);
            map.get_scalar("policy")
        }
        Node::Sequence(seq) => {
            errs.push(
                Location::of(seq.span()),
                "`restart` must be a policy (on-failure, always, never) or a mapping",
            );
            None
        }
    };
    if let Some(s) = policy_node {
        r.policy = match s.as_str() {
            "on-failure" | "on_failure" => RestartPolicy::OnFailure,
            "always" | "unless-stopped" => RestartPolicy::Always,
            "never" | "no" => RestartPolicy::Never,
            other => {
                errs.push_help(
                    Location::of(s.span()),
                    format!("unknown restart policy `{other}`"),
                    did_you_mean(other, POLICIES.iter().copied())
                        .or(Some("use one of: on-failure, always, never".into())),
                );
                r.policy
            }
        };
    }
    r
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
            match regex::Regex::new(pattern.as_str()) {
                Ok(_) => Some(Ready::Log(pattern.as_str().to_string())),
                Err(e) => {
                    let first = e
                        .to_string()
                        .lines()
                        .last()
                        .unwrap_or("")
                        .trim()
                        .to_string();
                    errs.push(
                        Location::of(pattern.span()),
                        format!("`ready.log` is not a valid regular expression: {first}"),
                    );
                    None
                }
            }
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

fn exit_codes(node: &Node, errs: &mut Errors) -> Vec<i32> {
    let Some(seq) = node.as_sequence() else {
        errs.push(
            Location::of(node.span()),
            "`success_exit_codes` must be a list of exit codes, such as [0, 143]",
        );
        return vec![0];
    };
    seq.iter()
        .filter_map(|item| {
            let code = item
                .as_scalar()
                .and_then(|s| s.as_str().parse::<i32>().ok())
                .filter(|c| (0..=255).contains(c));
            if code.is_none() {
                errs.push(
                    Location::of(item.span()),
                    "each exit code must be a whole number from 0 to 255",
                );
            }
            code
        })
        .collect()
}

fn walk_service(
    key: &MarkedScalarNode,
    node: &Node,
    settings: &Settings,
    errs: &mut Errors,
) -> Option<Service> {
    let name = key.as_str().to_string();
    let location = Location::of(key.span());
    let map = mapping(node, &format!("service `{name}`"), errs)?;
    check_keys(map, SERVICE_KEYS, &format!("in service `{name}`"), errs);
    let command = match map.get_node("command") {
        Some(node) => command(node, errs)?,
        None => {
            errs.push(location, format!("service `{name}` has no `command`"));
            return None;
        }
    };
    let stop_signal = match map.get_scalar("stop_signal") {
        Some(s) => stop_signal(s, errs),
        None => StopSignal::Term,
    };
    let ready = map.get_node("ready").and_then(|n| ready(n, errs));
    if let Some(w) = map.get_node("watchdog")
        && ready != Some(Ready::Notify)
    {
        errs.push_help(
            Location::of(w.span()),
            "`watchdog` needs `ready: notify` (the service pings with WATCHDOG=1)",
            Some("add `ready: notify`, or use a `liveness` probe".into()),
        );
    }
    Some(Service {
        working_dir: opt_path(map, "working_dir", errs),
        env: env(map, errs),
        env_file: opt_path(map, "env_file", errs),
        depends_on: map
            .get_node("depends_on")
            .map(|n| depends_on(n, errs))
            .unwrap_or_default(),
        health_check: map
            .get_node("health_check")
            .and_then(|n| health_check(n, "health_check", &settings.readiness, errs)),
        liveness: map
            .get_node("liveness")
            .and_then(|n| health_check(n, "liveness", &settings.liveness, errs)),
        startup: map
            .get_node("startup")
            .and_then(|n| health_check(n, "startup", &settings.startup, errs)),
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
            .map(|n| exit_codes(n, errs))
            .or_else(|| settings.success_exit_codes.clone())
            .unwrap_or_else(|| vec![0]),
        stop_signal,
        command,
        name,
        location,
    })
}

fn command(node: &Node, errs: &mut Errors) -> Option<Command> {
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

fn depends_on(node: &Node, errs: &mut Errors) -> Vec<Dependency> {
    let mut deps = Vec::new();
    match node {
        Node::Sequence(seq) => {
            for item in seq.iter() {
                match item.as_scalar() {
                    Some(s) => deps.push(Dependency {
                        name: s.as_str().to_string(),
                        condition: Condition::Healthy,
                        location: Location::of(s.span()),
                    }),
                    None => errs.push(
                        Location::of(item.span()),
                        "each `depends_on` entry must be a service name",
                    ),
                }
            }
        }
        Node::Mapping(map) => {
            for (key, value) in map.iter() {
                let condition = dependency_condition(value, errs);
                deps.push(Dependency {
                    name: key.as_str().to_string(),
                    condition,
                    location: Location::of(key.span()),
                });
            }
        }
        Node::Scalar(s) if s.as_str().is_empty() => {}
        Node::Scalar(s) => errs.push_help(
            Location::of(s.span()),
            "`depends_on` must be a list or a mapping",
            Some(format!("write `depends_on: [{}]`", s.as_str())),
        ),
    }
    deps
}

fn dependency_condition(node: &Node, errs: &mut Errors) -> Condition {
    let Some(map) = mapping(node, "a `depends_on` entry", errs) else {
        return Condition::Healthy;
    };
    check_keys(map, &["condition"], "in a `depends_on` entry", errs);
    let Some(cond) = map.get_scalar("condition") else {
        return Condition::Healthy;
    };
    match cond.as_str() {
        "started" | "service_started" => Condition::Started,
        "healthy" | "service_healthy" => Condition::Healthy,
        "completed" | "service_completed_successfully" => Condition::Completed,
        other => {
            errs.push_help(
                Location::of(cond.span()),
                format!("unknown condition `{other}`"),
                did_you_mean(other, ["started", "healthy", "completed"])
                    .or(Some("use one of: started, healthy, completed".into())),
            );
            Condition::Healthy
        }
    }
}

fn health_check(
    node: &Node,
    key: &str,
    base: &ProbeTiming,
    errs: &mut Errors,
) -> Option<HealthCheck> {
    let map = mapping(node, &format!("`{key}`"), errs)?;
    check_keys(map, HEALTH_KEYS, &format!("in `{key}`"), errs);
    let kinds: Vec<&MarkedScalarNode> = map
        .keys()
        .filter(|k| PROBE_KINDS.contains(&k.as_str()))
        .collect();
    let probe = match kinds.as_slice() {
        [] => {
            errs.push(
                Location::of(map.span()),
                format!("`{key}` needs one of `command`, `http` or `tcp`"),
            );
            return None;
        }
        [one] => {
            let value = opt_string(map, one.as_str(), errs)?;
            match one.as_str() {
                "command" => Probe::Command(value),
                "http" => Probe::Http(value),
                _ => Probe::Tcp(value),
            }
        }
        [_, second, ..] => {
            errs.push(
                Location::of(second.span()),
                format!(
                    "`{key}` has more than one kind ({}); use exactly one of `command`, `http` or `tcp`",
                    kinds.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", ")
                ),
            );
            return None;
        }
    };
    let t = timing(map, base, errs);
    Some(HealthCheck {
        probe,
        start_period: t.start_period,
        interval: t.interval,
        timeout: t.timeout,
        retries: t.retries,
    })
}

/// `interval`, `timeout`, `retries`, `start_period` over `base`.
fn timing(map: &MarkedMappingNode, base: &ProbeTiming, errs: &mut Errors) -> ProbeTiming {
    let retries = match map.get_scalar("retries") {
        None => base.retries,
        Some(s) => match s.as_str().parse::<u32>() {
            Ok(n) if (1..=1000).contains(&n) => n,
            _ => {
                errs.push(
                    Location::of(s.span()),
                    format!(
                        "`retries` must be a whole number from 1 to 1000, not `{}`",
                        s.as_str()
                    ),
                );
                base.retries
            }
        },
    };
    ProbeTiming {
        interval: positive(map, "interval", errs).unwrap_or(base.interval),
        timeout: positive(map, "timeout", errs).unwrap_or(base.timeout),
        retries,
        start_period: opt_duration(map, "start_period", errs).unwrap_or(base.start_period),
    }
}

/// `settings.health_check` / `liveness` / `startup`: timings only.
fn timing_defaults(
    map: &MarkedMappingNode,
    key: &str,
    base: ProbeTiming,
    errs: &mut Errors,
) -> ProbeTiming {
    let Some(node) = map.get_node(key) else {
        return base;
    };
    let Some(m) = mapping(node, &format!("`settings.{key}`"), errs) else {
        return base;
    };
    check_keys(
        m,
        TIMING_KEYS,
        &format!("in `settings.{key}` (timings only; the probe itself is per service)"),
        errs,
    );
    timing(m, &base, errs)
}

fn env(map: &MarkedMappingNode, errs: &mut Errors) -> Vec<(String, String)> {
    let Some(node) = map.get_node("env") else {
        return Vec::new();
    };
    match node {
        Node::Mapping(m) => m
            .iter()
            .filter_map(|(k, v)| match v.as_scalar() {
                Some(s) => env_pair(k.as_str(), s.as_str(), Location::of(k.span()), errs),
                None => {
                    errs.push(
                        Location::of(v.span()),
                        format!("env `{}` must be a plain value", k.as_str()),
                    );
                    None
                }
            })
            .collect(),
        Node::Sequence(seq) => seq
            .iter()
            .filter_map(|item| {
                let pair = item.as_scalar().and_then(|s| s.as_str().split_once('='));
                if pair.is_none() {
                    errs.push(
                        Location::of(item.span()),
                        "env list entries must be `NAME=value`",
                    );
                }
                pair.and_then(|(k, v)| env_pair(k, v, Location::of(item.span()), errs))
            })
            .collect(),
        Node::Scalar(s) => {
            errs.push(
                Location::of(s.span()),
                "`env` must be a mapping of NAME: value",
            );
            Vec::new()
        }
    }
}

/// A variable as the service's environment can hold it: a name that is
/// not empty and has no `=` or NUL, a value without NUL.
fn env_pair(name: &str, value: &str, at: Location, errs: &mut Errors) -> Option<(String, String)> {
    if name.is_empty() || name.contains(['=', '\0']) {
        errs.push(
            at,
            format!("env name `{name}` cannot be empty or contain `=`"),
        );
        return None;
    }
    if value.contains('\0') {
        errs.push(
            at,
            format!("env `{name}`: a value cannot contain a NUL byte"),
        );
        return None;
    }
    Some((name.to_string(), value.to_string()))
}

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

fn check_keys(map: &MarkedMappingNode, known: &[&str], place: &str, errs: &mut Errors) {
    for key in map.keys() {
        if !known.contains(&key.as_str()) {
            errs.push_help(
                Location::of(key.span()),
                format!("unknown key `{}` {place}", key.as_str()),
                did_you_mean(key.as_str(), known.iter().copied()),
            );
        }
    }
}

fn mapping<'a>(node: &'a Node, what: &str, errs: &mut Errors) -> Option<&'a MarkedMappingNode> {
    let m = node.as_mapping();
    if m.is_none() {
        errs.push(
            Location::of(node.span()),
            format!("{what} must be a mapping"),
        );
    }
    m
}

fn opt_string(map: &MarkedMappingNode, key: &str, errs: &mut Errors) -> Option<String> {
    let node = map.get_node(key)?;
    match node.as_scalar() {
        Some(s) if !s.as_str().is_empty() => Some(s.as_str().to_string()),
        _ => {
            errs.push(
                Location::of(node.span()),
                format!("`{key}` must be a non-empty string"),
            );
            None
        }
    }
}

fn opt_path(map: &MarkedMappingNode, key: &str, errs: &mut Errors) -> Option<(PathBuf, Location)> {
    let at = Location::of(map.get_node(key)?.span());
    opt_string(map, key, errs).map(|s| (PathBuf::from(s), at))
}

fn opt_duration(map: &MarkedMappingNode, key: &str, errs: &mut Errors) -> Option<Duration> {
    let node = map.get_node(key)?;
    let Some(s) = node.as_scalar() else {
        errs.push(
            Location::of(node.span()),
            format!("`{key}` must be a duration such as 10, \"250ms\" or \"5m\""),
        );
        return None;
    };
    match parse_duration(s.as_str()) {
        Ok(d) => Some(d),
        Err(msg) => {
            errs.push(Location::of(s.span()), format!("`{key}`: {msg}"));
            None
        }
    }
}

fn positive(map: &MarkedMappingNode, key: &str, errs: &mut Errors) -> Option<Duration> {
    let d = opt_duration(map, key, errs)?;
    if d.is_zero() {
        let at = map
            .get_node(key)
            .map(|n| Location::of(n.span()))
            .unwrap_or_default();
        errs.push(at, format!("`{key}` must be greater than zero"));
        return None;
    }
    Some(d)
}
