//! The validated config model. Everything here has been checked: names are
//! safe file names, dependencies exist and form no cycle, durations are sane.

use super::Location;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// A whole `services.yaml`, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Global defaults.
    pub settings: Settings,
    /// Services in the order they are written in the file.
    pub services: Vec<Service>,
    /// Jobs (`jobs:`), in file order.
    pub jobs: Vec<Job>,
}

impl Config {
    /// The service called `name`, if there is one.
    pub fn service(&self, name: &str) -> Option<&Service> {
        self.services.iter().find(|s| s.name == name)
    }

    /// Service names in file order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.services.iter().map(|s| s.name.as_str())
    }
}

/// The timing of a probe; `settings.health_check`, `settings.liveness`
/// and `settings.startup` set every service's defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProbeTiming {
    /// How often (once passing, for readiness).
    pub interval: Duration,
    /// A slower probe has failed.
    pub timeout: Duration,
    /// Failures in a row that count.
    pub retries: u32,
    /// Failures inside this period after the start do not count.
    pub start_period: Duration,
}

impl ProbeTiming {
    /// Readiness (seed 004): every 5 s, 3 failures make it unhealthy.
    pub const READINESS: ProbeTiming = ProbeTiming::new(5, 3);
    /// Liveness: every 10 s, 3 failures in a row restart the service.
    pub const LIVENESS: ProbeTiming = ProbeTiming::new(10, 3);
    /// Startup: 30 failures a second apart (30 s) are tolerated.
    pub const STARTUP: ProbeTiming = ProbeTiming::new(1, 30);

    const fn new(interval_secs: u64, retries: u32) -> ProbeTiming {
        ProbeTiming {
            interval: Duration::from_secs(interval_secs),
            timeout: Duration::from_secs(5),
            retries,
            start_period: Duration::ZERO,
        }
    }
}

/// The `settings:` block.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// `settings.startup_timeout`.
    pub startup_timeout: Option<Duration>,
    /// `settings.restart`: every service's defaults.
    pub restart: Restart,
    /// `settings.success_exit_codes`: every service's default.
    pub success_exit_codes: Option<Vec<i32>>,
    /// `settings.listen`: a TCP address (`host:port`; a bare port means
    /// 127.0.0.1) on which the daemon also serves status, health and
    /// metrics, read-only.
    pub listen: Option<String>,
    /// Defaults of every `health_check`.
    pub readiness: ProbeTiming,
    /// Defaults of every `liveness` probe.
    pub liveness: ProbeTiming,
    /// Defaults of every `startup` probe.
    pub startup: ProbeTiming,
    /// `settings.update`: how every service is deployed.
    pub update: Update,
    /// `settings.logs`: how every service's log is rotated.
    pub logs: LogRotation,
}

/// `logs:`: when a log is rotated and how many rotated files are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogRotation {
    /// Rotated when a write would take it past this many bytes.
    pub max_size: u64,
    /// Rotated files kept (`NAME.log.1` … `NAME.log.KEEP`); 0: never
    /// rotated (the log grows without limit).
    pub keep: u32,
}

impl Default for LogRotation {
    /// 10 MiB, 3 files kept.
    fn default() -> Self {
        LogRotation {
            max_size: 10 << 20,
            keep: 3,
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            startup_timeout: None,
            restart: Restart::default(),
            success_exit_codes: None,
            listen: None,
            readiness: ProbeTiming::READINESS,
            liveness: ProbeTiming::LIVENESS,
            startup: ProbeTiming::STARTUP,
            logs: LogRotation::default(),
            update: Update::default(),
        }
    }
}

/// When a service that ended on its own is started again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RestartPolicy {
    /// After a failure: an exit code not in `success_exit_codes`, or a
    /// signal harness did not send (the default).
    #[default]
    OnFailure,
    /// After any end harness did not ask for.
    Always,
    /// Never.
    Never,
}

/// `restart:` of a service (seed 004), with `settings.restart` and the
/// seed's values filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restart {
    /// When to restart.
    pub policy: RestartPolicy,
    /// Delay before the first restart of a streak; doubles each time.
    pub backoff_initial: Duration,
    /// The longest delay.
    pub backoff_max: Duration,
    /// Automatic restarts allowed within `window` before the service is
    /// given up on (`failed`); 0 means no limit.
    pub max_restarts: u32,
    /// The sliding window `max_restarts` counts in.
    pub window: Duration,
    /// A run that stays up this long ends a streak of failures: the next
    /// failure waits `backoff_initial` again.
    pub min_uptime: Duration,
}

impl Default for Restart {
    fn default() -> Self {
        Restart {
            policy: RestartPolicy::OnFailure,
            backoff_initial: Duration::from_secs(1),
            backoff_max: Duration::from_secs(60),
            max_restarts: 10,
            window: Duration::from_secs(600),
            min_uptime: Duration::from_secs(10),
        }
    }
}

/// One service.
#[derive(Debug, Clone, PartialEq)]
pub struct Service {
    /// Its name: `[A-Za-z0-9][A-Za-z0-9_.-]*`, safe as a file name.
    pub name: String,
    /// Where its key is written.
    pub location: Location,
    /// What to run.
    pub command: Command,
    /// Folder to run in, as written (relative to the config's folder).
    pub working_dir: Option<(PathBuf, Location)>,
    /// Extra environment, in file order.
    pub env: Vec<(String, String)>,
    /// A dotenv file read at start, as written.
    pub env_file: Option<(PathBuf, Location)>,
    /// What must be up before this service starts.
    pub depends_on: Vec<Dependency>,
    /// The readiness check: gates dependents, never restarts.
    pub health_check: Option<HealthCheck>,
    /// The liveness probe: failing `retries` times in a row restarts the
    /// service (through its restart policy).
    pub liveness: Option<HealthCheck>,
    /// The startup probe: holds the other probes back until it passes;
    /// not passing within `interval × retries` restarts the service.
    pub startup: Option<HealthCheck>,
    /// `startup_timeout` of this service.
    pub startup_timeout: Option<Duration>,
    /// Signal sent to the process group to stop it.
    pub stop_signal: StopSignal,
    /// Grace period before SIGKILL.
    pub stop_timeout: Duration,
    /// Label shown in status (`local`, `lan`, `wg`…).
    pub network: Option<String>,
    /// Readiness pushed by the service instead of probed.
    pub ready: Option<Ready>,
    /// With `ready: notify`: once ready, `WATCHDOG=1` must come at least
    /// this often, or the run counts as failed and is restarted.
    pub watchdog: Option<Duration>,
    /// When and how fast it is started again after it ended on its own.
    pub restart: Restart,
    /// Exit codes that are not failures (default `[0]`).
    pub success_exit_codes: Vec<i32>,
    /// How a deploy replaces it (`update:` over `settings.update`).
    pub update: Update,
    /// How its log is rotated (`logs:` over `settings.logs`, key by key).
    pub logs: LogRotation,
    /// `version:`: what makes a new version that harness cannot see in
    /// the definition (a rebuilt binary).
    pub version: Version,
    /// `socket: { tcp }`: the address harness listens on for it and hands
    /// over as fd 3 (`LISTEN_FDS`), kept open across its restarts and
    /// deploys.
    pub socket: Option<(std::net::SocketAddr, Location)>,
    /// `attach:`: how an instance harness did not start is recognised.
    pub attach: Option<Attach>,
    /// Hashes of what the definition names outside the file, as the loader
    /// saw them: `env_file contents`, `version files`, `version command`.
    /// Empty when the config was parsed without looking (`parse` never
    /// reads other files).
    pub observed: BTreeMap<String, String>,
}

impl Service {
    /// A service gone from the file whose run a new daemon found still
    /// running: known by its name and how it is stopped, and nothing
    /// else (the file no longer says, and harness keeps no copy of an
    /// environment). It is never started: not restarted when it ends
    /// (its run is its last), and dropped from the config once down.
    pub fn left_over(name: &str, stop_signal: StopSignal) -> Service {
        Service {
            name: name.to_string(),
            location: Location::default(),
            command: Command::Argv(Vec::new()),
            working_dir: None,
            env: Vec::new(),
            env_file: None,
            depends_on: Vec::new(),
            health_check: None,
            liveness: None,
            startup: None,
            startup_timeout: None,
            stop_signal,
            stop_timeout: Duration::from_secs(10),
            network: None,
            ready: None,
            watchdog: None,
            restart: Restart {
                policy: RestartPolicy::Never,
                ..Restart::default()
            },
            success_exit_codes: vec![0],
            update: Update::default(),
            logs: LogRotation::default(),
            version: Version::default(),
            socket: None,
            attach: None,
            observed: BTreeMap::new(),
        }
    }
}

/// `version:` of a service. A rebuilt binary changes neither the command
/// nor the environment; these say where to look.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Version {
    /// Files whose contents are part of the version (relative to the
    /// config's folder).
    pub files: Vec<PathBuf>,
    /// A command whose output is part of the version (`git rev-parse
    /// HEAD`), run by `sh -c` in the config's folder when a deploy plans.
    pub command: Option<String>,
}

/// How a deploy swaps a service's old version for its new one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UpdateOrder {
    /// Stop the old run, then start the new one (the default: two
    /// versions of most services cannot run at once — a port, a data
    /// folder).
    #[default]
    StopFirst,
    /// Start the new run beside the old; stop the old one only once the
    /// new one has passed its health gate.
    StartFirst,
}

/// `update:` of a service, over `settings.update`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Update {
    /// Which run goes first.
    pub order: UpdateOrder,
    /// How long a new run must stay ready before it is committed.
    pub min_healthy: Duration,
    /// How long a new run has to pass its health gate; `None`: its startup
    /// timeout.
    pub healthy_deadline: Option<Duration>,
    /// On a failed stop-first change, start the last stable version again.
    pub auto_revert: bool,
}

impl Default for Update {
    fn default() -> Self {
        Update {
            order: UpdateOrder::StopFirst,
            min_healthy: Duration::from_secs(2),
            healthy_deadline: None,
            auto_revert: true,
        }
    }
}

/// How a service says it is ready, instead of being probed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ready {
    /// The systemd `sd_notify` protocol: `READY=1` on `$NOTIFY_SOCKET`.
    Notify,
    /// The first output line matching this regular expression.
    Log(String),
}

/// What a service runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// A string, run by `sh -c`.
    Shell(String),
    /// A list, executed directly.
    Argv(Vec<String>),
}

/// One entry of `depends_on`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dependency {
    /// The service depended on.
    pub name: String,
    /// When it counts as up.
    pub condition: Condition,
    /// Where the entry is written.
    pub location: Location,
}

/// When a dependency counts as satisfied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Condition {
    /// Its process is running.
    Started,
    /// Its health check passes (the default).
    Healthy,
    /// It ran and exited with a success code.
    Completed,
}

/// A readiness check with its timing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthCheck {
    /// What to probe.
    pub probe: Probe,
    /// Failures inside this period after the start do not count.
    pub start_period: Duration,
    /// How often to probe once healthy.
    pub interval: Duration,
    /// A probe that takes longer has failed.
    pub timeout: Duration,
    /// Consecutive failures before a healthy service is unhealthy.
    pub retries: u32,
}

/// `attach:`: what marks a process as this service when harness did not
/// start it. Each key given is one way to find it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Attach {
    /// The process's name (`/proc/PID/comm`, or its argv\[0\]'s file name).
    pub process_name: Option<String>,
    /// A file holding its pid on its first line, as written (relative to
    /// the config's folder).
    pub pidfile: Option<(PathBuf, Location)>,
    /// A TCP port it listens on.
    pub port: Option<u16>,
}

/// The three kinds of probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Probe {
    /// A shell command that must exit 0.
    Command(String),
    /// A URL that must answer 2xx.
    Http(String),
    /// `host:port` that must accept a connection.
    Tcp(String),
}

impl Probe {
    /// Whether a probe of this kind is cheap enough to run every few
    /// milliseconds while a service starts (no process to spawn).
    pub fn is_cheap(&self) -> bool {
        !matches!(self, Probe::Command(_))
    }
}

/// Signals a service may ask to be stopped with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopSignal {
    /// SIGTERM, the default.
    Term,
    /// SIGINT.
    Int,
    /// SIGQUIT.
    Quit,
    /// SIGHUP.
    Hup,
    /// SIGKILL.
    Kill,
    /// SIGUSR1.
    Usr1,
    /// SIGUSR2.
    Usr2,
}

impl StopSignal {
    /// All signals with their names, for parsing and suggestions.
    pub const ALL: [(StopSignal, &'static str); 7] = [
        (StopSignal::Term, "SIGTERM"),
        (StopSignal::Int, "SIGINT"),
        (StopSignal::Quit, "SIGQUIT"),
        (StopSignal::Hup, "SIGHUP"),
        (StopSignal::Kill, "SIGKILL"),
        (StopSignal::Usr1, "SIGUSR1"),
        (StopSignal::Usr2, "SIGUSR2"),
    ];

    /// Its number on Linux (the only system harness runs on).
    pub fn number(self) -> i32 {
        match self {
            StopSignal::Term => 15,
            StopSignal::Int => 2,
            StopSignal::Quit => 3,
            StopSignal::Hup => 1,
            StopSignal::Kill => 9,
            StopSignal::Usr1 => 10,
            StopSignal::Usr2 => 12,
        }
    }

    /// Its conventional name.
    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(s, _)| *s == self)
            .map(|(_, n)| *n)
            .unwrap_or("SIGTERM")
    }
}

/// A job (`jobs: NAME:`): ordered steps, each run under the shim, that
/// resume where they failed (seed 003; see `crate::job`).
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    /// Its name (the rules of a service's name; never a service's).
    pub name: String,
    /// Where its key is written.
    pub location: Location,
    /// Its steps, in order (at least one).
    pub steps: Vec<Step>,
    /// Services that must be up before its first step runs.
    pub depends_on: Vec<Dependency>,
    /// What to run when a person chooses Cleanup after a failure.
    pub cleanup: Option<Command>,
    /// What a failed step leads to off a terminal: `stop` (the state
    /// stays at the failed step), `retry` or `cleanup`.
    pub on_failure: JobOnFailure,
    /// How each attempt's log is rotated (`logs:` over `settings.logs`).
    pub logs: LogRotation,
}

/// `jobs.NAME.on_failure`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum JobOnFailure {
    /// The state stays at the failed step, status failed.
    #[default]
    Stop,
    /// Another attempt now.
    Retry,
    /// Run the job's `cleanup`.
    Cleanup,
}

/// One step of a job.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// Its name, unique in its job.
    pub name: String,
    /// Where it is written.
    pub location: Location,
    /// What to run.
    pub command: Command,
    /// Folder to run in, as written (relative to the config's folder).
    pub working_dir: Option<(PathBuf, Location)>,
    /// Extra environment, in file order.
    pub env: Vec<(String, String)>,
    /// A dotenv file read at start, as written.
    pub env_file: Option<(PathBuf, Location)>,
    /// Longer than this, it is stopped and has failed (class: `classify.timeout`).
    pub timeout: Option<Duration>,
    /// Files whose contents are part of its print.
    pub inputs: Vec<PathBuf>,
    /// Files it makes: checked (by hash) before it is skipped, removed when
    /// an attempt fails.
    pub outputs: Vec<PathBuf>,
    /// An attempt cut short (the host died) may simply run again; if not,
    /// the run waits for a decision.
    pub idempotent: bool,
    /// Attempts per class of failure (the job's, key by key).
    pub retry: crate::job::retry::Retry,
    /// How a failure is classified (the job's, key by key).
    pub classify: crate::job::classify::Classify,
}
