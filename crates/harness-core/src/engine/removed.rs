//! Services gone from the file that still run: never dropped while they
//! have a process (so they are shown, stoppable, and removed by a deploy),
//! dropped once they are down. A reload and a deploy put the file in force
//! this way ([`Engine::merged`]); a new daemon keeps a left-over it finds
//! running ([`Engine::keep_left_over`]).

use super::service::{Engine, Phase};
use crate::config::Config;

impl Engine {
    /// The config in force during a deploy of `file`: the file's services
    /// that `selected` names, with their definitions there; the others of
    /// the file as the engine has them (a deploy of some services leaves
    /// the rest as they are); and every service gone from the file that
    /// still has a process, as it was.
    pub(crate) fn merged(&self, file: &Config, selected: &dyn Fn(&str) -> bool) -> Config {
        let mut services: Vec<_> = file
            .services
            .iter()
            .map(|s| match self.config.service(&s.name) {
                Some(old) if !selected(&s.name) => old.clone(),
                _ => s.clone(),
            })
            .collect();
        services.extend(
            self.config
                .services
                .iter()
                .enumerate()
                .filter(|(i, s)| {
                    file.service(&s.name).is_none()
                        && !matches!(self.svcs[*i].phase, Phase::Stopped)
                })
                .map(|(_, s)| s.clone()),
        );
        Config {
            settings: file.settings.clone(),
            services,
            jobs: file.jobs.clone(),
        }
    }

    /// [`Engine::merged`] put in force: the services it kept that `file`
    /// does not have are known as removed (shown so, dropped once down).
    pub(crate) fn take_merged(&mut self, file: &Config, selected: &dyn Fn(&str) -> bool) {
        let config = self.merged(file, selected);
        let removed = config
            .names()
            .filter(|n| file.service(n).is_none())
            .map(str::to_string)
            .collect();
        self.swap_config(config);
        self.removed = removed;
    }

    /// Drops from the config the services gone from the file that are
    /// down now (a deploy's removals, a left-over that was stopped), once
    /// no operation is in progress. The runtime calls it after it has
    /// carried out each step's actions: they name services by their place
    /// in the config the step ended with, so it cannot happen inside one.
    pub fn drop_removed(&mut self) {
        if self.removed.is_empty() || self.busy() {
            return;
        }
        let down = |(i, svc): &(usize, &crate::config::Service)| {
            self.removed.contains(&svc.name) && self.svcs[*i].phase == Phase::Stopped
        };
        if !self.config.services.iter().enumerate().any(|s| down(&s)) {
            return;
        }
        let services = self
            .config
            .services
            .iter()
            .enumerate()
            .filter(|s| !down(s))
            .map(|(_, svc)| svc.clone())
            .collect();
        let config = Config {
            settings: self.config.settings.clone(),
            services,
            jobs: self.config.jobs.clone(),
        };
        self.swap_config(config);
    }
}
