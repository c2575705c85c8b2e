//! What a run runs, as a print that can be stored and compared: one short
//! hash per part of the definition (the command, the working folder, each
//! environment variable, the `env_file` path, the stop signal). Comparing
//! the print a run was spawned with to the one its service's definition
//! gives now says *what* changed ("command changed", "env PGPORT changed")
//! without holding or showing a value: an environment holds secrets. Probe,
//! restart and timing keys are not part of it: they change how harness
//! watches a run, not what runs.
//!
//! Parts the file does not hold — the `env_file`'s contents, `version:`
//! files and command output — are hashed by the runtime when it loads the
//! file (`Service::observed`) and join the print under their names. A
//! running print without such a part (spawned before harness looked) is
//! not known to differ, so it is not said to.

use super::spec::RunSpec;
use crate::config::{Command, StopSignal};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// One hash per part of a run's definition.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Definition {
    parts: BTreeMap<String, String>,
}

impl Definition {
    /// The print of what `spec` runs.
    pub fn of(spec: &RunSpec) -> Definition {
        let mut parts = BTreeMap::new();
        parts.insert("command".to_string(), command_print(&spec.command));
        if let Some(dir) = &spec.working_dir {
            parts.insert("working_dir".into(), hash(&dir.to_string_lossy()));
        }
        for (name, value) in &spec.env {
            parts.insert(format!("env {name}"), hash(value));
        }
        if let Some(file) = &spec.env_file {
            parts.insert("env_file".into(), hash(&file.to_string_lossy()));
        }
        parts.insert("stop_signal".into(), hash(spec.stop_signal.name()));
        if let Some(addr) = spec.socket {
            parts.insert("socket".into(), hash(&addr.to_string()));
        }
        for (part, h) in &spec.observed {
            parts.insert(part.clone(), h.clone());
        }
        Definition { parts }
    }

    /// Whether the run was handed a listening socket (`socket:`).
    pub fn has_socket(&self) -> bool {
        self.parts.contains_key("socket")
    }

    /// What changed from `self` (what runs) to `now` (what the file says),
    /// in a stable order: "command changed", "env PGPORT added".
    pub fn changes(&self, now: &Definition) -> Vec<String> {
        let mut out = Vec::new();
        for (part, h) in &now.parts {
            match self.parts.get(part) {
                None if OBSERVED.contains(&part.as_str()) => {}
                None => out.push(format!("{part} added")),
                Some(old) if old != h => out.push(format!("{part} changed")),
                Some(_) => {}
            }
        }
        for part in self.parts.keys().filter(|p| !now.parts.contains_key(*p)) {
            out.push(format!("{part} removed"));
        }
        out
    }

    /// The stop signal the run was spawned with, when the print has it.
    pub fn stop_signal(&self) -> Option<StopSignal> {
        let h = self.parts.get("stop_signal")?;
        StopSignal::ALL
            .iter()
            .map(|(s, _)| *s)
            .find(|s| hash(s.name()) == *h)
    }

    /// The version this print names: six hex digits of a hash of the
    /// whole print, as deploys and their history rows show it
    /// (`deployed 8b1e44, was 3f2a9c`).
    pub fn version(&self) -> String {
        hash(&self.to_text()).chars().take(6).collect()
    }

    /// The print as stored: one `part=hash` line each.
    pub fn to_text(&self) -> String {
        self.parts
            .iter()
            .map(|(p, h)| format!("{p}={h}\n"))
            .collect()
    }

    /// A stored print; `None` if the text is not one.
    pub fn from_text(text: &str) -> Option<Definition> {
        let mut parts = BTreeMap::new();
        for line in text.lines() {
            let (p, h) = line.rsplit_once('=')?;
            parts.insert(p.to_string(), h.to_string());
        }
        parts
            .contains_key("command")
            .then_some(Definition { parts })
    }
}

/// The parts the runtime observes outside the file.
pub const OBSERVED: [&str; 3] = ["env_file contents", "version files", "version command"];

/// The print of bytes the runtime read (an `env_file`, a version file, a
/// version command's output): as a part's hash is made.
pub fn fingerprint(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest.iter().take(6).map(|b| format!("{b:02x}")).collect()
}

/// The `command` part of a print: a shell line and an argv that read alike
/// are different commands. Shared by a service's print and a job step's.
pub fn command_print(c: &Command) -> String {
    let text = match c {
        Command::Shell(s) => format!("sh\0{s}"),
        Command::Argv(a) => format!("argv\0{}", a.join("\0")),
    };
    hash(&text)
}

/// The first 12 hex digits of a SHA-256: enough to tell two values apart.
/// Not meant to hide a value (a short value can be found from its hash,
/// and the values sit in the config beside the state folder anyway): the
/// point is that prints are stored and shown without the values.
fn hash(value: &str) -> String {
    fingerprint(value.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse;

    fn spec(yaml_service: &str) -> RunSpec {
        let config = parse(&format!("services:\n  api:\n{yaml_service}"), "s.yaml").unwrap();
        RunSpec::of(&config.services[0])
    }

    #[test]
    fn says_what_changed_and_never_a_value() {
        let old = Definition::of(&spec(
            "    command: ./api --port 8080\n    env: { PGPORT: \"5432\", MODE: dev }\n",
        ));
        let new = Definition::of(&spec(
            "    command: ./api --port 9090\n    env: { PGPORT: \"5433\", LOG: debug }\n    working_dir: srv\n",
        ));
        assert_eq!(
            old.changes(&new),
            [
                "command changed",
                "env LOG added",
                "env PGPORT changed",
                "working_dir added",
                "env MODE removed"
            ]
        );
        let text = old.to_text();
        assert!(!text.contains("5432") && !text.contains("8080"), "{text}");
        assert_eq!(Definition::from_text(&text), Some(old.clone()));
        assert!(old.changes(&old).is_empty());
    }

    #[test]
    fn observed_parts_join_the_print_and_an_unknown_one_is_not_a_change() {
        let mut before = spec("    command: ./api\n    env_file: .env\n");
        let plain = Definition::of(&before);
        before
            .observed
            .insert("env_file contents".into(), fingerprint(b"A=1\n"));
        let seen = Definition::of(&before);
        // A run spawned before harness looked at the file: not known to differ.
        assert!(plain.changes(&seen).is_empty());
        let mut after = before.clone();
        after
            .observed
            .insert("env_file contents".into(), fingerprint(b"A=2\n"));
        assert_eq!(
            seen.changes(&Definition::of(&after)),
            ["env_file contents changed"]
        );
    }

    #[test]
    fn probe_and_timing_keys_are_not_part_of_it() {
        let a = Definition::of(&spec("    command: ./api\n"));
        let b = Definition::of(&spec(
            "    command: ./api\n    health_check: { tcp: \"127.0.0.1:1\" }\n    startup_timeout: 9\n",
        ));
        assert!(a.changes(&b).is_empty());
        assert_eq!(Definition::from_text("not a print"), None);
    }
}
