//! `logs:` of a service and of `settings`: when a log is rotated
//! (`max_size`, a size such as `10MiB`, `500k`, `1G`) and how many rotated
//! files are kept (`keep`; 0 never rotates). A service's takes the
//! settings' key by key.

use super::fields::{check_keys, mapping};
use crate::config::Location;
use crate::config::error::Errors;
use crate::config::model::LogRotation;
use crate::size::parse_size;
use marked_yaml::Node;

const LOGS_KEYS: &[&str] = &["max_size", "keep"];

pub(super) fn logs(node: &Node, base: &LogRotation, errs: &mut Errors) -> LogRotation {
    let mut l = *base;
    let Some(map) = mapping(node, "`logs`", errs) else {
        return l;
    };
    check_keys(map, LOGS_KEYS, "in `logs`", errs);
    if let Some(n) = map.get_node("max_size") {
        match n.as_scalar().map(|s| parse_size(s.as_str())) {
            Some(Ok(0)) => errs.push(
                Location::of(n.span()),
                "`logs.max_size` must be greater than zero (`keep: 0` never rotates)",
            ),
            Some(Ok(bytes)) => l.max_size = bytes,
            Some(Err(msg)) => errs.push(Location::of(n.span()), format!("`logs.max_size`: {msg}")),
            None => errs.push(
                Location::of(n.span()),
                "`logs.max_size` must be a size such as 10MiB, 500k or 1G",
            ),
        }
    }
    if let Some(n) = map.get_node("keep") {
        match n.as_scalar().and_then(|s| s.as_str().parse::<u32>().ok()) {
            Some(k) => l.keep = k,
            None => errs.push(
                Location::of(n.span()),
                "`logs.keep` must be a whole number of files (0 never rotates)",
            ),
        }
    }
    l
}
