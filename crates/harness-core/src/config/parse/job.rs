//! One entry of `jobs:`: its steps, and the `retry:` and `classify:` rules
//! a step takes from its job key by key (seed 003).

use super::depends_on::depends_on;
use super::env::env;
use super::fields::{check_keys, mapping, opt_duration, opt_path, positive};
use super::service::command;
use crate::config::Location;
use crate::config::error::{Errors, did_you_mean};
use crate::config::model::{Job, JobOnFailure, Step};
use crate::job::classify::{Class, Classify};
use crate::job::retry::{ClassRetry, Retry};
use marked_yaml::Node;
use marked_yaml::types::{MarkedMappingNode, MarkedScalarNode};
use std::path::PathBuf;

const JOB_KEYS: &[&str] = &[
    "steps",
    "depends_on",
    "retry",
    "classify",
    "on_failure",
    "cleanup",
    "logs",
];
const STEP_KEYS: &[&str] = &[
    "name",
    "command",
    "working_dir",
    "env",
    "env_file",
    "timeout",
    "inputs",
    "outputs",
    "idempotent",
    "retry",
    "classify",
];
const RETRY_KEYS: &[&str] = &["transient", "persistent"];
const CLASS_RETRY_KEYS: &[&str] = &["max_attempts", "backoff"];
const BACKOFF_KEYS: &[&str] = &["initial", "max"];
const CLASSIFY_KEYS: &[&str] = &["transient", "persistent", "timeout", "signal"];
const ON_FAILURE: &[&str] = &["stop", "retry", "cleanup"];

pub(super) fn walk_job(
    key: &MarkedScalarNode,
    node: &Node,
    settings: &crate::config::Settings,
    errs: &mut Errors,
) -> Option<Job> {
    let name = key.as_str().to_string();
    let location = Location::of(key.span());
    let map = mapping(node, &format!("job `{name}`"), errs)?;
    check_keys(map, JOB_KEYS, &format!("in job `{name}`"), errs);
    let retry = match map.get_node("retry") {
        Some(n) => retry(n, &Retry::default(), errs),
        None => Retry::default(),
    };
    let classify = match map.get_node("classify") {
        Some(n) => classify(n, &Classify::default(), errs),
        None => Classify::default(),
    };
    let steps = match map.get_node("steps") {
        Some(Node::Sequence(seq)) if !seq.is_empty() => seq
            .iter()
            .filter_map(|n| step(n, &retry, &classify, errs))
            .collect(),
        Some(n) => {
            errs.push(
                Location::of(n.span()),
                format!("`steps` of job `{name}` must be a non-empty list of steps"),
            );
            Vec::new()
        }
        None => {
            errs.push(location, format!("job `{name}` has no `steps`"));
            Vec::new()
        }
    };
    Some(Job {
        steps,
        depends_on: map
            .get_node("depends_on")
            .map(|n| depends_on(n, errs))
            .unwrap_or_default(),
        cleanup: map.get_node("cleanup").and_then(|n| command(n, errs)),
        logs: map
            .get_node("logs")
            .map(|n| super::logs::logs(n, &settings.logs, errs))
            .unwrap_or(settings.logs),
        on_failure: map
            .get_scalar("on_failure")
            .map(|s| on_failure(s, errs))
            .unwrap_or_default(),
        name,
        location,
    })
}

fn step(
    node: &Node,
    retry_base: &Retry,
    classify_base: &Classify,
    errs: &mut Errors,
) -> Option<Step> {
    let map = mapping(node, "a step", errs)?;
    // Where the step is written: its name, or else its first key (a
    // mapping's own span starts at its first `:`).
    let location = match (map.get_scalar("name"), map.keys().next()) {
        (Some(n), _) => Location::of(n.span()),
        (None, Some(k)) => Location::of(k.span()),
        (None, None) => Location::of(node.span()),
    };
    check_keys(map, STEP_KEYS, "in a step", errs);
    let name = match map.get_scalar("name") {
        Some(s) if !s.as_str().trim().is_empty() => s.as_str().to_string(),
        _ => {
            errs.push(location, "each step needs a `name`");
            return None;
        }
    };
    let command = match map.get_node("command") {
        Some(n) => command(n, errs)?,
        None => {
            errs.push(location, format!("step `{name}` has no `command`"));
            return None;
        }
    };
    Some(Step {
        working_dir: opt_path(map, "working_dir", errs),
        env: env(map, errs),
        env_file: opt_path(map, "env_file", errs),
        timeout: positive(map, "timeout", errs),
        inputs: paths(map, "inputs", errs),
        outputs: paths(map, "outputs", errs),
        idempotent: match map.get_scalar("idempotent") {
            Some(s) => boolean(s, "idempotent", errs).unwrap_or(true),
            None => true,
        },
        retry: match map.get_node("retry") {
            Some(n) => retry(n, retry_base, errs),
            None => *retry_base,
        },
        classify: match map.get_node("classify") {
            Some(n) => classify(n, classify_base, errs),
            None => classify_base.clone(),
        },
        name,
        location,
        command,
    })
}

/// `inputs:` / `outputs:`: a list of file paths.
fn paths(map: &MarkedMappingNode, key: &str, errs: &mut Errors) -> Vec<PathBuf> {
    let Some(node) = map.get_node(key) else {
        return Vec::new();
    };
    let Some(seq) = node.as_sequence() else {
        errs.push(
            Location::of(node.span()),
            format!("`{key}` must be a list of file paths"),
        );
        return Vec::new();
    };
    seq.iter()
        .filter_map(|item| match item.as_scalar() {
            Some(s) if !s.as_str().is_empty() => Some(PathBuf::from(s.as_str())),
            _ => {
                errs.push(
                    Location::of(item.span()),
                    format!("each of `{key}` must be a file path"),
                );
                None
            }
        })
        .collect()
}

fn boolean(s: &MarkedScalarNode, key: &str, errs: &mut Errors) -> Option<bool> {
    match s.as_str() {
        "true" => Some(true),
        "false" => Some(false),
        other => {
            errs.push(
                Location::of(s.span()),
                format!("`{key}` must be true or false, not `{other}`"),
            );
            None
        }
    }
}

fn on_failure(s: &MarkedScalarNode, errs: &mut Errors) -> JobOnFailure {
    match s.as_str() {
        "stop" => JobOnFailure::Stop,
        "retry" => JobOnFailure::Retry,
        "cleanup" => JobOnFailure::Cleanup,
        other => {
            errs.push_help(
                Location::of(s.span()),
                format!("unknown `on_failure` `{other}`"),
                did_you_mean(other, ON_FAILURE.iter().copied())
                    .or(Some("use stop, retry or cleanup".into())),
            );
            JobOnFailure::Stop
        }
    }
}

/// `retry: { transient: {…}, persistent: {…} }` over `base`.
fn retry(node: &Node, base: &Retry, errs: &mut Errors) -> Retry {
    let mut r = *base;
    let Some(map) = mapping(node, "`retry`", errs) else {
        return r;
    };
    check_keys(map, RETRY_KEYS, "in `retry`", errs);
    if let Some(n) = map.get_node("transient") {
        r.transient = class_retry(n, &r.transient, errs);
    }
    if let Some(n) = map.get_node("persistent") {
        r.persistent = class_retry(n, &r.persistent, errs);
    }
    r
}

/// `{ max_attempts: 3, backoff: { initial: 1m, max: 10m } }` over `base`.
fn class_retry(node: &Node, base: &ClassRetry, errs: &mut Errors) -> ClassRetry {
    let mut c = *base;
    let Some(map) = mapping(node, "a `retry` class", errs) else {
        return c;
    };
    check_keys(map, CLASS_RETRY_KEYS, "in a `retry` class", errs);
    if let Some(s) = map.get_scalar("max_attempts") {
        match s.as_str().parse::<u32>() {
            Ok(n) if (1..=1000).contains(&n) => c.max_attempts = n,
            _ => errs.push_help(
                Location::of(s.span()),
                format!(
                    "`max_attempts` must be a whole number from 1 to 1000, not `{}`",
                    s.as_str()
                ),
                Some("it counts every attempt, the first included: 1 means no retry".into()),
            ),
        }
    }
    if let Some(b) = map.get_node("backoff")
        && let Some(bm) = mapping(b, "`backoff`", errs)
    {
        check_keys(bm, BACKOFF_KEYS, "in `backoff`", errs);
        c.backoff_initial = opt_duration(bm, "initial", errs).unwrap_or(c.backoff_initial);
        c.backoff_max = opt_duration(bm, "max", errs).unwrap_or(c.backoff_max);
        if c.backoff_max < c.backoff_initial {
            c.backoff_max = c.backoff_initial;
        }
    }
    c
}

/// `classify: { transient: { exit_codes, output }, persistent: {
/// exit_codes }, timeout: transient, signal: transient }` over `base`.
fn classify(node: &Node, base: &Classify, errs: &mut Errors) -> Classify {
    let mut c = base.clone();
    let Some(map) = mapping(node, "`classify`", errs) else {
        return c;
    };
    check_keys(map, CLASSIFY_KEYS, "in `classify`", errs);
    let (mut transient, mut persistent) = (None, None);
    if let Some(n) = map.get_node("transient")
        && let Some(m) = mapping(n, "`classify.transient`", errs)
    {
        let keys = &["exit_codes", "output"];
        check_keys(m, keys, "in `classify.transient`", errs);
        if let Some(codes) = m.get_node("exit_codes") {
            let key = "classify.transient.exit_codes";
            transient = Some((super::restart::exit_codes(codes, key, errs), codes));
        }
        if let Some(out) = m.get_node("output") {
            c.transient_output = patterns(out, errs);
        }
    }
    if let Some(n) = map.get_node("persistent")
        && let Some(m) = mapping(n, "`classify.persistent`", errs)
    {
        check_keys(m, &["exit_codes"], "in `classify.persistent`", errs);
        if let Some(codes) = m.get_node("exit_codes") {
            let key = "classify.persistent.exit_codes";
            persistent = Some((super::restart::exit_codes(codes, key, errs), codes));
        }
    }
    // A code listed here takes it from the other class's inherited list;
    // listed in both here, it is a mistake.
    match (transient, persistent) {
        (Some((t, at)), Some((p, _))) => {
            if let Some(code) = t.iter().find(|c| p.contains(c)) {
                errs.push(
                    Location::of(at.span()),
                    format!("exit code {code} is listed as both transient and persistent"),
                );
            }
            (c.transient_codes, c.persistent_codes) = (t, p);
        }
        (Some((t, _)), None) => {
            c.persistent_codes.retain(|code| !t.contains(code));
            c.transient_codes = t;
        }
        (None, Some((p, _))) => {
            c.transient_codes.retain(|code| !p.contains(code));
            c.persistent_codes = p;
        }
        (None, None) => {}
    }
    for (key, slot) in [("timeout", &mut c.timeout), ("signal", &mut c.signal)] {
        if let Some(s) = map.get_scalar(key) {
            match s.as_str() {
                "transient" => *slot = Class::Transient,
                "persistent" => *slot = Class::Persistent,
                other => errs.push(
                    Location::of(s.span()),
                    format!("`classify.{key}` must be transient or persistent, not `{other}`"),
                ),
            }
        }
    }
    c
}

/// Output patterns: one regex, or a list of them.
fn patterns(node: &Node, errs: &mut Errors) -> Vec<regex::Regex> {
    let items: Vec<&MarkedScalarNode> = match node {
        Node::Scalar(s) => vec![s],
        Node::Sequence(seq) => seq.iter().filter_map(Node::as_scalar).collect(),
        Node::Mapping(m) => {
            errs.push(
                Location::of(m.span()),
                "`output` must be a pattern or a list of patterns",
            );
            Vec::new()
        }
    };
    items
        .into_iter()
        .filter_map(|s| match regex::Regex::new(s.as_str()) {
            Ok(re) => Some(re),
            Err(e) => {
                let why = e.to_string();
                let last = why.lines().last().unwrap_or("").trim().to_string();
                errs.push(
                    Location::of(s.span()),
                    format!("`output` pattern is not a valid regular expression: {last}"),
                );
                None
            }
        })
        .collect()
}
