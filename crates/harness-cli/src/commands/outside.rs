//! What a start does with services found running outside harness (seed
//! 000's "How would you like to proceed? 1) Adopt 2) Coexist 3) Replace
//! 4) Abort"): asked on a terminal, answered by `--adopt`, `--coexist` or
//! `--replace`, and coexist otherwise — never a duplicate started, never
//! a process stopped that is not harness's unless a person said so.

use crate::args::OutsideFlags;
use crate::client::Client;
use crate::error::CliError;
use crate::prompt::{self, Answer};
use harness_api::{Adopted, ExternalInstance, ExternalRequest, Replaced};
use hyper::Method;

/// The answers, in the order shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnOutside {
    Adopt,
    Coexist,
    Replace,
    Abort,
}

impl Answer for OnOutside {
    fn label(self) -> &'static str {
        match self {
            OnOutside::Adopt => "Adopt",
            OnOutside::Coexist => "Coexist",
            OnOutside::Replace => "Replace",
            OnOutside::Abort => "Abort",
        }
    }
}

impl OnOutside {
    /// The menu, for the services found outside (`names`) and those
    /// asked for (`asked`: "api", or "the rest").
    fn menu(names: &[String], asked: &str) -> Vec<(OnOutside, String)> {
        let (them, it) = match names {
            [one] => (one.clone(), "it"),
            _ => (names.join(", "), "them"),
        };
        let ones = if names.len() == 1 { "one" } else { "ones" };
        let instances = if names.len() == 1 {
            format!("this {them} instance")
        } else {
            format!("these instances ({them})")
        };
        vec![
            (OnOutside::Adopt, format!("Manage {instances}")),
            (
                OnOutside::Coexist,
                format!("Leave {it} alone and start {asked}"),
            ),
            (
                OnOutside::Replace,
                format!("Stop external {them} and start managed {ones}"),
            ),
            (OnOutside::Abort, "Do nothing".to_string()),
        ]
    }
}

impl OutsideFlags {
    /// The answer the flags give, if one does.
    fn answer(&self) -> Option<OnOutside> {
        if self.adopt {
            Some(OnOutside::Adopt)
        } else if self.replace {
            Some(OnOutside::Replace)
        } else if self.coexist {
            Some(OnOutside::Coexist)
        } else {
            None
        }
    }
}

/// Decides what to do with `names`, found outside harness, and does it
/// (adopts or stops them); the start goes on after it unless the answer
/// was to abort. `asked` names what the start was asked for.
pub async fn settle(
    client: &Client,
    flags: &OutsideFlags,
    names: &[String],
    asked: &str,
    interactive: bool,
) -> Result<(), CliError> {
    let answer = match flags.answer() {
        Some(answer) => answer,
        None if interactive => {
            let answer = prompt::ask(&OnOutside::menu(names, asked)).await?;
            let detail = format!("running outside harness: {}", names.join(", "));
            super::start::record(client, "external service", answer.label(), &detail).await;
            answer
        }
        None => OnOutside::Coexist,
    };
    match answer {
        OnOutside::Coexist => Ok(()),
        OnOutside::Abort => {
            println!("Aborted: nothing was changed.");
            Err(CliError::Interrupted)
        }
        OnOutside::Adopt | OnOutside::Replace => {
            // Every one is looked at before any is touched: one that may
            // not be is refused with nothing done to the others.
            let mut found = Vec::new();
            for name in names {
                found.push(touchable(client, name).await?);
            }
            println!();
            for (e, pid, start_time) in found {
                let req = ExternalRequest {
                    service: e.service.clone(),
                    pid,
                    start_time,
                };
                if answer == OnOutside::Adopt {
                    adopt(client, &req).await?;
                    println!("✓ Service '{}' adopted", req.service);
                } else {
                    let r = replace(client, &req).await?;
                    println!(
                        "✓ Stopped external {} (PID {}, {})",
                        r.service, r.pid, r.ended_by
                    );
                }
            }
            Ok(())
        }
    }
}

/// The instance of `name` outside harness, as the daemon finds it now.
pub async fn found(client: &Client, name: &str) -> Result<ExternalInstance, CliError> {
    let path = format!("/v1/external/{name}");
    client.json(Method::GET, &path, None).await
}

/// The instance of `name` outside harness, with its process, if harness
/// may adopt or stop it; why not (exit 3) if not.
async fn touchable(client: &Client, name: &str) -> Result<(ExternalInstance, u32, u64), CliError> {
    let e = found(client, name).await?;
    if let Some(why) = &e.refused {
        return Err(CliError::Refused(format!("nothing was changed: {why}")));
    }
    match (e.pid, e.start_time) {
        (Some(pid), Some(start)) => Ok((e, pid, start)),
        _ => Err(CliError::Refused(format!(
            "nothing was changed: the process behind {name} could not be named"
        ))),
    }
}

/// `POST /v1/adopt`.
pub async fn adopt(client: &Client, req: &ExternalRequest) -> Result<Adopted, CliError> {
    let body = serde_json::to_string(req).unwrap_or_default();
    client.json(Method::POST, "/v1/adopt", Some(body)).await
}

/// `POST /v1/replace`.
async fn replace(client: &Client, req: &ExternalRequest) -> Result<Replaced, CliError> {
    let body = serde_json::to_string(req).unwrap_or_default();
    client.json(Method::POST, "/v1/replace", Some(body)).await
}

#[cfg(test)]
mod tests {
    use super::OnOutside;
    use crate::prompt::Answer;

    #[test]
    fn the_menu_says_what_each_answer_does_to_whom() {
        let one = OnOutside::menu(&["postgres".into()], "api");
        let lines: Vec<String> = one
            .iter()
            .map(|(a, what)| format!("{} - {what}", a.label()))
            .collect();
        assert_eq!(
            lines,
            [
                "Adopt - Manage this postgres instance",
                "Coexist - Leave it alone and start api",
                "Replace - Stop external postgres and start managed one",
                "Abort - Do nothing",
            ]
        );
        let two = OnOutside::menu(&["postgres".into(), "redis".into()], "the rest");
        assert_eq!(two[0].1, "Manage these instances (postgres, redis)");
        assert_eq!(two[1].1, "Leave them alone and start the rest");
        assert_eq!(
            two[2].1,
            "Stop external postgres, redis and start managed ones"
        );
    }
}
