//! What happens after a service ends on its own: `restart:` (policy,
//! backoff, limits) and `success_exit_codes`, which decide whether an end
//! counts as a failure.

use super::fields::{check_keys, mapping, opt_duration, positive};
use crate::config::Location;
use crate::config::error::{Errors, did_you_mean};
use crate::config::model::{Restart, RestartPolicy};
use marked_yaml::Node;
use marked_yaml::types::{MarkedMappingNode, MarkedScalarNode};

const RESTART_KEYS: &[&str] = &["policy", "backoff", "max_restarts", "window", "min_uptime"];
const BACKOFF_KEYS: &[&str] = &["initial", "max"];
const POLICIES: &[&str] = &["on-failure", "always", "never"];

/// `restart:` as a policy name or a mapping; what it leaves out comes from
/// `base` (the settings, or the seed's defaults), so that a service need
/// only write what differs.
pub(super) fn restart(node: &Node, base: &Restart, errs: &mut Errors) -> Restart {
    let mut r = base.clone();
    let policy_node = match node {
        Node::Scalar(s) => Some(s),
        Node::Mapping(map) => {
            restart_fields(map, &mut r, errs);
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
        r.policy = policy(s, r.policy, errs);
    }
    r
}

/// Every key of a `restart:` mapping but `policy`, over `r`.
fn restart_fields(map: &MarkedMappingNode, r: &mut Restart, errs: &mut Errors) {
    check_keys(map, RESTART_KEYS, "in `restart`", errs);
    if let Some(b) = map.get_node("backoff") {
        backoff(b, r, errs);
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
}

/// `backoff: { initial, max }` over `r`.
fn backoff(node: &Node, r: &mut Restart, errs: &mut Errors) {
    let Some(map) = mapping(node, "`backoff`", errs) else {
        return;
    };
    check_keys(map, BACKOFF_KEYS, "in `backoff`", errs);
    r.backoff_initial = opt_duration(map, "initial", errs).unwrap_or(r.backoff_initial);
    r.backoff_max = opt_duration(map, "max", errs).unwrap_or(r.backoff_max);
    if r.backoff_max < r.backoff_initial {
        // Without `max` written here the clash is with the inherited one,
        // so the error points at `backoff:` itself.
        let at = map.get_node("max").unwrap_or(node);
        errs.push(
            Location::of(at.span()),
            "`backoff.max` must not be shorter than `backoff.initial`",
        );
    }
}

/// A policy name; compose's `no` and `unless-stopped` (and `on_failure`)
/// are accepted too, so that a compose file's values carry over. An
/// unknown name keeps `current`, so the walk can go on.
fn policy(s: &MarkedScalarNode, current: RestartPolicy, errs: &mut Errors) -> RestartPolicy {
    match s.as_str() {
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
            current
        }
    }
}

/// A list of exit codes (`key` names it in errors).
pub(super) fn exit_codes(node: &Node, key: &str, errs: &mut Errors) -> Vec<i32> {
    let Some(seq) = node.as_sequence() else {
        errs.push(
            Location::of(node.span()),
            format!("`{key}` must be a list of exit codes, such as [0, 143]"),
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
