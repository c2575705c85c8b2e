//! `GET /metrics`: the Prometheus text format (version 0.0.4), for any
//! scraper. One family per fact, one sample per service.

use harness_core::engine::ProbeKind;
use harness_core::report::{Health, ServiceView, Status, StatusView};
use std::collections::HashMap;
use std::fmt::Write;
use std::time::Duration;

/// Last probe latency per service and probe.
pub type Latencies = HashMap<(String, ProbeKind), Duration>;

/// Deploys this daemon ran, by result, and their services, by outcome.
#[derive(Debug, Default)]
pub struct DeployCounts {
    /// `succeeded`, `failed`, `cancelled` → count.
    pub deploys: std::collections::BTreeMap<String, u64>,
    /// `deployed`, `failed`, `reverted`, … → count.
    pub services: std::collections::BTreeMap<String, u64>,
}

/// Jobs' step attempts since the daemon started, by job, step, class
/// (`none` for an attempt that did not fail) and result (`completed`,
/// `failed`, `cancelled`, `interrupted`).
#[derive(Debug, Clone, Default)]
pub struct JobCounts {
    /// (job, step, class, result) → count.
    pub attempts: std::collections::BTreeMap<(String, String, String, String), u64>,
}

const STATES: [(Status, &str); 8] = [
    (Status::Stopped, "stopped"),
    (Status::Starting, "starting"),
    (Status::Running, "running"),
    (Status::Stopping, "stopping"),
    (Status::Restarting, "restarting"),
    (Status::Failed, "failed"),
    (Status::Exited, "exited"),
    (Status::External, "external"),
];

/// Renders every family.
pub fn render(
    report: &StatusView,
    latencies: &Latencies,
    deploys: &DeployCounts,
    jobs: &JobCounts,
) -> String {
    let mut out = String::new();
    let mut family = |name: &str, kind: &str, help: &str, samples: Vec<(String, String)>| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        for (labels, value) in samples {
            let _ = writeln!(out, "{name}{{{labels}}} {value}");
        }
    };
    let each = |f: &dyn Fn(&ServiceView) -> Option<String>| {
        report
            .services
            .iter()
            .filter_map(|s| f(s).map(|v| (format!("service=\"{}\"", s.name), v)))
            .collect::<Vec<_>>()
    };
    family(
        "harness_service_up",
        "gauge",
        "1 while the service's process runs.",
        each(&|s| Some(u8::from(s.pid.is_some()).to_string())),
    );
    family(
        "harness_service_healthy",
        "gauge",
        "1 while the service is up and its checks pass.",
        each(&|s| Some(u8::from(s.health == Health::Healthy).to_string())),
    );
    family(
        "harness_service_restarts_total",
        "counter",
        "Automatic restarts since a person last started the service.",
        each(&|s| Some(s.restarts.to_string())),
    );
    family(
        "harness_service_uptime_seconds",
        "gauge",
        "Seconds since the current run started.",
        each(&|s| s.uptime_secs.map(|u| u.to_string())),
    );
    let states = state_samples(report);
    family(
        "harness_service_state",
        "gauge",
        "1 for the state the service is in.",
        states,
    );
    let probes = probe_samples(latencies);
    family(
        "harness_probe_duration_seconds",
        "gauge",
        "How long the last probe took.",
        probes,
    );
    let counted = |m: &std::collections::BTreeMap<String, u64>, label: &str| {
        m.iter()
            .map(|(k, n)| (format!("{label}=\"{k}\""), n.to_string()))
            .collect::<Vec<_>>()
    };
    family(
        "harness_deploys_total",
        "counter",
        "Deploys this daemon ran, by result.",
        counted(&deploys.deploys, "result"),
    );
    family(
        "harness_deploy_services_total",
        "counter",
        "Services of those deploys, by how each ended.",
        counted(&deploys.services, "outcome"),
    );
    family(
        "harness_job_step_attempts_total",
        "counter",
        "Attempts at jobs' steps, by how each ended.",
        jobs.attempts
            .iter()
            .map(|((job, step, class, result), n)| {
                (
                    format!("job=\"{job}\",step=\"{step}\",class=\"{class}\",result=\"{result}\""),
                    n.to_string(),
                )
            })
            .collect(),
    );
    out
}

/// One sample per service and state: 1 for the state it is in.
fn state_samples(report: &StatusView) -> Vec<(String, String)> {
    report
        .services
        .iter()
        .flat_map(|s| {
            STATES.iter().map(move |(st, name)| {
                (
                    format!("service=\"{}\",state=\"{name}\"", s.name),
                    u8::from(s.status == *st).to_string(),
                )
            })
        })
        .collect()
}

/// How long each service's last probe of each kind took, sorted.
fn probe_samples(latencies: &Latencies) -> Vec<(String, String)> {
    let mut probes: Vec<(String, String)> = latencies
        .iter()
        .map(|((service, kind), took)| {
            let probe = match kind {
                ProbeKind::Ready => "readiness",
                ProbeKind::Live => "liveness",
                ProbeKind::Startup => "startup",
            };
            (
                format!("service=\"{service}\",probe=\"{probe}\""),
                format!("{:.6}", took.as_secs_f64()),
            )
        })
        .collect();
    probes.sort();
    probes
}

#[cfg(test)]
mod tests {
    use super::*;
    use harness_core::report::SystemState;

    #[test]
    fn every_family_has_help_type_and_one_sample_per_service() {
        let row = |name: &str, status, health, pid| ServiceView {
            name: name.into(),
            status,
            health,
            pid,
            restarts: 2,
            uptime_secs: pid.map(|_| 42),
            exit_code: None,
            network: "local".into(),
            notes: String::new(),
            changes: Vec::new(),
            removed: false,
        };
        let report = StatusView {
            system_state: SystemState::Partial,
            services: vec![
                row("api", Status::Running, Health::Healthy, Some(7)),
                row("worker", Status::Restarting, Health::Unhealthy, None),
            ],
        };
        let mut lat = Latencies::new();
        lat.insert(
            ("api".into(), ProbeKind::Ready),
            Duration::from_micros(1500),
        );
        let mut jobs = JobCounts::default();
        jobs.attempts.insert(
            (
                "image".into(),
                "kickstart".into(),
                "transient".into(),
                "failed".into(),
            ),
            2,
        );
        let text = render(&report, &lat, &DeployCounts::default(), &jobs);
        for line in [
            "# TYPE harness_service_up gauge",
            "harness_service_up{service=\"api\"} 1",
            "harness_service_up{service=\"worker\"} 0",
            "harness_service_healthy{service=\"api\"} 1",
            "# TYPE harness_service_restarts_total counter",
            "harness_service_restarts_total{service=\"worker\"} 2",
            "harness_service_uptime_seconds{service=\"api\"} 42",
            "harness_service_state{service=\"worker\",state=\"restarting\"} 1",
            "harness_service_state{service=\"worker\",state=\"running\"} 0",
            "harness_probe_duration_seconds{service=\"api\",probe=\"readiness\"} 0.001500",
            "# TYPE harness_job_step_attempts_total counter",
            "harness_job_step_attempts_total{job=\"image\",step=\"kickstart\",class=\"transient\",result=\"failed\"} 2",
        ] {
            assert!(text.lines().any(|l| l == line), "{line}\n{text}");
        }
        assert!(!text.contains("harness_service_uptime_seconds{service=\"worker\"}"));
    }
}
