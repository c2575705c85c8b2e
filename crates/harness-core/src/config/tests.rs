//! Config parsing: the happy path and every error users hit, with locations.

use super::*;
use std::path::Path;
use std::time::Duration;

fn errors(yaml: &str) -> Vec<String> {
    parse(yaml, "services.yaml")
        .expect_err("config should be rejected")
        .0
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn parses_the_design_example() {
    let yaml = r#"
settings:
  startup_timeout: 5m
services:
  postgres:
    command: postgres -D ./data -p 5432
    working_dir: ./db
    env: { PGDATA: ./data }
    env_file: .env
    startup_timeout: 60
    health_check:
      command: pg_isready -p 5432
      start_period: 2
      interval: 10
      timeout: 5
      retries: 3
    stop_signal: SIGTERM
    stop_timeout: 10
    network: local
  api:
    command: ["./api", "--port", "8080"]
    depends_on: { postgres: { condition: healthy } }
    health_check: { http: "http://127.0.0.1:8080/health" }
    stop_signal: INT
"#;
    let c = parse(yaml, "services.yaml").unwrap();
    assert_eq!(c.settings.startup_timeout, Some(Duration::from_secs(300)));
    let pg = c.service("postgres").unwrap();
    assert_eq!(
        pg.command,
        Command::Shell("postgres -D ./data -p 5432".into())
    );
    assert_eq!(pg.env, [("PGDATA".to_string(), "./data".to_string())]);
    let hc = pg.health_check.as_ref().unwrap();
    assert_eq!((hc.interval, hc.retries), (Duration::from_secs(10), 3));
    let api = c.service("api").unwrap();
    assert_eq!(
        api.command,
        Command::Argv(vec!["./api".into(), "--port".into(), "8080".into()])
    );
    assert_eq!(api.depends_on[0].condition, Condition::Healthy);
    assert_eq!(api.stop_signal, StopSignal::Int);
    assert_eq!(api.stop_timeout, Duration::from_secs(10));
}

#[test]
fn every_error_names_file_line_column() {
    let cases: &[(&str, &str)] = &[
        (
            "services:\n  api:\n    comand: x\n",
            "services.yaml:3:5: unknown key `comand` in service `api`\n  help: did you mean `command`?",
        ),
        (
            "services:\n  api:\n    command: x\n    depends_on: [db]\n",
            "services.yaml:4:18: service `api` depends on unknown service `db`",
        ),
        (
            "services:\n  ../x:\n    command: x\n",
            "services.yaml:2:3: invalid service name `../x`",
        ),
        (
            "services:\n  api:\n    command: x\n    health_check: { tcp: \"a:1\", http: \"http://a\" }\n",
            "services.yaml:4:33: `health_check` has more than one kind (tcp, http)",
        ),
        (
            "services:\n  api:\n    command: x\n    stop_timeout: -5\n",
            "services.yaml:4:19: `stop_timeout`: duration `-5` is negative",
        ),
        (
            "services:\n  api:\n    command: x\n    startup_timeout: 100000000\n",
            "services.yaml:4:22: `startup_timeout`: duration `100000000` is longer than the maximum of 7 days",
        ),
        ("services:\n  api: [\n", "services.yaml:3:1: invalid YAML"),
        (
            "services:\n  api:\n    command: x\n    stop_signal: SIGTREM\n",
            "services.yaml:4:18: unknown stop signal `SIGTREM`\n  help: did you mean `SIGTERM`?",
        ),
        (
            "services:\n  api:\n    working_dir: x\n",
            "services.yaml:2:3: service `api` has no `command`",
        ),
        (
            "servces:\n  api: {command: x}\n",
            "services.yaml:1:1: unknown key `servces` at the top level\n  help: did you mean `services`?",
        ),
    ];
    for (yaml, want) in cases {
        let got = errors(yaml);
        assert!(
            got.iter().any(|e| e.starts_with(want)),
            "for {yaml:?}\nwant: {want}\ngot:  {got:#?}"
        );
    }
}

#[test]
fn cycles_are_printed_as_a_path() {
    let yaml = "services:\n  a: { command: x, depends_on: [b] }\n  b: { command: x, depends_on: [c] }\n  c: { command: x, depends_on: [a] }\n";
    let got = errors(yaml);
    assert_eq!(got, ["services.yaml:2:33: dependency cycle: a → b → c → a"]);
}

#[test]
fn all_errors_are_reported_at_once_in_file_order() {
    let yaml = "services:\n  a:\n    command: x\n    bogus: 1\n  b:\n    command: y\n    depends_on: [zz]\n";
    let got = errors(yaml);
    assert_eq!(got.len(), 2, "{got:#?}");
    assert!(got[0].contains(":4:5:") && got[1].contains(":7:18:"));
}

#[test]
fn names_that_would_escape_the_log_folder_are_rejected() {
    for bad in ["..", ".hidden", "a/b", "-x", "a b"] {
        assert!(!validate::valid_name(bad), "{bad}");
    }
    for good in ["api", "api-2", "db.primary", "w_1", "0"] {
        assert!(validate::valid_name(good), "{good}");
    }
}

#[test]
fn missing_working_dir_is_reported_with_location() {
    let yaml = "services:\n  api:\n    command: x\n    working_dir: ./nope\n";
    let c = parse(yaml, "services.yaml").unwrap();
    let errs = check_paths(&c, "services.yaml", Path::new("/tmp"), |_| false, |_| true);
    assert_eq!(
        errs[0].to_string(),
        "services.yaml:4:18: working_dir `./nope` of service `api` does not exist"
    );
}

#[test]
fn restart_settings_are_defaults_that_services_override_key_by_key() {
    let yaml = r#"
settings:
  restart: { backoff: { initial: 50ms }, max_restarts: 3 }
  success_exit_codes: [0, 143]
services:
  plain:
    command: a
  never:
    command: b
    restart: "no"
  tuned:
    command: c
    restart:
      policy: always
      backoff: { max: 2s }
      window: 1m
      min_uptime: 300ms
    success_exit_codes: [0]
"#;
    let c = parse(yaml, "services.yaml").unwrap();
    let plain = &c.service("plain").unwrap();
    assert_eq!(
        plain.restart,
        Restart {
            backoff_initial: Duration::from_millis(50),
            max_restarts: 3,
            ..Restart::default()
        }
    );
    assert_eq!(plain.success_exit_codes, [0, 143]);
    assert_eq!(
        c.service("never").unwrap().restart.policy,
        RestartPolicy::Never
    );
    let tuned = &c.service("tuned").unwrap();
    assert_eq!(
        tuned.restart,
        Restart {
            policy: RestartPolicy::Always,
            backoff_initial: Duration::from_millis(50),
            backoff_max: Duration::from_secs(2),
            max_restarts: 3,
            window: Duration::from_secs(60),
            min_uptime: Duration::from_millis(300),
        }
    );
    assert_eq!(tuned.success_exit_codes, [0]);
    let seed = Restart::default();
    assert_eq!(
        (
            seed.backoff_initial,
            seed.backoff_max,
            seed.max_restarts,
            seed.window,
            seed.min_uptime
        ),
        (
            Duration::from_secs(1),
            Duration::from_secs(60),
            10,
            Duration::from_secs(600),
            Duration::from_secs(10)
        )
    );
}

#[test]
fn restart_mistakes_are_reported_where_they_are_written() {
    let errs = errors(
        "services:\n  a:\n    command: x\n    restart: on-fialure\n    success_exit_codes: [0, 300]\n  b:\n    command: y\n    restart: { backoff: { initial: 5s, max: 1s }, max_restarts: many, windo: 1m }\n",
    );
    assert_eq!(
        errs,
        [
            "services.yaml:4:14: unknown restart policy `on-fialure`\n  help: did you mean `on-failure`?",
            "services.yaml:5:29: each exit code must be a whole number from 0 to 255",
            "services.yaml:8:45: `backoff.max` must not be shorter than `backoff.initial`",
            "services.yaml:8:65: `max_restarts` must be a whole number (0 for no limit), not `many`",
            "services.yaml:8:71: unknown key `windo` in `restart`\n  help: did you mean `window`?",
        ]
    );
}

#[test]
fn liveness_and_startup_probes_take_seed_004_defaults() {
    let yaml = r#"
services:
  api:
    command: ./api
    health_check: { http: "http://127.0.0.1:8080/ready" }
    liveness: { command: "curl -fs localhost:8080/live" }
    startup: { tcp: "127.0.0.1:8080", interval: 500ms }
"#;
    let c = parse(yaml, "services.yaml").unwrap();
    let api = c.service("api").unwrap();
    let t = |h: &Option<HealthCheck>| {
        let h = h.as_ref().unwrap();
        (h.interval, h.timeout, h.retries)
    };
    let s = Duration::from_secs;
    assert_eq!(t(&api.health_check), (s(5), s(5), 3));
    assert_eq!(t(&api.liveness), (s(10), s(5), 3));
    assert_eq!(t(&api.startup), (Duration::from_millis(500), s(5), 30));
    assert_eq!(
        api.liveness.as_ref().unwrap().probe,
        Probe::Command("curl -fs localhost:8080/live".into())
    );
    assert_eq!(
        errors("services:\n  a:\n    command: x\n    liveness: { interval: 1 }\n"),
        ["services.yaml:4:15: `liveness` needs one of `command`, `http` or `tcp`"]
    );
}

#[test]
fn pushed_readiness_is_notify_or_a_log_pattern() {
    let c = parse(
        "services:\n  a:\n    command: x\n    ready: notify\n    watchdog: 30s\n  b:\n    command: y\n    ready: { log: \"listening on [0-9]+\" }\n",
        "services.yaml",
    )
    .unwrap();
    assert_eq!(c.services[0].ready, Some(Ready::Notify));
    assert_eq!(c.services[0].watchdog, Some(Duration::from_secs(30)));
    assert_eq!(
        c.services[1].ready,
        Some(Ready::Log("listening on [0-9]+".into()))
    );
    let errs = errors(
        "services:\n  a:\n    command: x\n    ready: { log: \"port (\" }\n  b:\n    command: y\n    ready: sd_notify\n    watchdog: 5s\n",
    );
    assert_eq!(errs.len(), 3, "{errs:#?}");
    assert!(
        errs[0].starts_with("services.yaml:4:19: `ready.log` is not a valid regular expression"),
        "{}",
        errs[0]
    );
    assert!(
        errs[1].starts_with("services.yaml:7:12: `ready` must be `notify` or a mapping with `log`"),
        "{}",
        errs[1]
    );
    assert!(
        errs[2].starts_with("services.yaml:8:15: `watchdog` needs `ready: notify`"),
        "{}",
        errs[2]
    );
}

#[test]
fn probe_timings_have_defaults_in_settings() {
    let yaml = r#"
settings:
  health_check: { interval: 2s, retries: 5 }
  liveness: { interval: 30s, start_period: 1m }
services:
  api:
    command: ./api
    health_check: { tcp: "127.0.0.1:1", retries: 2 }
    liveness: { tcp: "127.0.0.1:1" }
"#;
    let c = parse(yaml, "services.yaml").unwrap();
    let api = c.service("api").unwrap();
    let h = api.health_check.as_ref().unwrap();
    assert_eq!((h.interval, h.retries), (Duration::from_secs(2), 2));
    let l = api.liveness.as_ref().unwrap();
    assert_eq!(
        (l.interval, l.timeout, l.retries, l.start_period),
        (
            Duration::from_secs(30),
            Duration::from_secs(5),
            3,
            Duration::from_secs(60)
        )
    );
    let errs = errors(
        "settings:\n  liveness: { tcp: \"127.0.0.1:1\" }\nservices:\n  a:\n    command: x\n",
    );
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(
        errs[0].starts_with("services.yaml:2:15: unknown key `tcp` in `settings.liveness`"),
        "{}",
        errs[0]
    );
}

#[test]
fn env_names_the_environment_cannot_hold_are_rejected_where_written() {
    let errs = errors(
        "services:\n  a:\n    command: x\n    env:\n      \"\": empty\n      \"A=B\": eq\n  b:\n    command: x\n    env: [\"=v\", \"OK=fine=too\"]\n",
    );
    assert_eq!(
        errs,
        [
            "services.yaml:5:7: env name `` cannot be empty or contain `=`",
            "services.yaml:6:7: env name `A=B` cannot be empty or contain `=`",
            "services.yaml:9:11: env name `` cannot be empty or contain `=`",
        ]
    );
}

#[test]
fn a_socket_is_an_address_of_one_service_and_never_checked_through_itself() {
    let c = parse(
        "services:\n  web:\n    command: x\n    socket: { tcp: \"127.0.0.1:8080\" }\n    ready: notify\n    liveness: { http: \"http://127.0.0.1:8080/health\" }\n",
        "services.yaml",
    )
    .unwrap();
    assert_eq!(
        c.services[0].socket.map(|(a, _)| a),
        Some("127.0.0.1:8080".parse().unwrap())
    );
    let errs = errors(
        "services:
  a:
    command: x
    socket: { tcp: \"localhost:80\" }
  b:
    command: y
    socket: { tcp: \"[::1]:9000\" }
    health_check: { tcp: \"localhost:9000\" }
  c:
    command: z
    socket: { tcp: \"0.0.0.0:9001\" }
    health_check: { http: \"http://127.0.0.1:9001/ready\" }
  d:
    command: w
    socket: { tcp: \"[::1]:9000\" }
    socket2: 1
",
    );
    assert_eq!(errs.len(), 5, "{errs:#?}");
    assert!(
        errs[0].starts_with(
            "services.yaml:4:20: `socket.tcp` must be an IP address and port, not `localhost:80`"
        ),
        "{}",
        errs[0]
    );
    assert!(
        errs[1].starts_with("services.yaml:7:20: service `b`: a tcp readiness check on the service's own socket always passes"),
        "{}",
        errs[1]
    );
    assert!(
        errs[2].starts_with("services.yaml:11:20: service `c`: an http readiness check through the service's own socket may be answered"),
        "{}",
        errs[2]
    );
    assert!(
        errs[3]
            .starts_with("services.yaml:15:20: `[::1]:9000` is already the socket of service `b`"),
        "{}",
        errs[3]
    );
    assert!(errs[4].contains("unknown key `socket2`"), "{}", errs[4]);
}

/// Seed 003's image build as a job: kickstart retried with backoff (3
/// attempts), ansible retried quickly, tests left to a person.
const IMAGE_JOB: &str = r#"services:
  registry:
    command: registry serve
jobs:
  image:
    depends_on: [registry]
    retry: { transient: { max_attempts: 2, backoff: { initial: 5s } } }
    classify:
      transient: { output: ["(?i)timed? ?out|connection reset"] }
    cleanup: ./cleanup.sh
    steps:
      - name: base
        command: ./base.sh
        inputs: [versions.lock]
        outputs: [cache/base.iso]
      - name: kickstart
        command: ["./kickstart.sh", "--ks", "image.ks"]
        timeout: 30m
        idempotent: false
        retry: { transient: { max_attempts: 3, backoff: { initial: 1m, max: 10m } } }
      - name: ansible
        command: ansible-playbook site.yml
        env: { ANSIBLE_FORCE_COLOR: "0" }
        retry: { transient: { backoff: { initial: 1s } } }
      - name: tests
        command: ./tests.sh
        retry: { transient: { max_attempts: 1 } }
        classify: { timeout: persistent }
"#;

#[test]
fn a_job_is_read_with_steps_that_take_their_jobs_rules_key_by_key() {
    let c = super::parse::parse(IMAGE_JOB, "services.yaml").unwrap();
    let job = &c.jobs[0];
    assert_eq!(job.name, "image");
    assert_eq!(job.depends_on[0].name, "registry");
    assert_eq!(job.cleanup, Some(Command::Shell("./cleanup.sh".into())));
    let names: Vec<&str> = job.steps.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["base", "kickstart", "ansible", "tests"]);
    let [base, kickstart, ansible, tests] = &job.steps[..] else {
        panic!("four steps")
    };
    assert_eq!(base.inputs, [std::path::PathBuf::from("versions.lock")]);
    assert_eq!(base.outputs, [std::path::PathBuf::from("cache/base.iso")]);
    assert!(base.idempotent && !kickstart.idempotent);
    assert_eq!(kickstart.timeout, Some(Duration::from_secs(1800)));
    // The job's rules, with each step's keys over them.
    assert_eq!(base.retry.transient.max_attempts, 2);
    assert_eq!(base.retry.transient.backoff_initial, Duration::from_secs(5));
    assert_eq!(kickstart.retry.transient.max_attempts, 3);
    assert_eq!(
        kickstart.retry.transient.backoff_max,
        Duration::from_secs(600)
    );
    assert_eq!(ansible.retry.transient.max_attempts, 2);
    assert_eq!(
        ansible.retry.transient.backoff_initial,
        Duration::from_secs(1)
    );
    assert_eq!(tests.retry.transient.max_attempts, 1);
    assert_eq!(base.retry.persistent.max_attempts, 1);
    let (class, _) = ansible.classify.classify(
        crate::job::classify::Failure::Exited(2),
        "ssh: Connection reset by peer",
    );
    assert_eq!(class, crate::job::classify::Class::Transient);
    assert_eq!(
        tests.classify.timeout,
        crate::job::classify::Class::Persistent
    );
    assert_eq!(
        base.classify.timeout,
        crate::job::classify::Class::Transient
    );
}

#[test]
fn job_mistakes_are_reported_where_they_are_written() {
    let errs: Vec<String> = super::parse::parse(
        r#"services:
  web:
    command: web
jobs:
  web:
    steps:
      - name: a
        command: a
  build:
    depends_on: [wbe]
    on_failure: retyr
    steps:
      - name: a
        command: a
        retry: { transient: { max_attempts: 0 } }
        classify: { transient: { output: "port (" }, signal: maybe }
        inputs: lock
      - name: a
        command: b
        idempotnt: true
      - command: c
  empty:
    steps: []
"#,
        "services.yaml",
    )
    .expect_err("rejected")
    .0
    .iter()
    .map(ToString::to_string)
    .collect();
    let want = [
        "services.yaml:5:3: `web` is the name of a service and of a job",
        "services.yaml:10:18: job `build` depends on unknown service `wbe`",
        "services.yaml:11:17: unknown `on_failure` `retyr`\n  help: did you mean `retry`?",
        "services.yaml:15:45: `max_attempts` must be a whole number from 1 to 1000, not `0`",
        "services.yaml:16:42: `output` pattern is not a valid regular expression: error: unclosed group",
        "services.yaml:16:62: `classify.signal` must be transient or persistent, not `maybe`",
        "services.yaml:17:17: `inputs` must be a list of file paths",
        "services.yaml:18:15: job `build` has two steps called `a`",
        "services.yaml:20:9: unknown key `idempotnt` in a step\n  help: did you mean `idempotent`?",
        "services.yaml:21:9: each step needs a `name`",
        "services.yaml:23:12: `steps` of job `empty` must be a non-empty list of steps",
    ];
    assert_eq!(errs.len(), want.len(), "{errs:#?}");
    for (got, want) in errs.iter().zip(want) {
        assert!(got.starts_with(want), "{got}\n  wanted: {want}");
    }
}

#[test]
fn an_exit_code_listed_in_one_class_leaves_the_other_classs_defaults() {
    let c = super::parse::parse(
        "services:\n  a: { command: a }\njobs:\n  j:\n    classify: { transient: { exit_codes: [64, 75] } }\n    steps: [{ name: s, command: s }]\n",
        "services.yaml",
    )
    .unwrap();
    let rules = &c.jobs[0].steps[0].classify;
    assert_eq!(rules.transient_codes, [64, 75]);
    assert_eq!(rules.persistent_codes, [65, 77, 78], "64 is transient now");
    let (class, _) = rules.classify(crate::job::classify::Failure::Exited(64), "");
    assert_eq!(class, crate::job::classify::Class::Transient);
    let errs: Vec<String> = super::parse::parse(
        "services:\n  a: { command: a }\njobs:\n  j:\n    classify: { transient: { exit_codes: [1] }, persistent: { exit_codes: [1] } }\n    steps: [{ name: s, command: s }]\n",
        "services.yaml",
    )
    .expect_err("rejected")
    .0
    .iter()
    .map(ToString::to_string)
    .collect();
    assert!(
        errs[0].contains("exit code 1 is listed as both transient and persistent"),
        "{errs:?}"
    );
}

#[test]
fn a_step_name_names_files_and_must_be_safe() {
    let errs: Vec<String> = super::parse::parse(
        "services:\n  a: { command: a }\njobs:\n  j:\n    steps: [{ name: \"../x\", command: s }]\n",
        "services.yaml",
    )
    .expect_err("rejected")
    .0
    .iter()
    .map(ToString::to_string)
    .collect();
    assert!(errs[0].contains("invalid step name `../x`"), "{errs:?}");
}

#[test]
fn a_cycle_through_a_job_is_printed_as_a_path_and_a_job_is_never_waited_for_as_started() {
    let cycle = r#"services:
  registry: { command: registry, depends_on: [cache] }
  cache: { command: cache, depends_on: { image: { condition: completed } } }
jobs:
  image:
    depends_on: [registry]
    steps:
      - { name: base, command: make }
"#;
    assert_eq!(
        errors(cycle),
        ["services.yaml:6:18: dependency cycle: job image → registry → cache → job image"]
    );
    let started = "services:\n  web: { command: web, depends_on: { image: { condition: started } } }\njobs:\n  image:\n    steps:\n      - { name: base, command: make }\n";
    assert_eq!(
        errors(started),
        [
            "services.yaml:2:38: service `web` depends on job `image` with condition `started`\n  help: a job is waited for until it has completed: `condition: completed`"
        ]
    );
}

#[test]
fn logs_rotation_is_set_in_settings_and_per_service_key_by_key() {
    let c = parse(
        "settings:\n  logs: { max_size: 1G, keep: 5 }\nservices:\n  a: { command: a }\n  b: { command: b, logs: { keep: 0 } }\n  c: { command: c, logs: { max_size: 500k } }\njobs:\n  j:\n    logs: { max_size: 10MiB }\n    steps:\n      - { name: s, command: s }\n",
        "services.yaml",
    )
    .unwrap();
    let logs: Vec<(u64, u32)> = c
        .services
        .iter()
        .map(|s| (s.logs.max_size, s.logs.keep))
        .collect();
    assert_eq!(logs, [(1 << 30, 5), (1 << 30, 0), (500 << 10, 5)]);
    assert_eq!(
        (c.jobs[0].logs.max_size, c.jobs[0].logs.keep),
        (10 << 20, 5)
    );
    let defaults = parse("services:\n  a: { command: a }\n", "services.yaml").unwrap();
    assert_eq!(
        defaults.services[0].logs,
        crate::config::LogRotation::default()
    );
}

#[test]
fn logs_mistakes_are_reported_where_they_are_written() {
    let got = errors(
        "services:\n  a:\n    command: a\n    logs: { max_size: 10 parsecs, keep: -1 }\n  b:\n    command: b\n    logs: { max_size: 0, kep: 2 }\n",
    );
    assert_eq!(
        got,
        [
            "services.yaml:4:23: `logs.max_size`: unknown size unit `parsecs` in `10 parsecs` (write it as 4096, 500k, 10MiB or 1G)",
            "services.yaml:4:41: `logs.keep` must be a whole number of files (0 never rotates)",
            "services.yaml:7:23: `logs.max_size` must be greater than zero (`keep: 0` never rotates)",
            "services.yaml:7:26: unknown key `kep` in `logs`\n  help: did you mean `keep`?",
        ],
        "{got:#?}"
    );
}

#[test]
fn attach_names_how_an_instance_started_elsewhere_is_recognised() {
    let c = parse(
        "services:\n  db:\n    command: postgres\n    attach: { process_name: postgres, pidfile: run/pg.pid, port: 5432 }\n",
        "services.yaml",
    )
    .unwrap();
    let attach = c.services[0].attach.clone().unwrap();
    assert_eq!(attach.process_name.as_deref(), Some("postgres"));
    assert_eq!(
        attach.pidfile.map(|(p, _)| p),
        Some(std::path::PathBuf::from("run/pg.pid"))
    );
    assert_eq!(attach.port, Some(5432));
    let errs = errors(
        "services:
  a:
    command: x
    attach: {}
  b:
    command: y
    attach: { port: 70000 }
  c:
    command: z
    attach: { proces_name: z }
",
    );
    let want = [
        "services.yaml:4:13: `attach` needs `process_name`, `pidfile` or `port`",
        "services.yaml:7:21: `attach.port` must be a port number from 1 to 65535, not `70000`",
        "services.yaml:10:15: unknown key `proces_name` in `attach`\n  help: did you mean `process_name`?",
    ];
    assert_eq!(errs.len(), want.len(), "{errs:#?}");
    for (got, want) in errs.iter().zip(want) {
        assert!(got.starts_with(want), "want: {want}\ngot:  {got}");
    }
}
