//! `harness adopt SVC [--yes]`: show the instance of SVC running outside
//! harness, ask, and make it harness's run (seed 000's "Service
//! Adoption").

use crate::args::AdoptArgs;
use crate::client::Client;
use crate::error::CliError;
use crate::{prompt, render};
use harness_api::ExternalRequest;
use harness_store::Project;

pub async fn adopt(project: &Project, a: AdoptArgs) -> Result<(), CliError> {
    if !a.yes && !prompt::terminal() {
        return Err(CliError::Usage(
            "harness adopt asks before it adopts a process; off a terminal, pass --yes".into(),
        ));
    }
    let client = Client::connect(project).await?;
    let found = super::outside::found(&client, &a.service).await?;
    render::found(&found);
    if let Some(why) = found.refused {
        return Err(CliError::Refused(format!("nothing was adopted: {why}")));
    }
    let (Some(pid), Some(start_time)) = (found.pid, found.start_time) else {
        return Err(CliError::Refused(format!(
            "nothing was adopted: the process behind {} could not be named",
            a.service
        )));
    };
    println!();
    let question = format!("Adopt this as managed service '{}'?", a.service);
    if !a.yes && !prompt::confirm(&question).await? {
        println!("Not adopted: nothing was changed.");
        return Err(CliError::Interrupted);
    }
    let req = ExternalRequest {
        service: a.service.clone(),
        pid,
        start_time,
    };
    let adopted = super::outside::adopt(&client, &req).await?;
    println!("✓ Service '{}' adopted", adopted.service);
    Ok(())
}
