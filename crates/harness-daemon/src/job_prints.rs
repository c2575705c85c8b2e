//! A job step's print as it is now — what `harness_core::job::resume`
//! compares with the print it completed with — and its declared outputs'
//! hashes. One hash per part, never a value: the command, the working
//! folder, each environment variable, the `env_file` path and contents,
//! each input's contents.

use crate::file_hashes::FileHashes;
use harness_core::config::Step;
use harness_core::engine::{command_print, fingerprint};
use harness_core::job::resume::{StepNow, StepPrint};
use std::path::Path;

/// Step `step` as it is now, its relative paths under `root`. A missing
/// input is a part of its own (`missing`), so that one appearing later is
/// a change too.
pub fn step_now(root: &Path, step: &Step, hashes: &mut FileHashes) -> StepNow {
    let mut parts = std::collections::BTreeMap::new();
    parts.insert("command".to_string(), command_print(&step.command));
    if let Some((dir, _)) = &step.working_dir {
        let dir = dir.to_string_lossy();
        parts.insert("working_dir".into(), fingerprint(dir.as_bytes()));
    }
    for (name, value) in &step.env {
        parts.insert(format!("env {name}"), fingerprint(value.as_bytes()));
    }
    if let Some((file, _)) = &step.env_file {
        let path = file.to_string_lossy();
        parts.insert("env_file".into(), fingerprint(path.as_bytes()));
        let contents = hashes.hash(&root.join(file));
        parts.insert(
            "env_file contents".into(),
            contents.unwrap_or_else(|| "missing".into()),
        );
    }
    for input in &step.inputs {
        let hash = hashes.hash(&root.join(input));
        parts.insert(
            format!("input {}", input.display()),
            hash.unwrap_or_else(|| "missing".into()),
        );
    }
    let outputs = step
        .outputs
        .iter()
        .map(|o| (o.display().to_string(), hashes.hash(&root.join(o))))
        .collect();
    StepNow {
        name: step.name.clone(),
        print: StepPrint { parts },
        outputs,
    }
}

#[cfg(test)]
mod tests {
    use super::step_now;
    use crate::file_hashes::FileHashes;
    use harness_core::config::{Command, Location, Step};
    use harness_core::job::resume::{Completed, StartAt, plan};

    fn step(env: &str) -> Step {
        Step {
            name: "base".into(),
            location: Location::default(),
            command: Command::Shell("./base.sh".into()),
            working_dir: None,
            env: vec![("MIRROR".into(), env.into())],
            env_file: None,
            timeout: None,
            inputs: vec!["versions.lock".into()],
            outputs: vec!["cache/base.iso".into()],
            idempotent: true,
            retry: Default::default(),
            classify: Default::default(),
        }
    }

    #[test]
    fn what_a_step_reads_and_makes_decides_whether_a_later_run_skips_it() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(root.join("versions.lock"), "a=1\n").unwrap();
        std::fs::create_dir(root.join("cache")).unwrap();
        std::fs::write(root.join("cache/base.iso"), "iso").unwrap();
        let mut hashes = FileHashes::default();
        let then = step_now(root, &step("m1"), &mut hashes);
        let done = vec![Some(Completed {
            print: then.print.clone(),
            outputs: then
                .outputs
                .iter()
                .map(|(p, h)| (p.clone(), h.clone().unwrap()))
                .collect(),
        })];
        let why = |s: &Step, hashes: &mut FileHashes| {
            plan(&[step_now(root, s, hashes)], &done, StartAt::Resume)[0]
                .why
                .clone()
        };
        assert_eq!(why(&step("m1"), &mut hashes), "up to date");
        assert_eq!(why(&step("m2"), &mut hashes), "env MIRROR changed");
        std::fs::write(root.join("versions.lock"), "a=2\n").unwrap();
        assert_eq!(why(&step("m1"), &mut hashes), "input versions.lock changed");
        std::fs::write(root.join("versions.lock"), "a=1\n").unwrap();
        std::fs::remove_file(root.join("cache/base.iso")).unwrap();
        assert_eq!(
            why(&step("m1"), &mut hashes),
            "output cache/base.iso missing"
        );
        std::fs::remove_file(root.join("versions.lock")).unwrap();
        assert_eq!(why(&step("m1"), &mut hashes), "input versions.lock changed");
    }
}
