//! What a deploy reads: `update:` (how a service's old version is swapped
//! for its new one, over `settings.update`) and `version:` (what makes a
//! new version that the definition does not show).

use super::fields::{check_keys, mapping, opt_duration, opt_string, positive};
use crate::config::Location;
use crate::config::error::{Errors, did_you_mean};
use crate::config::model::{Update, UpdateOrder, Version};
use marked_yaml::Node;
use std::path::PathBuf;

const UPDATE_KEYS: &[&str] = &["order", "min_healthy", "healthy_deadline", "auto_revert"];
const ORDERS: &[&str] = &["stop-first", "start-first"];
const VERSION_KEYS: &[&str] = &["files", "command"];

/// `update:`; what it leaves out comes from `base`.
pub(super) fn update(node: &Node, base: &Update, errs: &mut Errors) -> Update {
    let mut u = *base;
    let Some(map) = mapping(node, "`update`", errs) else {
        return u;
    };
    check_keys(map, UPDATE_KEYS, "in `update`", errs);
    if let Some(s) = map.get_scalar("order") {
        match s.as_str() {
            "stop-first" => u.order = UpdateOrder::StopFirst,
            "start-first" => u.order = UpdateOrder::StartFirst,
            other => errs.push_help(
                Location::of(s.span()),
                format!("unknown update order `{other}`"),
                did_you_mean(other, ORDERS.iter().copied())
                    .or(Some("use stop-first or start-first".into())),
            ),
        }
    }
    u.min_healthy = opt_duration(map, "min_healthy", errs).unwrap_or(u.min_healthy);
    if let Some(d) = positive(map, "healthy_deadline", errs) {
        u.healthy_deadline = Some(d);
    }
    if let Some(s) = map.get_scalar("auto_revert") {
        match s.as_str() {
            "true" => u.auto_revert = true,
            "false" => u.auto_revert = false,
            other => errs.push(
                Location::of(s.span()),
                format!("`auto_revert` must be true or false, not `{other}`"),
            ),
        }
    }
    u
}

/// `version: { files: [...], command: "..." }`.
pub(super) fn version(node: &Node, errs: &mut Errors) -> Version {
    let mut v = Version::default();
    let Some(map) = mapping(node, "`version`", errs) else {
        return v;
    };
    check_keys(map, VERSION_KEYS, "in `version`", errs);
    if let Some(files) = map.get_node("files") {
        match files {
            Node::Sequence(seq) => {
                for item in seq.iter() {
                    match item.as_scalar() {
                        Some(s) if !s.as_str().is_empty() => {
                            v.files.push(PathBuf::from(s.as_str()))
                        }
                        _ => errs.push(
                            Location::of(item.span()),
                            "each of `version.files` must be a path",
                        ),
                    }
                }
            }
            Node::Scalar(s) if !s.as_str().is_empty() => v.files.push(PathBuf::from(s.as_str())),
            other => errs.push(
                Location::of(other.span()),
                "`version.files` must be a path or a list of paths",
            ),
        }
    }
    v.command = opt_string(map, "command", errs);
    if v.files.is_empty() && v.command.is_none() {
        errs.push_help(
            Location::of(map.span()),
            "`version` needs `files` or `command`",
            Some("e.g. `version: { files: [target/release/api] }`".into()),
        );
    }
    v
}
