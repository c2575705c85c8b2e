//! What a new daemon decides about the work a killed one left: which of
//! two live runs of a service to keep, and what to do with each service
//! of a deploy that never finished. Pure: the runtime gathers the facts
//! (runs alive by pid and start time, versions kept on disk) and carries
//! the answers out as a recovery deploy.

use crate::report::DeployAction;

/// Which of a unit's recorded runs (oldest first, each alive or not) a
/// new daemon keeps as the service's run: the newest live one — or, when
/// `uncommitted` (its deploy had not committed the new version), the
/// oldest live one, which a start-first deploy never touched. With none
/// alive, the newest, whose end is then recorded. The others that live
/// are stopped; the others that do not are forgotten.
pub fn run_to_keep(alive: &[bool], uncommitted: bool) -> usize {
    let live: Vec<usize> = (0..alive.len()).filter(|&k| alive[k]).collect();
    match (live.first(), live.last()) {
        (Some(&oldest), _) if uncommitted => oldest,
        (_, Some(&newest)) => newest,
        _ => alive.len().saturating_sub(1),
    }
}

/// What a service of an interrupted deploy had not settled, as the new
/// daemon finds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unsettled<'a> {
    /// What the deploy was doing with it.
    pub action: DeployAction,
    /// It has a process.
    pub running: bool,
    /// The file no longer has it.
    pub gone_from_file: bool,
    /// The version it ran before the deploy, if known.
    pub from: Option<&'a str>,
    /// The version its process runs now, if known.
    pub running_version: Option<&'a str>,
    /// The spec of `from` is kept on disk (it can be started again).
    pub from_kept: bool,
}

/// What the new daemon does about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finish {
    /// Stop it: its removal was decided and it still runs.
    Remove,
    /// Stop it: an added service never committed (no version of it was
    /// ever stable; a deploy again adds it again).
    Discard,
    /// Start `from` again: its new version was not committed.
    Revert,
    /// Nothing: what runs is `from`, never touched (start-first).
    KeptOld,
    /// Nothing to do.
    Nothing,
}

/// The decision for one unsettled service.
pub fn finish(u: Unsettled) -> Finish {
    let runs_from = u.from.is_some() && u.running_version == u.from;
    match u.action {
        // Only a service the file still does not have: one it has again
        // is the file's now.
        DeployAction::Remove if u.running && u.gone_from_file => Finish::Remove,
        DeployAction::Add if u.running => Finish::Discard,
        DeployAction::Change | DeployAction::Drifted if !runs_from && u.from_kept => Finish::Revert,
        DeployAction::Change | DeployAction::Drifted if u.running && runs_from => Finish::KeptOld,
        _ => Finish::Nothing,
    }
}

impl Finish {
    /// The detail recorded for it in the interrupted deploy's row; `by` is
    /// the number of the deploy that finishes the job.
    pub fn detail(self, by: u64, from: Option<&str>) -> String {
        let from = from.unwrap_or("?");
        match self {
            Finish::Remove => format!("interrupted; removed by the next daemon (deploy {by})"),
            Finish::Discard => format!(
                "interrupted before it was committed; stopped by the next daemon (deploy {by})"
            ),
            Finish::Revert => {
                format!("interrupted; the next daemon goes back to {from} (deploy {by})")
            }
            Finish::KeptOld => {
                format!("interrupted; the next daemon kept the version that ran ({from})")
            }
            Finish::Nothing => "interrupted".into(),
        }
    }
}
