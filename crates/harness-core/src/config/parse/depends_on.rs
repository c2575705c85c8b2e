//! A service's `depends_on:`, as a list of names or a mapping of names to
//! `{ condition: … }`.

use super::fields::{check_keys, mapping};
use crate::config::Location;
use crate::config::error::{Errors, did_you_mean};
use crate::config::model::{Condition, Dependency};
use marked_yaml::Node;

/// Each entry keeps where its name is written: whether that service
/// exists, and whether the dependencies form a cycle, is only known once
/// the whole file is read (`validate`), and those errors point here.
pub(super) fn depends_on(node: &Node, errs: &mut Errors) -> Vec<Dependency> {
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
        // `depends_on:` with nothing after it: no dependencies.
        Node::Scalar(s) if s.as_str().is_empty() => {}
        Node::Scalar(s) => errs.push_help(
            Location::of(s.span()),
            "`depends_on` must be a list or a mapping",
            Some(format!("write `depends_on: [{}]`", s.as_str())),
        ),
    }
    deps
}

/// `{ condition: … }`, `healthy` when left out; compose's
/// `service_*` names are accepted too.
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
