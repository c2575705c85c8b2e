//! Whole-config checks: safe names, dependencies that exist, no cycles.

use super::ConfigError;
use super::error::{Errors, did_you_mean};
use super::model::Config;
use crate::config::Location;
use crate::graph::Graph;
use std::path::Path;

/// Whether `name` is a valid service name: `[A-Za-z0-9][A-Za-z0-9_.-]*`.
/// Names become file names, so nothing else may pass (no `/`, no `..`).
pub fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
        && name.len() <= 128
}

pub(crate) fn validate(config: &Config, errs: &mut Errors) {
    for svc in &config.services {
        if !valid_name(&svc.name) {
            errs.push_help(
                svc.location,
                format!("invalid service name `{}`", svc.name),
                Some("names must match [A-Za-z0-9][A-Za-z0-9_.-]* (at most 128 characters)".into()),
            );
        }
        for dep in &svc.depends_on {
            if dep.name == svc.name {
                errs.push(
                    dep.location,
                    format!("service `{}` depends on itself", svc.name),
                );
            } else if config.jobs.iter().any(|j| j.name == dep.name) {
                // A job is waited for until it has completed; it is never
                // "started" or "healthy".
                if dep.condition == crate::config::Condition::Started {
                    errs.push_help(
                        dep.location,
                        format!(
                            "service `{}` depends on job `{}` with condition `started`",
                            svc.name, dep.name
                        ),
                        Some(
                            "a job is waited for until it has completed: `condition: completed`"
                                .into(),
                        ),
                    );
                }
            } else if config.service(&dep.name).is_none() {
                errs.push_help(
                    dep.location,
                    format!(
                        "service `{}` depends on unknown service `{}`",
                        svc.name, dep.name
                    ),
                    did_you_mean(
                        &dep.name,
                        config
                            .names()
                            .chain(config.jobs.iter().map(|j| j.name.as_str())),
                    ),
                );
            }
        }
    }
    check_sockets(config, errs);
    check_jobs(config, errs);
    if !errs.list.is_empty() {
        return;
    }
    let graph = Graph::new(config);
    if let Some(cycle) = graph.find_cycle() {
        let first = &config.services[cycle[0]];
        let at = first
            .depends_on
            .iter()
            .find(|d| d.name == config.services[cycle[1 % cycle.len()]].name)
            .map(|d| d.location)
            .unwrap_or(first.location);
        let mut path: Vec<&str> = cycle
            .iter()
            .map(|&i| config.services[i].name.as_str())
            .collect();
        path.push(path[0]);
        errs.push(at, format!("dependency cycle: {}", path.join(" → ")));
        return;
    }
    if let Some((at, path)) = cycle_through_a_job(config) {
        errs.push(at, format!("dependency cycle: {}", path.join(" → ")));
    }
}

/// A cycle that goes through a job: a job needs a service which (perhaps
/// through others) waits for that job. Nothing could ever start. Services
/// are named as they are, jobs as `job NAME`.
fn cycle_through_a_job(config: &Config) -> Option<(Location, Vec<String>)> {
    #[derive(Clone, Copy, PartialEq)]
    enum Node {
        Service(usize),
        Job(usize),
    }
    let node_of = |name: &str| {
        config
            .services
            .iter()
            .position(|s| s.name == name)
            .map(Node::Service)
            .or_else(|| {
                config
                    .jobs
                    .iter()
                    .position(|j| j.name == name)
                    .map(Node::Job)
            })
    };
    let edges = |n: Node| -> Vec<(Node, Location)> {
        let deps = match n {
            Node::Service(i) => &config.services[i].depends_on,
            Node::Job(j) => &config.jobs[j].depends_on,
        };
        deps.iter()
            .filter_map(|d| Some((node_of(&d.name)?, d.location)))
            .collect()
    };
    let label = |n: Node| match n {
        Node::Service(i) => config.services[i].name.clone(),
        Node::Job(j) => format!("job {}", config.jobs[j].name),
    };
    // From each job, a walk along the dependencies back to it.
    for j in 0..config.jobs.len() {
        let start = Node::Job(j);
        let mut path = vec![(start, Location::default())];
        let mut seen = vec![start];
        let mut stack = vec![edges(start)];
        while let Some(next) = stack.last_mut() {
            let Some((n, at)) = next.pop() else {
                stack.pop();
                path.pop();
                continue;
            };
            if n == start {
                let mut names: Vec<String> = path.iter().map(|(n, _)| label(*n)).collect();
                names.push(label(start));
                let first = path.get(1).map(|(_, at)| *at).unwrap_or(at);
                return Some((first, names));
            }
            if seen.contains(&n) {
                continue;
            }
            seen.push(n);
            path.push((n, at));
            stack.push(edges(n));
        }
    }
    None
}

/// Jobs: names a service could have (they name files too) and no service
/// has, steps with names unique in their job, dependencies on services.
fn check_jobs(config: &Config, errs: &mut Errors) {
    for job in &config.jobs {
        if !valid_name(&job.name) {
            errs.push_help(
                job.location,
                format!("invalid job name `{}`", job.name),
                Some("names must match [A-Za-z0-9][A-Za-z0-9_.-]* (at most 128 characters)".into()),
            );
        }
        if config.service(&job.name).is_some() {
            errs.push(
                job.location,
                format!("`{}` is the name of a service and of a job", job.name),
            );
        }
        for (k, step) in job.steps.iter().enumerate() {
            // Step names name files (each attempt's log).
            if !valid_name(&step.name) {
                errs.push_help(
                    step.location,
                    format!("invalid step name `{}`", step.name),
                    Some(
                        "names must match [A-Za-z0-9][A-Za-z0-9_.-]* (at most 128 characters)"
                            .into(),
                    ),
                );
            }
            if job.steps[..k].iter().any(|s| s.name == step.name) {
                errs.push(
                    step.location,
                    format!("job `{}` has two steps called `{}`", job.name, step.name),
                );
            }
        }
        for dep in &job.depends_on {
            if config.service(&dep.name).is_none() {
                errs.push_help(
                    dep.location,
                    format!(
                        "job `{}` depends on unknown service `{}`",
                        job.name, dep.name
                    ),
                    did_you_mean(&dep.name, config.names()),
                );
            }
        }
    }
}

/// `socket:` addresses: one service each, and never probed with `tcp`.
/// harness holds the socket, so the kernel accepts a connection on it
/// before the service has even started: a tcp check on it always passes.
fn check_sockets(config: &Config, errs: &mut Errors) {
    for (i, svc) in config.services.iter().enumerate() {
        let Some((addr, at)) = svc.socket else {
            continue;
        };
        if let Some(other) = config.services[..i]
            .iter()
            .find(|o| o.socket.is_some_and(|(a, _)| a == addr))
        {
            errs.push(
                at,
                format!("`{addr}` is already the socket of service `{}`", other.name),
            );
        }
        // A tcp check always passes; an http check of readiness may be
        // answered by the version being replaced, which shares the socket.
        let checks = [
            ("readiness", &svc.health_check, true),
            ("liveness", &svc.liveness, false),
            ("startup", &svc.startup, true),
        ];
        for (what, check, ready) in checks {
            let Some(check) = check else { continue };
            let problem = match &check.probe {
                super::model::Probe::Tcp(target) if same_socket(target, addr) => Some(format!(
                    "a tcp {what} check on the service's own socket always passes: \
                     harness holds the socket, so connections are accepted before the service runs"
                )),
                super::model::Probe::Http(url) if ready && same_socket(authority(url), addr) => {
                    Some(format!(
                        "an http {what} check through the service's own socket may be answered \
                         by the version it replaces, which shares the socket during a deploy"
                    ))
                }
                _ => None,
            };
            if let Some(problem) = problem {
                errs.push_help(
                    at,
                    format!("service `{}`: {problem}", svc.name),
                    Some(
                        "use `ready: notify`, `ready: log`, a command, or a check on another port"
                            .into(),
                    ),
                );
            }
        }
    }
}

/// The host and port of `host:port`, `[v6]:port`, or a host alone (an
/// http URL's port 80).
pub(crate) fn host_port(target: &str) -> Option<(&str, &str)> {
    match target.strip_prefix('[') {
        Some(rest) => {
            let (h, p) = rest.split_once(']')?;
            Some((h, p.strip_prefix(':').unwrap_or("80")))
        }
        None => Some(target.rsplit_once(':').unwrap_or((target, "80"))),
    }
}

/// `host:port` of an http URL (port 80 when none is written).
pub(crate) fn authority(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let host = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    host.rsplit_once('@').map_or(host, |(_, h)| h)
}

/// Whether a tcp check's `host:port` reaches socket `addr` on this machine.
fn same_socket(target: &str, addr: std::net::SocketAddr) -> bool {
    let Some((host, port)) = host_port(target) else {
        return false;
    };
    if port.parse::<u16>().ok() != Some(addr.port()) {
        return false;
    }
    match host.parse::<std::net::IpAddr>() {
        Ok(ip) => ip == addr.ip() || ip.is_loopback() || addr.ip().is_unspecified(),
        Err(_) => host == "localhost",
    }
}

/// Checks the paths a config names (`working_dir`, `env_file`) against the
/// file system, through `is_dir` / `is_file` so that this stays pure.
/// Relative paths are resolved from `root`, the config file's folder.
pub fn check_paths(
    config: &Config,
    file: &str,
    root: &Path,
    is_dir: impl Fn(&Path) -> bool,
    is_file: impl Fn(&Path) -> bool,
) -> Vec<ConfigError> {
    let mut errs = Errors {
        file: file.to_string(),
        list: Vec::new(),
    };
    for svc in &config.services {
        if let Some((dir, at)) = &svc.working_dir
            && !is_dir(&root.join(dir))
        {
            errs.push(
                *at,
                format!(
                    "working_dir `{}` of service `{}` does not exist",
                    dir.display(),
                    svc.name
                ),
            );
        }
        if let Some((path, at)) = &svc.env_file
            && !is_file(&root.join(path))
        {
            errs.push(
                *at,
                format!(
                    "env_file `{}` of service `{}` does not exist",
                    path.display(),
                    svc.name
                ),
            );
        }
    }
    errs.list
}
