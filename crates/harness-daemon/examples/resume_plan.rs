//! The cost of a job's resume plan (`bash bench/run.sh resume`): a
//! 100-step job whose first 99 steps completed, each with 10 input files
//! of 1 MiB. Prints the time to hash every input cold (no file known), the
//! time again with the stamps known (what a daemon pays on each `harness
//! run` after the first), and the plan itself.

use harness_core::config::{Command, Location, Step};
use harness_core::job::classify::Classify;
use harness_core::job::resume::{Completed, StartAt, plan};
use harness_core::job::retry::Retry;
use harness_daemon::file_hashes::FileHashes;
use harness_daemon::job_prints::step_now;
use std::io::Write;
use std::time::Instant;

fn main() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let root = dir.path();
    let mut block = vec![0u8; 1 << 20];
    let mut steps = Vec::new();
    for s in 0..100 {
        let mut inputs = Vec::new();
        for k in 0..10 {
            let name = format!("in/s{s:03}-{k}.bin");
            std::fs::create_dir_all(root.join("in")).unwrap();
            // Distinct contents, cheaply: a counter stamped through the block.
            for (i, b) in block.iter_mut().enumerate().step_by(4096) {
                *b = (s * 10 + k + i) as u8;
            }
            std::fs::File::create(root.join(&name))
                .and_then(|mut f| f.write_all(&block))
                .unwrap();
            inputs.push(name.into());
        }
        steps.push(Step {
            name: format!("s{s:03}"),
            location: Location::default(),
            command: Command::Shell(format!("./step {s}")),
            working_dir: None,
            env: vec![("STEP".into(), s.to_string())],
            env_file: None,
            timeout: None,
            inputs,
            outputs: Vec::new(),
            idempotent: true,
            retry: Retry::default(),
            classify: Classify::default(),
        });
    }
    let mut hashes = FileHashes::default();
    let t = Instant::now();
    let cold: Vec<_> = steps
        .iter()
        .map(|s| step_now(root, s, &mut hashes))
        .collect();
    let cold_ms = t.elapsed().as_secs_f64() * 1e3;
    let t = Instant::now();
    let warm: Vec<_> = steps
        .iter()
        .map(|s| step_now(root, s, &mut hashes))
        .collect();
    let warm_ms = t.elapsed().as_secs_f64() * 1e3;
    // The first 99 completed as they are now; the last never did.
    let done: Vec<Option<Completed>> = cold
        .iter()
        .enumerate()
        .map(|(k, s)| {
            (k < 99).then(|| Completed {
                print: s.print.clone(),
                outputs: Vec::new(),
            })
        })
        .collect();
    let t = Instant::now();
    let p = plan(&warm, &done, StartAt::Resume);
    let plan_us = t.elapsed().as_secs_f64() * 1e6;
    assert_eq!(p.iter().filter(|s| s.why == "up to date").count(), 99);
    println!(
        "resume plan, 100 steps × 10 inputs of 1 MiB (1000 MiB): hashing cold {cold_ms:.0} ms \
         ({:.0} MiB/s), with the stamps known {warm_ms:.1} ms, the plan {plan_us:.0} µs; \
         files read {} (of 1000)",
        1000.0 / (cold_ms / 1e3),
        hashes.reads()
    );
}
