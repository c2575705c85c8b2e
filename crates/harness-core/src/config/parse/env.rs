//! A service's `env:`, as a mapping of `NAME: value` or a list of
//! `NAME=value`.

use crate::config::Location;
use crate::config::error::Errors;
use marked_yaml::Node;
use marked_yaml::types::MarkedMappingNode;

pub(super) fn env(map: &MarkedMappingNode, errs: &mut Errors) -> Vec<(String, String)> {
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
/// not empty and has no `=` or NUL, a value without NUL. The environment
/// is a list of NUL-terminated `NAME=value` strings, so anything else
/// would fail at spawn or reach the service as another variable.
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
