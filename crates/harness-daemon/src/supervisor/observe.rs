//! What a service's definition names outside the file, hashed: its
//! `env_file`'s contents and its `version:` files and command output. A
//! rebuilt binary or an edited `.env` is a new version even though the
//! file reads the same; the engine compares these hashes like the rest of
//! a definition's print (`Service::observed`), never the values.

use harness_core::config::Config;
use harness_core::engine::fingerprint;
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;
use wait_timeout::ChildExt;

/// How long a `version.command` may take. It runs while the daemon plans
/// (nothing else is handled meanwhile), so it must be quick: `git
/// rev-parse HEAD`, `sha256sum bin/api`.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(10);

/// A `version.command` that could not say a version: which service, why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionCommandFailed {
    pub service: String,
    pub why: String,
}

impl std::fmt::Display for VersionCommandFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "version.command of service `{}` failed: {}",
            self.service, self.why
        )
    }
}

/// Fills in `observed` of every service of `config`, whose relative paths
/// are under `root`. A file that cannot be read hashes as missing (the
/// spawn says what is wrong with an `env_file`); a version command that
/// fails is returned, after the others were observed.
pub(super) fn observe(root: &Path, config: &mut Config) -> Vec<VersionCommandFailed> {
    let mut failed = Vec::new();
    for svc in &mut config.services {
        svc.observed.clear();
        if let Some((file, _)) = &svc.env_file {
            svc.observed
                .insert("env_file contents".into(), file_print(&root.join(file)));
        }
        if !svc.version.files.is_empty() {
            let prints: String = svc
                .version
                .files
                .iter()
                .map(|f| file_print(&root.join(f)) + "\n")
                .collect();
            svc.observed
                .insert("version files".into(), fingerprint(prints.as_bytes()));
        }
        if let Some(cmd) = &svc.version.command {
            match command_output(root, cmd) {
                Ok(out) => {
                    svc.observed
                        .insert("version command".into(), fingerprint(&out));
                }
                Err(why) => failed.push(VersionCommandFailed {
                    service: svc.name.clone(),
                    why,
                }),
            }
        }
    }
    failed
}

/// The files whose change makes a new version: a request that finds them
/// as they were costs a `stat` each, not a read.
pub(super) fn watched_files(root: &Path, config: &Config) -> Vec<PathBuf> {
    config
        .services
        .iter()
        .flat_map(|s| {
            let env = s.env_file.iter().map(|(f, _)| f);
            env.chain(&s.version.files).map(|f| root.join(f))
        })
        .collect()
}

/// Whether any service has a version command (run again on every plan:
/// only it can say that a binary was rebuilt).
pub(super) fn has_commands(config: &Config) -> bool {
    config.services.iter().any(|s| s.version.command.is_some())
}

fn file_print(path: &Path) -> String {
    match std::fs::read(path) {
        Ok(bytes) => fingerprint(&bytes),
        Err(_) => "missing".to_string(),
    }
}

/// The command's standard output, if it exits 0 within the timeout.
fn command_output(root: &Path, cmd: &str) -> Result<Vec<u8>, String> {
    let mut child = Command::new("sh");
    // SAFETY: `restore` is async-signal-safe.
    unsafe { child.pre_exec(crate::fd_limit::restore) };
    let mut child = child
        .arg("-c")
        .arg(cmd)
        .current_dir(root)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .map_err(|e| format!("could not run it: {e}"))?;
    let mut stdout = child.stdout.take().expect("piped");
    // Read on a thread: a command whose output fills the pipe would
    // otherwise never exit while we wait for it.
    let reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        let _ = stdout.read_to_end(&mut out);
        out
    });
    let status = match child.wait_timeout(COMMAND_TIMEOUT) {
        Ok(Some(status)) => status,
        Ok(None) => {
            // Its whole group: a shell's children would hold the pipe open.
            unsafe { libc::kill(-(child.id() as i32), libc::SIGKILL) };
            let _ = child.wait();
            return Err(format!(
                "did not finish within {}s",
                COMMAND_TIMEOUT.as_secs()
            ));
        }
        Err(e) => return Err(e.to_string()),
    };
    // What it left behind in its group (`cmd &`) would hold the pipe open
    // and the read would never end: a version command leaves nothing.
    unsafe { libc::kill(-(child.id() as i32), libc::SIGKILL) };
    let out = reader.join().unwrap_or_default();
    match status.code() {
        Some(0) => Ok(out),
        Some(c) => Err(format!("exit code {c}")),
        None => Err("killed by a signal".into()),
    }
}

/// The file parsed and observed, every `version.command` run: what a
/// deploy acts on. Made off the supervisor's loop (a version command may
/// take seconds; supervision must not wait for it) and handed to it.
pub struct Observed {
    pub(super) config: Config,
    pub(super) failed: Vec<VersionCommandFailed>,
}

/// Reads and observes the project's file; blocking, for a blocking task.
pub fn load_observed(project: &harness_store::Project) -> Result<Observed, harness_api::ApiError> {
    let mut config = project.load().map_err(|e| {
        harness_api::ApiError::new(harness_api::ApiErrorKind::Config, e.to_string())
    })?;
    let failed = observe(&project.root, &mut config);
    Ok(Observed { config, failed })
}

#[cfg(test)]
mod tests {
    use super::*;
    use harness_core::config::parse;

    #[test]
    fn a_rebuilt_file_or_new_output_is_a_new_print_and_a_failure_is_named() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("bin"), "v1").unwrap();
        std::fs::write(dir.path().join(".env"), "A=1\n").unwrap();
        let yaml = "services:\n  api:\n    command: ./bin\n    env_file: .env\n    version: { files: [bin], command: cat bin }\n  bad:\n    command: x\n    version: { command: exit 3 }\n  bg:\n    command: x\n    version: { command: sleep 30 & echo v1 }\n";
        let mut config = parse(yaml, "s.yaml").unwrap();
        let t = std::time::Instant::now();
        let failed = observe(dir.path(), &mut config);
        // A command that leaves a child holding its output does not hang.
        assert!(t.elapsed() < std::time::Duration::from_secs(5));
        assert_eq!(
            failed,
            [VersionCommandFailed {
                service: "bad".into(),
                why: "exit code 3".into()
            }]
        );
        let first = config.services[0].observed.clone();
        assert_eq!(
            first.keys().collect::<Vec<_>>(),
            ["env_file contents", "version command", "version files"]
        );
        std::fs::write(dir.path().join("bin"), "v2").unwrap();
        observe(dir.path(), &mut config);
        let second = &config.services[0].observed;
        assert_eq!(first["env_file contents"], second["env_file contents"]);
        assert_ne!(first["version files"], second["version files"]);
        assert_ne!(first["version command"], second["version command"]);
        assert_eq!(watched_files(dir.path(), &config).len(), 2);
    }
}
