//! The project in a temporary folder and the `harness` runs made in it.

use super::*;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

/// How long one `harness` command may take by default. Generous: the
/// slowest commands in these tests wait a few seconds for a health check;
/// this is for a command that would otherwise never return.
pub const HARNESS_TIMEOUT: Duration = Duration::from_secs(60);

/// db ← api ← worker, and cache on its own. api fails until a file `ok`
/// exists in the project folder.
pub const FLAKY_API: &str = r#"
services:
  db:
    command: sleep 1000
  api:
    command: test -f ok || { echo api is broken >&2; exit 1; }; exec sleep 1000
    depends_on: [db]
  worker:
    command: sleep 1000
    depends_on: [api]
  cache:
    command: sleep 1000
"#;

/// Creates the file that makes [`FLAKY_API`]'s api come up.
pub fn fix_api(s: &Stack) {
    std::fs::write(s.path().join("ok"), "").unwrap();
}

pub struct Stack {
    pub dir: tempfile::TempDir,
    /// How long each `harness` command of [`Stack::harness`] may run before
    /// its process group is killed and the test fails;
    /// [`HARNESS_TIMEOUT`] unless a test that legitimately waits longer
    /// raises it.
    pub harness_timeout: Duration,
    seen_pids: std::cell::RefCell<Vec<u32>>,
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn from(o: Output) -> Run {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
    pub fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

impl Stack {
    pub fn new(yaml: &str) -> Stack {
        let dir = tempfile::Builder::new()
            .prefix("harness-test-")
            .tempdir()
            .unwrap();
        std::fs::write(dir.path().join("services.yaml"), yaml).unwrap();
        Stack {
            dir,
            harness_timeout: HARNESS_TIMEOUT,
            seen_pids: Default::default(),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `harness ARGS` in the project folder, not started yet: for a test
    /// that runs it in the [`Background`] or on a terminal.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_harness"));
        cmd.args(args)
            .current_dir(self.path())
            .env_remove("HARNESS_FILE");
        cmd
    }

    /// Runs `harness ARGS` to the end, within [`Stack::harness_timeout`].
    pub fn harness(&self, args: &[&str]) -> Run {
        self.harness_within(args, self.harness_timeout)
    }

    /// Runs `harness ARGS` to the end; past `limit` its process group is
    /// killed and the test fails with what it had printed.
    pub fn harness_within(&self, args: &[&str], limit: Duration) -> Run {
        Run::from(run_within(&mut self.command(args), limit))
    }

    /// `status --json`. Its exit code must say what it shows: 3 when a
    /// service shown has failed or is blocked, 0 otherwise.
    pub fn status(&self) -> serde_json::Value {
        let r = self.harness(&["status", "--json"]);
        let v: serde_json::Value =
            serde_json::from_str(&r.stdout).unwrap_or_else(|_| panic!("status json: {}", r.all()));
        let failed = v["services"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["health"] == "failed" || s["health"] == "blocked");
        assert_eq!(r.code, if failed { 3 } else { 0 }, "status: {}", r.all());
        for s in v["services"].as_array().unwrap() {
            if let Some(pid) = s["pid"].as_u64() {
                self.seen_pids.borrow_mut().push(pid as u32);
            }
        }
        v
    }

    pub fn service(&self, name: &str) -> serde_json::Value {
        self.status()["services"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == name)
            .cloned()
            .expect("service in status")
    }

    /// The pids of `names`, in that order.
    pub fn pids(&self, names: &[&str]) -> Vec<Option<u32>> {
        names.iter().map(|n| self.pid(n)).collect()
    }

    pub fn pid(&self, name: &str) -> Option<u32> {
        self.service(name)["pid"].as_u64().map(|p| p as u32)
    }

    pub fn history(&self) -> Vec<serde_json::Value> {
        let r = self.harness(&["status", "--history", "--json"]);
        assert_eq!(r.code, 0, "{}", r.all());
        serde_json::from_str(&r.stdout).unwrap()
    }

    pub fn daemon_pid(&self) -> Option<u32> {
        std::fs::read_to_string(self.path().join(".harness/daemon.lock"))
            .ok()?
            .trim()
            .parse()
            .ok()
    }

    /// Kills the daemon with SIGKILL, as a crash would, and waits until it
    /// is gone; the services it ran keep running under their shims.
    pub fn kill_daemon(&self) {
        let daemon = self.daemon_pid().expect("a daemon runs");
        kill(daemon, libc::SIGKILL);
        assert!(
            wait_for(5, || !alive(daemon)),
            "the daemon outlived SIGKILL"
        );
    }

    /// A connection to the daemon's socket that gives up on an answer
    /// after [`Stack::harness_timeout`] instead of waiting forever.
    pub fn socket(&self) -> UnixStream {
        let sock = self.path().join(".harness/harness.sock");
        let u = UnixStream::connect(&sock)
            .unwrap_or_else(|e| panic!("cannot connect to {}: {e}", sock.display()));
        u.set_read_timeout(Some(self.harness_timeout)).unwrap();
        u.set_write_timeout(Some(self.harness_timeout)).unwrap();
        u
    }

    pub fn log(&self, name: &str) -> String {
        std::fs::read_to_string(self.path().join(format!(".harness/logs/{name}.log")))
            .unwrap_or_default()
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        // No panics here: this also runs while a failed test unwinds, and a
        // command past its deadline has had its group killed already.
        let _ = try_run(&mut self.command(&["stop", "--all"]), self.harness_timeout);
        let daemon = self.daemon_pid();
        let _ = try_run(&mut self.command(&["daemon", "stop"]), self.harness_timeout);
        if let Some(pid) = daemon {
            kill(pid, libc::SIGKILL);
        }
        for pid in self.seen_pids.borrow().iter() {
            // SAFETY: SIGKILL to a process group this test started.
            unsafe { libc::kill(-(*pid as i32), libc::SIGKILL) };
        }
        // And every run the state still records (a test that failed while
        // a deploy kept the daemon busy, before status showed its pids):
        // each only if it is still the process recorded.
        let db = self.path().join(".harness/state.db");
        if let Ok(store) = harness_store::Store::open_read_only(&db) {
            for r in store.runs().unwrap_or_default() {
                if harness_store::same_process(r.pid, r.pid_start) {
                    // SAFETY: SIGKILL to a process group this test started.
                    unsafe { libc::kill(-(r.pid as i32), libc::SIGKILL) };
                }
                if harness_store::same_process(r.shim_pid, r.shim_start) {
                    kill(r.shim_pid, libc::SIGKILL);
                }
            }
        }
    }
}
