//! The state folder is the user's alone: with an umask that leaves files
//! readable by everyone, every folder under `.harness/` is 0700 and every
//! file 0600 (logs, rotated logs and their indexes, the database and its
//! WAL, exit files, notify sockets, a job's logs, the daemon's own log);
//! a folder an earlier harness left open is repaired; and another user can
//! read nothing and connect to nothing.

mod common;
use common::*;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The user the second-user checks run as; `.ci/run` creates it.
const OTHER: &str = "harness-other";

/// Every path under `root` with its mode.
fn modes(root: &Path) -> Vec<(PathBuf, u32)> {
    let mut out = Vec::new();
    let mut todo = vec![root.to_path_buf()];
    while let Some(p) = todo.pop() {
        let meta = std::fs::symlink_metadata(&p).unwrap();
        out.push((p.clone(), meta.permissions().mode() & 0o777));
        if meta.is_dir() {
            todo.extend(std::fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()));
        }
    }
    out.sort();
    out
}

fn open_to_others(root: &Path) -> Vec<(PathBuf, u32)> {
    modes(root)
        .into_iter()
        .filter(|(_, m)| m & 0o077 != 0)
        .collect()
}

#[test]
fn everything_under_the_state_folder_is_private_whatever_the_umask() {
    // SAFETY: this test binary's only test that changes the umask; the
    // CLI and the daemon it starts inherit it.
    unsafe { libc::umask(0o022) };
    let s = Stack::new(&format!(
        r#"services:
  api:
    command: "for i in 1 2 3; do seq 1 1000; sleep 0.05; done; echo end; exec sleep 1000"
    logs: {{ max_size: 4k, keep: 2 }}
  note:
    command: [{hk}, "notify", "10"]
    ready: notify
jobs:
  build:
    steps:
      - {{ name: compile, command: "echo compiled" }}
"#,
        hk = sh_quote(hk())
    ));
    let r = s.harness(&["start", "--all"]);
    assert_eq!(r.code, 0, "{}", r.all());
    s.status();
    assert!(wait_for(10, || s.log("api").ends_with("end\n")));
    let r = s.harness(&["run", "build"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let state = s.path().join(".harness");
    for made in [
        "state.db",
        "state.db-wal",
        "daemon.log",
        "harness.sock",
        "logs/api.log.1",
        "logs/api.log.1.idx",
    ] {
        assert!(state.join(made).exists(), "{made} was made");
    }
    assert!(
        std::fs::read_dir(state.join("run")).unwrap().any(|e| e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .ends_with(".notify")),
        "a notify socket"
    );
    assert_eq!(open_to_others(&state), []);
    assert_eq!(modes(&state)[0], (state.clone(), 0o700));

    // Another user, with the project folder itself open to it, gets in
    // nowhere. Needs root and the user; `.ci/run` makes both so.
    let root = unsafe { libc::geteuid() } == 0;
    let other = Command::new("id")
        .arg(OTHER)
        .output()
        .is_ok_and(|o| o.status.success());
    if !(root && other) {
        eprintln!("the second-user checks need root and a user `{OTHER}`: not run here");
        return;
    }
    std::fs::set_permissions(s.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let as_other = |args: &[&str]| {
        Command::new("setpriv")
            .args([
                &format!("--reuid={OTHER}"),
                &format!("--regid={OTHER}"),
                "--clear-groups",
                "--",
            ])
            .args(args)
            .output()
            .unwrap()
    };
    assert!(
        as_other(&["cat", &s.path().join("services.yaml").display().to_string()])
            .status
            .success(),
        "the project folder itself is open to it"
    );
    for (path, _) in modes(&state) {
        let path = path.display().to_string();
        let r = as_other(&["cat", &path]);
        assert!(!r.status.success(), "{OTHER} read {path}");
        let r = as_other(&["ls", &path]);
        assert!(!r.status.success(), "{OTHER} listed {path}");
    }
    let sock = state.join("harness.sock").display().to_string();
    let connect = format!(
        "import socket; s = socket.socket(socket.AF_UNIX); s.connect({sock:?}); print('connected')"
    );
    let r = as_other(&["python3", "-c", &connect]);
    assert!(
        !r.status.success(),
        "{OTHER} connected to the daemon: {}",
        String::from_utf8_lossy(&r.stdout)
    );
}

#[test]
fn a_state_folder_left_open_is_made_private_and_the_daemon_says_so() {
    let s = Stack::new("services:\n  api: { command: sleep 1000 }\n");
    let state = s.path().join(".harness");
    std::fs::create_dir_all(state.join("logs")).unwrap();
    std::fs::write(state.join("logs/api.log"), "from before\n").unwrap();
    for (p, mode) in [(&state, 0o755), (&state.join("logs"), 0o755)] {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
    }
    std::fs::set_permissions(
        state.join("logs/api.log"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    assert_eq!(s.harness(&["start", "api"]).code, 0);
    s.status();
    assert_eq!(open_to_others(&state), []);
    let log = std::fs::read_to_string(state.join("daemon.log")).unwrap();
    assert!(
        log.contains("made the state folder private") && log.contains("count=3"),
        "{log}"
    );
    assert_eq!(
        s.harness(&["logs", "api"]).stdout,
        "from before\n",
        "nothing lost"
    );
}
