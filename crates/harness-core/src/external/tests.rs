use super::*;
use crate::config::parse;

fn service(yaml_body: &str) -> Service {
    let yaml = format!("services:\n  db:\n    command: postgres\n{yaml_body}");
    parse(&yaml, "services.yaml").unwrap().services.remove(0)
}

fn proc(pid: u32, ppid: u32, start: u64, name: &str, argv0: &str) -> ProcessFacts {
    ProcessFacts {
        pid,
        ppid,
        start_time: start,
        uid: 1000,
        name: name.into(),
        argv: vec![argv0.into(), "-D".into(), "/data".into()],
    }
}

fn listening(port: u16, owner: Option<u32>) -> Listening {
    Listening {
        addr: format!("127.0.0.1:{port}").parse().unwrap(),
        uid: 115,
        owner,
    }
}

#[test]
fn a_service_is_known_by_its_local_ports_only() {
    let svc = service(
        "    health_check: { tcp: \"localhost:5432\" }\n    startup: { http: \"http://[::1]:8080/ready\" }\n    attach: { port: 6432 }\n",
    );
    assert_eq!(ports_of(&svc), [5432, 6432, 8080]);
    let remote = service("    health_check: { tcp: \"db.example.com:5432\" }\n");
    assert!(
        ports_of(&remote).is_empty(),
        "another host says nothing of this one"
    );
    let url = service("    health_check: { http: \"http://0.0.0.0/\" }\n");
    assert_eq!(ports_of(&url), [80]);
}

#[test]
fn what_listens_on_its_port_is_the_external_instance_with_its_process() {
    let svc = service("    health_check: { tcp: \"127.0.0.1:5432\" }\n");
    let seen = Sightings {
        listening: vec![listening(5432, Some(1234)), listening(9999, Some(77))],
        processes: vec![proc(1234, 1, 500, "postgres", "/usr/bin/postgres")],
        ..Default::default()
    };
    let found = find(&svc, &seen).unwrap();
    assert_eq!(found.pid(), Some(1234));
    assert_eq!(found.evidence, Evidence::Port(5432));
    assert_eq!(found.ports, [5432]);
    assert_eq!(found.process.unwrap().start_time, 500);
}

#[test]
fn a_port_whose_process_cannot_be_read_is_external_without_a_pid() {
    let svc = service("    health_check: { tcp: \"127.0.0.1:5432\" }\n");
    let seen = Sightings {
        listening: vec![listening(5432, None)],
        ..Default::default()
    };
    let found = find(&svc, &seen).unwrap();
    assert_eq!(found.pid(), None);
    assert_eq!(found.uid, Some(115), "its owner is known from the socket");
    assert_eq!(found.ports, [5432]);
}

#[test]
fn harness_own_processes_and_pid_1_are_never_external() {
    let svc = service(
        "    health_check: { tcp: \"127.0.0.1:5432\" }\n    attach: { process_name: postgres }\n",
    );
    // The daemon holding a `socket:` for the service, a managed run.
    let seen = Sightings {
        listening: vec![listening(5432, Some(40))],
        processes: vec![
            proc(40, 1, 10, "harness", "harness"),
            proc(41, 40, 11, "postgres", "postgres"),
            proc(1, 0, 0, "postgres", "postgres"),
        ],
        ours: [40, 41].into_iter().collect(),
        ..Default::default()
    };
    assert_eq!(find(&svc, &seen), None);
}

#[test]
fn by_name_the_top_process_is_the_instance_not_its_children() {
    let svc = service("    attach: { process_name: postgres }\n");
    let seen = Sightings {
        processes: vec![
            proc(300, 200, 900, "postgres", "postgres: checkpointer"),
            proc(
                200,
                1,
                800,
                "postgres",
                "/usr/lib/postgresql/16/bin/postgres",
            ),
            proc(301, 200, 901, "postgres", "postgres: walwriter"),
            proc(50, 1, 10, "bash", "/bin/bash"),
        ],
        ..Default::default()
    };
    let found = find(&svc, &seen).unwrap();
    assert_eq!(found.pid(), Some(200));
    assert_eq!(found.evidence, Evidence::ProcessName("postgres".into()));
    // A long name is matched against the kernel's 15 bytes of it.
    let long = service("    attach: { process_name: very-long-daemon-name }\n");
    let seen = Sightings {
        processes: vec![proc(9, 1, 1, "very-long-daemo", "/opt/x/run")],
        ..Default::default()
    };
    assert_eq!(find(&long, &seen).unwrap().pid(), Some(9));
}

#[test]
fn a_pidfile_names_the_instance_first_when_its_process_is_alive() {
    let svc = service(
        "    attach: { pidfile: run/pg.pid, process_name: postgres }\n    health_check: { tcp: \"127.0.0.1:5432\" }\n",
    );
    let mut seen = Sightings {
        listening: vec![listening(5432, Some(700))],
        processes: vec![
            proc(700, 1, 70, "postgres", "postgres"),
            proc(600, 1, 60, "postgres", "postgres"),
        ],
        pidfiles: vec![(PathBuf::from("run/pg.pid"), 700)],
        ..Default::default()
    };
    let found = find(&svc, &seen).unwrap();
    assert_eq!(found.pid(), Some(700));
    assert_eq!(found.evidence, Evidence::Pidfile("run/pg.pid".into()));
    assert_eq!(found.ports, [5432]);
    // A stale pidfile (its process gone): the name is looked for next.
    seen.pidfiles = vec![(PathBuf::from("run/pg.pid"), 4242)];
    assert_eq!(find(&svc, &seen).unwrap().pid(), Some(600));
}

#[test]
fn nothing_seen_is_nothing_external() {
    let svc = service("    health_check: { tcp: \"127.0.0.1:5432\" }\n");
    assert_eq!(find(&svc, &Sightings::default()), None);
    let no_ports = service("");
    let seen = Sightings {
        listening: vec![listening(5432, Some(1))],
        ..Default::default()
    };
    assert_eq!(find(&no_ports, &seen), None);
}

#[test]
fn a_socket_harness_holds_does_not_hide_one_outside_on_another_port() {
    let svc = service(
        "    socket: { tcp: \"127.0.0.1:8080\" }\n    health_check: { tcp: \"127.0.0.1:9090\" }\n",
    );
    let seen = Sightings {
        listening: vec![listening(8080, Some(40)), listening(9090, Some(900))],
        processes: vec![
            proc(40, 1, 10, "harness", "harness"),
            proc(900, 1, 90, "api", "./api"),
        ],
        ours: [40].into_iter().collect(),
        ..Default::default()
    };
    let found = find(&svc, &seen).unwrap();
    assert_eq!(found.pid(), Some(900));
    assert_eq!(found.evidence, Evidence::Port(9090));
}

#[test]
fn init_harness_and_other_users_processes_are_never_touched() {
    let me = 1000;
    let refusal = |p: ProcessFacts, uid: u32| untouchable(&p, uid);
    assert!(refusal(proc(1, 0, 1, "systemd", "/sbin/init"), 0).is_some_and(|r| r.contains("init")));
    for name in ["harness", "harness-shim"] {
        let why = refusal(proc(40, 1, 5, name, name), me).unwrap();
        assert!(why.contains("harness's own"), "{why}");
    }
    let theirs = ProcessFacts {
        uid: 115,
        ..proc(41, 1, 5, "postgres", "/usr/bin/postgres")
    };
    let why = refusal(theirs.clone(), me).unwrap();
    assert!(why.contains("another user (uid 115)"), "{why}");
    assert_eq!(refusal(theirs, 0), None, "root may");
    assert_eq!(refusal(proc(42, 1, 5, "postgres", "postgres"), me), None);
}
