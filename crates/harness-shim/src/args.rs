//! The shim's command line, written by the daemon (so: strict and simple).
//!
//! `harness-shim --run ID --log PATH --exit-file PATH [--log-max-bytes N]
//! [--log-keep N] [--stop-signal N] [--stop-timeout-ms N] [--cwd DIR] -- ARGV…`

use std::ffi::OsString;
use std::path::PathBuf;

/// What the shim was asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Args {
    /// Run id, echoed into the exit file.
    pub run: u64,
    /// The service's log file.
    pub log: PathBuf,
    /// Where to write the exit status.
    pub exit_file: PathBuf,
    /// Rotate the log past this size.
    pub log_max_bytes: u64,
    /// Rotated files to keep (`NAME.log.1` …).
    pub log_keep: u32,
    /// Signal for leftovers of the group when the main process ends.
    pub stop_signal: i32,
    /// Grace before SIGKILL for those leftovers.
    pub stop_timeout_ms: u64,
    /// Folder to run in.
    pub cwd: Option<PathBuf>,
    /// The service's command.
    pub argv: Vec<OsString>,
}

impl Args {
    /// Parses the shim's arguments (without the program name).
    pub fn parse(mut it: impl Iterator<Item = OsString>) -> Result<Args, String> {
        let mut a = Args {
            run: 0,
            log: PathBuf::new(),
            exit_file: PathBuf::new(),
            log_max_bytes: 10 << 20,
            log_keep: 3,
            stop_signal: libc::SIGTERM,
            stop_timeout_ms: 10_000,
            cwd: None,
            argv: Vec::new(),
        };
        while let Some(flag) = it.next() {
            if flag == "--" {
                a.argv = it.collect();
                break;
            }
            let value = it.next().ok_or_else(|| format!("{flag:?} needs a value"))?;
            let num = || {
                value
                    .to_str()
                    .and_then(|v| v.parse::<u64>().ok())
                    .ok_or_else(|| format!("{flag:?}: not a number"))
            };
            match flag.to_str().unwrap_or("") {
                "--run" => a.run = num()?,
                "--log" => a.log = value.into(),
                "--exit-file" => a.exit_file = value.into(),
                "--log-max-bytes" => a.log_max_bytes = num()?,
                "--log-keep" => a.log_keep = num()? as u32,
                "--stop-signal" => a.stop_signal = num()? as i32,
                "--stop-timeout-ms" => a.stop_timeout_ms = num()?,
                "--cwd" => a.cwd = Some(value.into()),
                other => return Err(format!("unknown flag {other:?}")),
            }
        }
        if a.argv.is_empty() || a.log.as_os_str().is_empty() || a.exit_file.as_os_str().is_empty() {
            return Err(
                "usage: harness-shim --run ID --log PATH --exit-file PATH [options] -- COMMAND…"
                    .into(),
            );
        }
        Ok(a)
    }
}
