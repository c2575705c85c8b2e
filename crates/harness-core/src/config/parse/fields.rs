//! Typed readers for one key of a mapping, shared by every part of the walk.
//! Each reports a wrong value at the value's own line and column and returns
//! `None`, so that the walk goes on and one run reports every problem.

use crate::config::Location;
use crate::config::error::{Errors, did_you_mean};
use crate::duration::parse_duration;
use marked_yaml::Node;
use marked_yaml::types::MarkedMappingNode;
use std::path::PathBuf;
use std::time::Duration;

/// Reports every key of `map` not in `known`: a misspelt key would
/// otherwise be ignored and its default used without a word.
pub(super) fn check_keys(map: &MarkedMappingNode, known: &[&str], place: &str, errs: &mut Errors) {
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

pub(super) fn mapping<'a>(
    node: &'a Node,
    what: &str,
    errs: &mut Errors,
) -> Option<&'a MarkedMappingNode> {
    let m = node.as_mapping();
    if m.is_none() {
        errs.push(
            Location::of(node.span()),
            format!("{what} must be a mapping"),
        );
    }
    m
}

pub(super) fn opt_string(map: &MarkedMappingNode, key: &str, errs: &mut Errors) -> Option<String> {
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

/// A path with where it is written: whether it exists is checked later
/// (`check_paths`), and that error must point at this line.
pub(super) fn opt_path(
    map: &MarkedMappingNode,
    key: &str,
    errs: &mut Errors,
) -> Option<(PathBuf, Location)> {
    let at = Location::of(map.get_node(key)?.span());
    opt_string(map, key, errs).map(|s| (PathBuf::from(s), at))
}

pub(super) fn opt_duration(
    map: &MarkedMappingNode,
    key: &str,
    errs: &mut Errors,
) -> Option<Duration> {
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

/// A duration that something waits or repeats on (`interval`, `timeout`,
/// `window`, `watchdog`), where zero is never what was meant: a busy loop,
/// an instant failure or a window that counts nothing.
pub(super) fn positive(map: &MarkedMappingNode, key: &str, errs: &mut Errors) -> Option<Duration> {
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
