//! Health probes observe; the engine judges. A probe returns whether it
//! passed and what it saw, within its timeout.

use harness_core::config::Probe;
use harness_core::engine::ProbeSpec;
use harness_store::Project;
use std::time::{Duration, Instant};

/// What one probe saw.
#[derive(Debug, Clone)]
pub struct ProbeOutcome {
    /// Passed.
    pub ok: bool,
    /// What happened, for `harness health`.
    pub detail: String,
    /// How long it took.
    pub took: Duration,
}

/// Runs the probe `spec` once.
pub async fn run(project: &Project, spec: &ProbeSpec) -> ProbeOutcome {
    let started = Instant::now();
    let check = &spec.check;
    let (ok, detail) = match probe_once(project, spec, &check.probe, check.timeout).await {
        Ok(detail) => (true, detail),
        Err(detail) => (false, detail),
    };
    ProbeOutcome {
        ok,
        detail,
        took: started.elapsed(),
    }
}

async fn within(
    timeout: Duration,
    f: impl std::future::Future<Output = Result<String, String>>,
) -> Result<String, String> {
    tokio::time::timeout(timeout, f)
        .await
        .unwrap_or_else(|_| Err(timed_out(timeout)))
}

fn timed_out(timeout: Duration) -> String {
    format!("timed out after {}", harness_core::duration::human(timeout))
}

async fn probe_once(
    project: &Project,
    spec: &ProbeSpec,
    probe: &Probe,
    timeout: Duration,
) -> Result<String, String> {
    match probe {
        Probe::Tcp(addr) => {
            within(timeout, async {
                tokio::net::TcpStream::connect(addr.as_str())
                    .await
                    .map(|_| format!("connected to {addr}"))
                    .map_err(|e| format!("cannot connect to {addr}: {e}"))
            })
            .await
        }
        Probe::Http(url) => within(timeout, http_get(url)).await,
        Probe::Command(cmd) => {
            let cwd = match &spec.working_dir {
                Some(dir) => project.root.join(dir),
                None => project.root.clone(),
            };
            // Its own process group: a probe that overruns its timeout is
            // killed with everything it started.
            let mut child = tokio::process::Command::new("sh");
            // SAFETY: `restore` is async-signal-safe.
            unsafe { child.pre_exec(crate::fd_limit::restore) };
            let mut child = child
                .arg("-c")
                .arg(cmd)
                .current_dir(cwd)
                .envs(spec.env.iter().map(|(k, v)| (k, v)))
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .process_group(0)
                .kill_on_drop(true)
                .spawn()
                .map_err(|e| format!("cannot run `{cmd}`: {e}"))?;
            let pgid = child.id();
            let status = match tokio::time::timeout(timeout, child.wait()).await {
                Ok(status) => status.map_err(|e| format!("`{cmd}`: {e}"))?,
                Err(_) => {
                    if let Some(pgid) = pgid {
                        crate::process::ProcessGroup(pgid).signal(libc::SIGKILL);
                    }
                    let _ = child.wait().await;
                    return Err(timed_out(timeout));
                }
            };
            match status.code() {
                Some(0) => Ok(format!("`{cmd}` exited 0")),
                Some(c) => Err(format!("`{cmd}` exited {c}")),
                None => Err(format!("`{cmd}` was killed")),
            }
        }
    }
}

/// A GET that must answer 2xx (or 3xx).
async fn http_get(url: &str) -> Result<String, String> {
    let uri: hyper::Uri = url.parse().map_err(|e| format!("bad url {url}: {e}"))?;
    if uri.scheme_str() != Some("http") {
        return Err(format!("only http:// urls can be probed, not {url}"));
    }
    let host = uri.host().ok_or("url has no host")?.to_string();
    let port = uri.port_u16().unwrap_or(80);
    let stream = tokio::net::TcpStream::connect((host.as_str(), port))
        .await
        .map_err(|e| format!("cannot connect to {host}:{port}: {e}"))?;
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .map_err(|e| e.to_string())?;
    tokio::spawn(conn);
    let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let req = hyper::Request::get(path)
        .header(hyper::header::HOST, format!("{host}:{port}"))
        .header("user-agent", "harness-probe")
        .body(http_body_util::Empty::<hyper::body::Bytes>::new())
        .map_err(|e| e.to_string())?;
    let resp = sender.send_request(req).await.map_err(|e| e.to_string())?;
    let status = resp.status();
    if status.is_success() || status.is_redirection() {
        Ok(format!("HTTP {}", status.as_u16()))
    } else {
        Err(format!("HTTP {}", status.as_u16()))
    }
}
