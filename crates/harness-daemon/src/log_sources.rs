//! Which log files `harness logs [NAME…]` reads, and the name each is
//! shown under: a service's log (`logs/NAME.log`) as `NAME`, and each
//! attempt at a job's step (`logs/JOB+STEP@RUN.log`) as `JOB/STEP`.
//!
//! Steps are found by the files in the logs folder, not the config, so a
//! follower picks up an attempt that begins after it started, and a step
//! removed from the file still shows what it printed.

use std::path::{Path, PathBuf};

/// What one name on the command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pick {
    /// A service's log.
    Service(String),
    /// Every step of a job.
    Job(String),
    /// One step of a job (`JOB/STEP`).
    Step(String, String),
}

/// A log and the name its lines are shown under: a service's one file,
/// or a step's attempts' files in the order they ran (read as one log,
/// so a tail is the step's last lines whichever attempt printed them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub name: String,
    pub paths: Vec<PathBuf>,
}

/// What `names` ask for, given the file's services and jobs (each with its
/// steps); an unknown name is an error naming what there is.
pub fn picks(
    names: &[String],
    services: &[String],
    jobs: &[(String, Vec<String>)],
) -> Result<Vec<Pick>, String> {
    names
        .iter()
        .map(|name| {
            if services.contains(name) {
                return Ok(Pick::Service(name.clone()));
            }
            if let Some((job, step)) = name.split_once('/') {
                if let Some((_, steps)) = jobs.iter().find(|(j, _)| j == job) {
                    return match steps.iter().any(|s| s == step) {
                        true => Ok(Pick::Step(job.into(), step.into())),
                        false => Err(format!(
                            "job `{job}` has no step `{step}`; its steps are: {}",
                            steps.join(", ")
                        )),
                    };
                }
            } else if jobs.iter().any(|(j, _)| j == name) {
                return Ok(Pick::Job(name.clone()));
            }
            let mut known = format!("services are: {}", services.join(", "));
            if !jobs.is_empty() {
                let jobs: Vec<&str> = jobs.iter().map(|(j, _)| j.as_str()).collect();
                known.push_str(&format!("; jobs are: {}", jobs.join(", ")));
            }
            Err(format!("unknown service `{name}`; {known}"))
        })
        .collect()
}

/// The logs `picks` name (every service's and every step's when `None`),
/// services first in the order given, then steps' attempts by job, step
/// and run. `services` are the file's services, `logs` the logs folder.
pub fn sources(picks: Option<&[Pick]>, services: &[String], logs: &Path) -> Vec<Source> {
    let service = |name: &str| Source {
        name: name.to_string(),
        paths: vec![logs.join(format!("{name}.log"))],
    };
    let mut out: Vec<Source> = match picks {
        None => services.iter().map(|s| service(s)).collect(),
        Some(picks) => picks
            .iter()
            .filter_map(|p| match p {
                Pick::Service(s) => Some(service(s)),
                _ => None,
            })
            .collect(),
    };
    let wanted = |job: &str, step: &str| match picks {
        None => true,
        Some(picks) => picks.iter().any(|p| match p {
            Pick::Job(j) => j == job,
            Pick::Step(j, s) => j == job && s == step,
            Pick::Service(_) => false,
        }),
    };
    let mut steps: Vec<(String, String, u64, PathBuf)> = std::fs::read_dir(logs)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let file = e.file_name().into_string().ok()?;
            let (job, step, run) = step_log(&file)?;
            wanted(job, step).then(|| (job.to_string(), step.to_string(), run, e.path()))
        })
        .collect();
    steps.sort();
    for (job, step, _, path) in steps {
        let name = format!("{job}/{step}");
        match out.last_mut() {
            Some(last) if last.name == name => last.paths.push(path),
            _ => out.push(Source {
                name,
                paths: vec![path],
            }),
        }
    }
    out
}

/// The job, step and run of an attempt's log file `JOB+STEP@RUN.log`
/// (not of its rotated files, which are read with it).
fn step_log(file: &str) -> Option<(&str, &str, u64)> {
    let (key, run) = file.strip_suffix(".log")?.rsplit_once('@')?;
    let (job, step) = key.split_once('+')?;
    Some((job, step, run.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jobs() -> Vec<(String, Vec<String>)> {
        vec![("image".into(), vec!["fetch".into(), "build".into()])]
    }

    #[test]
    fn names_pick_services_jobs_and_steps_and_an_unknown_one_says_what_there_is() {
        let services = vec!["db".to_string(), "api".to_string()];
        let names: Vec<String> = ["api", "image", "image/build"].map(String::from).into();
        assert_eq!(
            picks(&names, &services, &jobs()),
            Ok(vec![
                Pick::Service("api".into()),
                Pick::Job("image".into()),
                Pick::Step("image".into(), "build".into()),
            ])
        );
        assert_eq!(
            picks(&["web".into()], &services, &jobs()),
            Err("unknown service `web`; services are: db, api; jobs are: image".into())
        );
        assert_eq!(
            picks(&["image/push".into()], &services, &jobs()),
            Err("job `image` has no step `push`; its steps are: fetch, build".into())
        );
        assert_eq!(
            picks(&["web".into()], &services, &[]),
            Err("unknown service `web`; services are: db, api".into())
        );
    }

    #[test]
    fn steps_are_found_by_their_attempts_files_in_run_order() {
        let dir = tempfile::tempdir().unwrap();
        for f in [
            "api.log",
            "api.log.1",
            "image+fetch@10.log",
            "image+fetch@9.log",
            "image+fetch@9.log.1",
            "image+build@11.log",
            "image+build@11.log.idx",
            "image@cleanup.log",
            "other+x@3.log",
        ] {
            std::fs::write(dir.path().join(f), "").unwrap();
        }
        let services = vec!["db".to_string(), "api".to_string()];
        let names = |picks: Option<&[Pick]>| -> Vec<String> {
            sources(picks, &services, dir.path())
                .into_iter()
                .map(|s| {
                    let files: Vec<String> = s
                        .paths
                        .iter()
                        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
                        .collect();
                    format!("{} {}", s.name, files.join(" "))
                })
                .collect()
        };
        assert_eq!(
            names(None),
            [
                "db db.log",
                "api api.log",
                "image/build image+build@11.log",
                "image/fetch image+fetch@9.log image+fetch@10.log",
                "other/x other+x@3.log",
            ]
        );
        let picked = [
            Pick::Step("image".into(), "fetch".into()),
            Pick::Service("api".into()),
        ];
        assert_eq!(
            names(Some(&picked)),
            [
                "api api.log",
                "image/fetch image+fetch@9.log image+fetch@10.log"
            ]
        );
    }
}
