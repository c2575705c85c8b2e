//! Whole-config checks: safe names, dependencies that exist, no cycles.

use super::ConfigError;
use super::error::{Errors, did_you_mean};
use super::model::Config;
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
            } else if config.service(&dep.name).is_none() {
                errs.push_help(
                    dep.location,
                    format!(
                        "service `{}` depends on unknown service `{}`",
                        svc.name, dep.name
                    ),
                    did_you_mean(&dep.name, config.names()),
                );
            }
        }
    }
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
