//! What a new daemon finishes of the deploys a killed one left running:
//! each is marked `interrupted`, and what it had decided and not done —
//! its removals, its uncommitted adds, each change whose new version had
//! not passed its gate — is carried out as one recovery deploy. The
//! decisions are the core's (`engine::interrupted`).

use super::Supervisor;
use harness_store::Write;

impl Supervisor {
    /// A deploy the last daemon did not finish: it is `interrupted`, and
    /// so are its services it had not settled. What it had decided and not
    /// done is returned for [`Supervisor::recover`]: its removals (of
    /// services the file still does not have) and, for a change whose new
    /// version had not passed its gate, the version to go back to.
    pub(super) fn finish_interrupted(
        &mut self,
        id: i64,
        services: Vec<harness_store::DeployServiceRow>,
        recovery: &mut Recovery,
    ) {
        tracing::warn!(
            deploy = id,
            "a deploy was interrupted by the last daemon's end"
        );
        let versions = self.project.versions_dir();
        use harness_core::engine::interrupted::{Finish, Unsettled, finish};
        for s in services.iter().filter(|s| s.outcome.is_none()) {
            let i = self.engine.graph().index(&s.service);
            let running_version = i.and_then(|i| self.engine.running_version(i));
            let stable = s
                .from_version
                .as_ref()
                .and_then(|f| harness_store::versions::load(&versions, &s.service, f));
            let Some(action) = harness_core::report::DeployAction::parse(&s.action) else {
                continue;
            };
            let what = finish(Unsettled {
                action,
                running: i.is_some_and(|i| {
                    !matches!(self.engine.phase(i), harness_core::engine::Phase::Stopped)
                }),
                gone_from_file: self.engine.is_gone_from_file(&s.service),
                from: s.from_version.as_deref(),
                running_version: running_version.as_deref(),
                from_kept: stable.is_some(),
            });
            match (what, stable, &s.from_version) {
                (Finish::Remove, _, _) => recovery.removals.push(s.service.clone()),
                (Finish::Discard, _, _) => recovery.discards.push(s.service.clone()),
                (Finish::Revert, Some(spec), Some(f)) => {
                    recovery.reverts.push((s.service.clone(), f.clone(), spec))
                }
                _ => {}
            }
            let detail = what.detail(recovery.id, s.from_version.as_deref());
            self.store.send(Write::DeploySettled {
                id,
                service: s.service.clone(),
                outcome: harness_store::DeployOutcome::Interrupted.as_str().into(),
                detail,
            });
        }
        self.store.send(Write::DeployEnded {
            id,
            ended_ms: super::wall_ms(),
            status: "interrupted".into(),
        });
    }

    /// Carries out what interrupted deploys left undone, as one deploy of
    /// its own: their removals first (and each added service they never
    /// committed), then each unfinished change back to the version it ran
    /// (with the gate, and the new version again if that fails).
    pub(super) fn recover(&mut self, recovery: Recovery) {
        if recovery.removals.is_empty()
            && recovery.reverts.is_empty()
            && recovery.discards.is_empty()
        {
            return;
        }
        let file = match self.config.for_deploy() {
            Ok(f) => f.clone(),
            Err(e) => {
                tracing::error!(error = %e.error, "cannot finish the interrupted deploy: the file does not load");
                return;
            }
        };
        use harness_core::report::{DeployAction, DeployEntry};
        let engine = &self.engine;
        let entry = |name: &str, action, reason: String, to: Option<String>| DeployEntry {
            service: name.to_string(),
            action,
            reasons: vec![reason],
            from: engine
                .graph()
                .index(name)
                .and_then(|i| engine.running_version(i)),
            to,
        };
        let removal = "removed from the file (an interrupted deploy's removal)";
        let discard = "added by an interrupted deploy that never committed it";
        let mut services: Vec<DeployEntry> = recovery
            .removals
            .iter()
            .map(|name| entry(name, DeployAction::Remove, removal.into(), None))
            .chain(
                recovery
                    .discards
                    .iter()
                    .map(|name| entry(name, DeployAction::Remove, discard.into(), None)),
            )
            .collect();
        let mut versions = Vec::new();
        for (name, to, spec) in recovery.reverts {
            let why = format!("going back to {to}: its deploy was interrupted");
            services.push(entry(&name, DeployAction::Change, why, Some(to)));
            versions.push((name, spec));
        }
        let plan = harness_core::report::DeployPlan { services };
        let options = harness_core::engine::DeployOptions {
            no_prune: false,
            versions,
        };
        if let Err(e) = self.begin_recovery(file, plan, options) {
            tracing::error!(error = %e.error, "cannot finish the interrupted deploy");
        }
    }
}

/// What interrupted deploys left undone, for the deploy (numbered `id`)
/// that finishes it.
#[derive(Default)]
pub(super) struct Recovery {
    pub id: u64,
    pub removals: Vec<String>,
    /// Added services never committed: stopped, though the file has them.
    pub discards: Vec<String>,
    pub reverts: Vec<(String, String, harness_core::engine::RunSpec)>,
}
