//! From YAML text to the validated [`Config`], walking the marked node tree
//! so that every error can name its line and column.
//!
//! One file per part of `services.yaml` the walk reads, each with the keys
//! it knows: `settings`, a service, its probes, `restart`, `env`,
//! `depends_on`; `fields` holds the typed readers they all share.

mod attach;
mod depends_on;
mod env;
mod fields;
mod job;
mod logs;
mod probe;
mod restart;
mod service;
mod settings;
mod socket;
mod update;

use super::error::Errors;
use super::model::{Config, Settings};
use super::validate;
use super::{ConfigErrors, Location};
use fields::check_keys;
use marked_yaml::{LoadError, Node};
use service::walk_service;
use settings::walk_settings;

const TOP_KEYS: &[&str] = &["settings", "services", "jobs"];

/// Parses and validates a config. `file` is used only in error messages.
/// Every problem is reported, not just the first, so that one edit of the
/// file can fix them all.
pub fn parse(text: &str, file: &str) -> Result<Config, ConfigErrors> {
    let mut errs = Errors {
        file: file.to_string(),
        list: Vec::new(),
    };
    // A key written twice is an error: otherwise one of the two would
    // silently win and the other be ignored.
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
            // The walk finds errors in its own order (settings first, then
            // each field as it is read); the user reads the file top down.
            // The sort is stable, so errors at one spot keep walk order.
            errs.list
                .sort_by_key(|e| (e.location.line, e.location.column));
            Err(ConfigErrors(errs.list))
        }
    }
}

/// The loader's error in the words of a `services.yaml`, at its place.
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
    // Settings first: every service takes its defaults from them.
    let settings = match map.get_node("settings") {
        Some(node) => walk_settings(node, errs),
        None => Settings::default(),
    };
    let mut services = Vec::new();
    // A file of jobs alone needs no services; one with neither is a
    // mistake.
    let has_jobs = map.get_node("jobs").is_some();
    match map.get_node("services") {
        None if has_jobs => {}
        None => errs.push(Location::of(map.span()), "missing `services:`"),
        Some(node) => match node.as_mapping() {
            Some(svcs) => {
                for (key, value) in svcs.iter() {
                    if let Some(svc) = walk_service(key, value, &settings, errs) {
                        services.push(svc);
                    }
                }
                if svcs.is_empty() && !has_jobs {
                    errs.push(Location::of(node.span()), "`services:` is empty");
                }
            }
            None => errs.push(
                Location::of(node.span()),
                "`services:` must be a mapping of service names to definitions",
            ),
        },
    }
    let mut jobs = Vec::new();
    if let Some(node) = map.get_node("jobs") {
        match node.as_mapping() {
            Some(js) => {
                for (key, value) in js.iter() {
                    if let Some(job) = job::walk_job(key, value, &settings, errs) {
                        jobs.push(job);
                    }
                }
            }
            None => errs.push(
                Location::of(node.span()),
                "`jobs:` must be a mapping of job names to definitions",
            ),
        }
    }
    Some(Config {
        settings,
        services,
        jobs,
    })
}
