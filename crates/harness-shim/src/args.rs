//! The shim's command line, written by the daemon (so: strict and simple).
//!
//! `harness-shim --run ID --log PATH --exit-file PATH [--log-max-bytes N]
//! [--log-keep N] [--stop-signal N] [--stop-timeout-ms N] [--cwd DIR]
//! [--env KEY=VALUE]… -- ARGV…`
//!
//! The daemon does not put these on the command line: it starts the shim
//! with none and writes them to its stdin, each followed by a NUL byte
//! ([`Args::encode`] / [`Args::decode`]). That lets a shim be started ahead
//! of need, and keeps the service's environment (secrets from an
//! `env_file`) out of `/proc/PID/cmdline`, which every user can read.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
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
    /// Variables set for the service on top of the shim's own environment,
    /// in order (a later one wins).
    pub env: Vec<(OsString, OsString)>,
    /// The service's command.
    pub argv: Vec<OsString>,
}

impl Default for Args {
    /// Log rotation at 10 MiB keeping 3 files, SIGTERM and 10 s for
    /// leftovers; no log, exit file or command yet.
    fn default() -> Args {
        Args {
            run: 0,
            log: PathBuf::new(),
            exit_file: PathBuf::new(),
            log_max_bytes: 10 << 20,
            log_keep: 3,
            stop_signal: libc::SIGTERM,
            stop_timeout_ms: 10_000,
            cwd: None,
            env: Vec::new(),
            argv: Vec::new(),
        }
    }
}

impl Args {
    /// Parses the shim's arguments (without the program name).
    pub fn parse(mut it: impl Iterator<Item = OsString>) -> Result<Args, String> {
        let mut a = Args::default();
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
                "--env" => {
                    let bytes = value.as_bytes();
                    let eq = bytes
                        .iter()
                        .position(|b| *b == b'=')
                        .filter(|i| *i > 0)
                        .ok_or_else(|| format!("--env {value:?}: expected KEY=VALUE"))?;
                    a.env.push((
                        OsStr::from_bytes(&bytes[..eq]).to_owned(),
                        OsStr::from_bytes(&bytes[eq + 1..]).to_owned(),
                    ));
                }
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

    /// The arguments as the job a shim reads from its stdin: their count,
    /// then each one, every item followed by a NUL byte. The count tells a
    /// whole job from one cut short.
    pub fn encode(&self) -> Vec<u8> {
        let mut count = 0usize;
        let mut out = Vec::new();
        let mut put = |v: &OsStr| {
            out.extend_from_slice(v.as_bytes());
            out.push(0);
            count += 1;
        };
        let num = |n: u64| OsString::from(n.to_string());
        put("--run".as_ref());
        put(&num(self.run));
        put("--log".as_ref());
        put(self.log.as_os_str());
        put("--exit-file".as_ref());
        put(self.exit_file.as_os_str());
        put("--log-max-bytes".as_ref());
        put(&num(self.log_max_bytes));
        put("--log-keep".as_ref());
        put(&num(self.log_keep.into()));
        put("--stop-signal".as_ref());
        put(&num(self.stop_signal as u64));
        put("--stop-timeout-ms".as_ref());
        put(&num(self.stop_timeout_ms));
        if let Some(cwd) = &self.cwd {
            put("--cwd".as_ref());
            put(cwd.as_os_str());
        }
        for (k, v) in &self.env {
            let mut kv = k.clone();
            kv.push("=");
            kv.push(v);
            put("--env".as_ref());
            put(&kv);
        }
        put("--".as_ref());
        for a in &self.argv {
            put(a);
        }
        let mut job = format!("{count}\0").into_bytes();
        job.extend_from_slice(&out);
        job
    }

    /// Parses a job written by [`Args::encode`].
    pub fn decode(job: &[u8]) -> Result<Args, String> {
        let body = job.strip_suffix(&[0]).ok_or("the job is cut short")?;
        let mut items = body.split(|b| *b == 0);
        let count: usize = items
            .next()
            .and_then(|c| std::str::from_utf8(c).ok())
            .and_then(|c| c.parse().ok())
            .ok_or("the job does not start with its length")?;
        let items: Vec<OsString> = items.map(|a| OsStr::from_bytes(a).to_owned()).collect();
        if items.len() != count {
            return Err(format!("the job has {} of its {count} items", items.len()));
        }
        Args::parse(items.into_iter())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Run 1 of `argv`, logging to `/l`.
    fn job_for(argv: &[&str]) -> Args {
        let head = ["--run", "1", "--log", "/l", "--exit-file", "/e", "--"];
        Args::parse(head.iter().chain(argv).map(OsString::from)).unwrap()
    }

    #[test]
    fn a_job_round_trips_through_its_encoding() {
        let mut a = job_for(&["sh", "-c", "echo a=b"]);
        a.cwd = Some("/srv/app dir".into());
        a.env = vec![
            ("DATABASE_URL".into(), "postgres://u:p=x@h/db".into()),
            ("EMPTY".into(), "".into()),
        ];
        a.stop_signal = libc::SIGINT;
        a.run = 7;
        assert_eq!(Args::decode(&a.encode()).unwrap(), a);
    }

    #[test]
    fn a_truncated_or_malformed_job_is_refused() {
        let job = job_for(&["true"]).encode();
        assert!(Args::decode(&job[..job.len() - 1]).is_err());
        assert!(Args::decode(&job[..job.len() / 2]).is_err());
        assert!(Args::decode(b"").is_err());
        let cut = job_for(&["sh", "-c", "x"]).encode();
        let at = cut.len() - 2 - 1; // right after "-c\0"
        assert_eq!(cut[at], 0);
        assert!(Args::decode(&cut[..=at]).unwrap_err().contains("items"));
        let bad = b"8\0--env\0NOEQUALS\0--log\0/l\0--exit-file\0/e\0--\0true\0";
        assert!(Args::decode(bad).unwrap_err().contains("KEY=VALUE"));
    }
}
