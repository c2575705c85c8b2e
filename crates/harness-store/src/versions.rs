//! Every version a service has run, kept as the spec it was spawned with
//! (`.harness/versions/NAME/VERSION.json`), so that a failed deploy found
//! by a new daemon can go back to the version that ran, and `harness
//! rollback` can run an earlier one. The spec holds the environment's
//! values, as `services.yaml` does: the files are the user's alone (0600,
//! in the 0700 state folder), and `state.db` never holds them.

use harness_core::config::{Command, LogRotation, Ready, StopSignal};
use harness_core::engine::{Definition, RunSpec, UnitId};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How many versions of each service are kept (the oldest go first).
pub const KEPT_VERSIONS: usize = 10;

/// Keeps `spec` as its service's version (six hex digits of its print);
/// returns the version. An existing file is left as it is.
pub fn save(dir: &Path, spec: &RunSpec) -> std::io::Result<String> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let version = Definition::of(spec).version();
    let folder = dir.join(spec.unit.key());
    {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&folder)?;
    }
    let path = folder.join(format!("{version}.json"));
    if path.exists() {
        // Touched, so the versions kept are the ones run most recently.
        let _ = std::fs::File::options()
            .append(true)
            .open(&path)
            .and_then(|f| f.set_modified(std::time::SystemTime::now()));
        return Ok(version);
    }
    let tmp = folder.join(format!(".{version}.json.tmp"));
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)?;
    // Written whole, then renamed: a reader finds the file complete or
    // not at all (a daemon killed meanwhile leaves only the temporary).
    f.write_all(to_json(spec).to_string().as_bytes())?;
    std::fs::rename(&tmp, &path)?;
    prune(&folder);
    Ok(version)
}

/// Version `version` of `service`, if it is kept.
pub fn load(dir: &Path, service: &str, version: &str) -> Option<RunSpec> {
    if !version.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let text = std::fs::read_to_string(dir.join(service).join(format!("{version}.json"))).ok()?;
    from_json(service, &serde_json::from_str(&text).ok()?)
}

/// The versions of `service` kept, the most recently run first.
pub fn list(dir: &Path, service: &str) -> Vec<String> {
    let mut found: Vec<(std::time::SystemTime, String)> = files(&dir.join(service))
        .into_iter()
        .filter_map(|(p, t)| {
            let stem = p.file_stem()?.to_str()?.to_string();
            Some((t, stem))
        })
        .collect();
    found.sort_by_key(|f| std::cmp::Reverse(f.0));
    found.into_iter().map(|(_, v)| v).collect()
}

fn files(folder: &Path) -> Vec<(PathBuf, std::time::SystemTime)> {
    let Ok(rd) = std::fs::read_dir(folder) else {
        return Vec::new();
    };
    rd.filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .filter_map(|p| {
            let t = std::fs::metadata(&p).and_then(|m| m.modified()).ok()?;
            Some((p, t))
        })
        .collect()
}

/// Keeps the [`KEPT_VERSIONS`] run most recently.
fn prune(folder: &Path) {
    let mut all = files(folder);
    all.sort_by_key(|f| std::cmp::Reverse(f.1));
    for (p, _) in all.into_iter().skip(KEPT_VERSIONS) {
        let _ = std::fs::remove_file(p);
    }
}

fn to_json(s: &RunSpec) -> Value {
    json!({
        "command": match &s.command {
            Command::Shell(c) => json!({ "shell": c }),
            Command::Argv(a) => json!({ "argv": a }),
        },
        "working_dir": s.working_dir.as_ref().map(|d| d.to_string_lossy().into_owned()),
        "env": s.env.iter().map(|(k, v)| json!([k, v])).collect::<Vec<_>>(),
        "env_file": s.env_file.as_ref().map(|d| d.to_string_lossy().into_owned()),
        "stop_signal": s.stop_signal.name(),
        "stop_timeout_ms": s.stop_timeout.as_millis() as u64,
        "ready": match &s.ready {
            None => Value::Null,
            Some(Ready::Notify) => json!("notify"),
            Some(Ready::Log(p)) => json!({ "log": p }),
        },
        "watchdog_ms": s.watchdog.map(|w| w.as_millis() as u64),
        "observed": s.observed,
        "socket": s.socket.map(|a| a.to_string()),
        "logs": { "max_size": s.logs.max_size, "keep": s.logs.keep },
    })
}

fn from_json(service: &str, v: &Value) -> Option<RunSpec> {
    let command = match (&v["command"]["shell"], &v["command"]["argv"]) {
        (Value::String(c), _) => Command::Shell(c.clone()),
        (_, Value::Array(a)) => Command::Argv(
            a.iter()
                .map(|x| x.as_str().map(str::to_string))
                .collect::<Option<_>>()?,
        ),
        _ => return None,
    };
    let path = |key: &str| v[key].as_str().map(PathBuf::from);
    let env = v["env"]
        .as_array()?
        .iter()
        .map(|p| Some((p[0].as_str()?.to_string(), p[1].as_str()?.to_string())))
        .collect::<Option<Vec<_>>>()?;
    let stop_signal = StopSignal::ALL
        .iter()
        .find(|(_, n)| Some(*n) == v["stop_signal"].as_str())
        .map(|(s, _)| *s)?;
    let ready = match &v["ready"] {
        Value::Null => None,
        Value::String(s) if s == "notify" => Some(Ready::Notify),
        other => Some(Ready::Log(other["log"].as_str()?.to_string())),
    };
    let observed: BTreeMap<String, String> = v["observed"]
        .as_object()
        .map(|o| {
            o.iter()
                .filter_map(|(k, x)| Some((k.clone(), x.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default();
    Some(RunSpec {
        unit: UnitId::Service(service.to_string()),
        command,
        working_dir: path("working_dir"),
        env,
        env_file: path("env_file"),
        stop_signal,
        stop_timeout: Duration::from_millis(v["stop_timeout_ms"].as_u64()?),
        ready,
        watchdog: v["watchdog_ms"].as_u64().map(Duration::from_millis),
        observed,
        socket: v["socket"].as_str().and_then(|a| a.parse().ok()),
        // A version kept before `logs:` existed rotates as the default did.
        logs: LogRotation {
            max_size: v["logs"]["max_size"]
                .as_u64()
                .unwrap_or(LogRotation::default().max_size),
            keep: v["logs"]["keep"]
                .as_u64()
                .map_or(LogRotation::default().keep, |k| k as u32),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(command: &str) -> RunSpec {
        RunSpec {
            unit: UnitId::Service("api".into()),
            command: Command::Shell(command.into()),
            working_dir: Some("./srv".into()),
            env: vec![("PORT".into(), "8080".into())],
            env_file: Some(".env".into()),
            stop_signal: StopSignal::Int,
            stop_timeout: Duration::from_millis(2500),
            ready: Some(Ready::Log("listening on".into())),
            watchdog: None,
            observed: [("env_file contents".to_string(), "abc123".to_string())].into(),
            socket: Some("127.0.0.1:8080".parse().unwrap()),
            logs: LogRotation {
                max_size: 100 << 10,
                keep: 0,
            },
        }
    }

    #[test]
    fn a_version_comes_back_as_it_was_kept_and_only_the_last_ten_stay() {
        let dir = tempfile::tempdir().unwrap();
        let v1 = save(dir.path(), &spec("api v1")).unwrap();
        assert_eq!(v1, Definition::of(&spec("api v1")).version());
        assert_eq!(load(dir.path(), "api", &v1), Some(spec("api v1")));
        assert_eq!(load(dir.path(), "api", "../x"), None);
        let argv = RunSpec {
            command: Command::Argv(vec!["api".into(), "--v2".into()]),
            ready: Some(Ready::Notify),
            watchdog: Some(Duration::from_secs(3)),
            ..spec("")
        };
        let v2 = save(dir.path(), &argv).unwrap();
        assert_eq!(load(dir.path(), "api", &v2), Some(argv));
        let mode = std::fs::metadata(dir.path().join("api").join(format!("{v2}.json")))
            .unwrap()
            .permissions();
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(mode.mode() & 0o777, 0o600);
        for n in 0..12 {
            std::thread::sleep(Duration::from_millis(5));
            save(dir.path(), &spec(&format!("api v{}", n + 3))).unwrap();
        }
        let kept = list(dir.path(), "api");
        assert_eq!(kept.len(), KEPT_VERSIONS);
        assert_eq!(kept[0], Definition::of(&spec("api v14")).version());
        assert!(!kept.contains(&v1));
    }
}
