//! The three probes of a service (`health_check` for readiness,
//! `liveness`, `startup`) and their timings, which `settings` may set for
//! all services at once.

use super::fields::{check_keys, mapping, opt_duration, opt_string, positive};
use crate::config::Location;
use crate::config::error::Errors;
use crate::config::model::{HealthCheck, Probe, ProbeTiming};
use marked_yaml::Node;
use marked_yaml::types::{MarkedMappingNode, MarkedScalarNode};

const TIMING_KEYS: &[&str] = &["interval", "timeout", "retries", "start_period"];
const HEALTH_KEYS: &[&str] = &[
    "command",
    "http",
    "tcp",
    "start_period",
    "interval",
    "timeout",
    "retries",
];
const PROBE_KINDS: &[&str] = &["command", "http", "tcp"];

/// The probe a service writes under `key`, its timings left out taken
/// from `base` (the settings for that probe).
pub(super) fn probe(
    map: &MarkedMappingNode,
    key: &str,
    base: &ProbeTiming,
    errs: &mut Errors,
) -> Option<HealthCheck> {
    map.get_node(key)
        .and_then(|n| health_check(n, key, base, errs))
}

fn health_check(
    node: &Node,
    key: &str,
    base: &ProbeTiming,
    errs: &mut Errors,
) -> Option<HealthCheck> {
    let map = mapping(node, &format!("`{key}`"), errs)?;
    check_keys(map, HEALTH_KEYS, &format!("in `{key}`"), errs);
    let probe = probe_kind(map, key, errs)?;
    let t = timing(map, base, errs);
    Some(HealthCheck {
        probe,
        start_period: t.start_period,
        interval: t.interval,
        timeout: t.timeout,
        retries: t.retries,
    })
}

/// Exactly one of `command`, `http` or `tcp`: with two, which one was
/// meant cannot be told.
fn probe_kind(map: &MarkedMappingNode, key: &str, errs: &mut Errors) -> Option<Probe> {
    let kinds: Vec<&MarkedScalarNode> = map
        .keys()
        .filter(|k| PROBE_KINDS.contains(&k.as_str()))
        .collect();
    match kinds.as_slice() {
        [] => {
            errs.push(
                Location::of(map.span()),
                format!("`{key}` needs one of `command`, `http` or `tcp`"),
            );
            None
        }
        [one] => {
            let value = opt_string(map, one.as_str(), errs)?;
            Some(match one.as_str() {
                "command" => Probe::Command(value),
                "http" => Probe::Http(value),
                _ => Probe::Tcp(value),
            })
        }
        [_, second, ..] => {
            errs.push(
                Location::of(second.span()),
                format!(
                    "`{key}` has more than one kind ({}); use exactly one of `command`, `http` or `tcp`",
                    kinds.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", ")
                ),
            );
            None
        }
    }
}

/// `interval`, `timeout`, `retries`, `start_period` over `base`, so that
/// a probe need only write the timings that differ.
fn timing(map: &MarkedMappingNode, base: &ProbeTiming, errs: &mut Errors) -> ProbeTiming {
    let retries = match map.get_scalar("retries") {
        None => base.retries,
        Some(s) => match s.as_str().parse::<u32>() {
            Ok(n) if (1..=1000).contains(&n) => n,
            _ => {
                errs.push(
                    Location::of(s.span()),
                    format!(
                        "`retries` must be a whole number from 1 to 1000, not `{}`",
                        s.as_str()
                    ),
                );
                base.retries
            }
        },
    };
    ProbeTiming {
        interval: positive(map, "interval", errs).unwrap_or(base.interval),
        timeout: positive(map, "timeout", errs).unwrap_or(base.timeout),
        retries,
        start_period: opt_duration(map, "start_period", errs).unwrap_or(base.start_period),
    }
}

/// `settings.health_check` / `liveness` / `startup`: timings only, since
/// what to probe differs from service to service.
pub(super) fn timing_defaults(
    map: &MarkedMappingNode,
    key: &str,
    base: ProbeTiming,
    errs: &mut Errors,
) -> ProbeTiming {
    let Some(node) = map.get_node(key) else {
        return base;
    };
    let Some(m) = mapping(node, &format!("`settings.{key}`"), errs) else {
        return base;
    };
    check_keys(
        m,
        TIMING_KEYS,
        &format!("in `settings.{key}` (timings only; the probe itself is per service)"),
        errs,
    );
    timing(m, &base, errs)
}
