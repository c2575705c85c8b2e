//! `harness daemon stop|info` (`daemon run` is the binary's: see
//! [`crate::DaemonMain`]).

use crate::args::DaemonCommand;
use crate::client::Client;
use crate::error::CliError;
use harness_api::DaemonInfo;
use harness_store::Project;
use hyper::Method;

pub async fn control(project: &Project, cmd: DaemonCommand) -> Result<(), CliError> {
    match cmd {
        DaemonCommand::Run => unreachable!("handled before the runtime starts"),
        DaemonCommand::Stop => match Client::existing(project).await {
            None => {
                println!("no daemon runs for this project");
                Ok(())
            }
            Some(c) => {
                let info: DaemonInfo = c.json(Method::GET, "/v1/info", None).await?;
                c.request(Method::POST, "/v1/shutdown", None).await?;
                let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
                let alive = || crate::client::running(info.pid);
                while alive() && std::time::Instant::now() < deadline {
                    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                }
                if alive() {
                    return Err(anyhow::anyhow!(
                        "the daemon (pid {}) was asked to stop but still runs after 5s",
                        info.pid
                    )
                    .into());
                }
                println!("daemon (pid {}) stopped; services keep running", info.pid);
                Ok(())
            }
        },
        DaemonCommand::Info => {
            // Only reads: the folder's daemon as it is, whichever file it
            // serves (it says which); one is started if none runs.
            let c = match Client::existing(project).await {
                Some(c) => c,
                None => Client::connect(project).await?,
            };
            let info: DaemonInfo = c.json(Method::GET, "/v1/info", None).await?;
            println!(
                "pid {}\nconfig {}\nversion {}",
                info.pid, info.config, info.version
            );
            Ok(())
        }
    }
}
