//! The API client: HTTP/1.1 over the project's Unix socket, with the daemon
//! started on demand.

use crate::error::CliError;
use anyhow::Context;
use harness_api::{ApiError, ApiErrorKind, CONFIG_HEADER, DaemonInfo, Status, StatusReport};
use harness_store::Project;
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use std::os::unix::process::CommandExt;
use std::time::{Duration, Instant};
use tokio::net::UnixStream;

/// How long to wait for a freshly started daemon to listen.
const DAEMON_START_TIMEOUT: Duration = Duration::from_secs(10);

/// A connection factory for one project's daemon.
pub struct Client {
    project: Project,
}

impl Client {
    /// Connects to the project's daemon, starting it if none runs. One
    /// daemon serves a folder, for one file: a daemon of this folder that
    /// serves another file is replaced if nothing of that file runs, and
    /// otherwise the command is refused (exit 2) — harness never acts on a
    /// file the user did not name.
    pub async fn connect(project: &Project) -> Result<Client, CliError> {
        let client = Client {
            project: project.clone(),
        };
        if UnixStream::connect(project.socket()).await.is_err() {
            client.not_another_files_runs()?;
            client.start_daemon().await?;
        } else {
            client.serve_this_file().await?;
        }
        Ok(client)
    }

    /// With no daemon running: refuses (exit 2) if the state folder is
    /// another file's and a process of it still runs — a daemon started for
    /// this file would refuse it too, less clearly.
    fn not_another_files_runs(&self) -> Result<(), CliError> {
        let db = self.project.database();
        if !db.exists() {
            return Ok(());
        }
        let Ok(store) = harness_store::Store::open_read_only(&db) else {
            return Ok(()); // the daemon reports what is wrong with it
        };
        let Ok(owner) = store.owner(&self.project) else {
            return Ok(());
        };
        let Some((from, stop)) = owner.from_and_stop() else {
            return Ok(());
        };
        let runs = store.runs().unwrap_or_default();
        let live: Vec<&str> = runs
            .iter()
            .filter(|r| r.alive())
            .map(|r| r.unit.key())
            .collect();
        if live.is_empty() {
            return Ok(());
        }
        Err(self.busy_elsewhere(&from, &stop, &live))
    }

    /// The refusal to act beside another file's live runs.
    fn busy_elsewhere(&self, from: &str, stop: &str, names: &[impl AsRef<str>]) -> CliError {
        CliError::Usage(format!(
            "{}; harness runs one file per folder at a time: \
             stop them first (`{stop}`), then use {}",
            harness_store::runs_here(from, names),
            self.project.config.display()
        ))
    }

    /// Makes sure the daemon serves this client's file (see [`Client::connect`]).
    async fn serve_this_file(&self) -> Result<(), CliError> {
        let info: DaemonInfo = self.json(Method::GET, "/v1/info", None).await?;
        let other = std::path::PathBuf::from(&info.config);
        if harness_store::same_file(&other, &self.project.config) {
            return Ok(());
        }
        // The daemon itself decides whether it is idle, between two of its
        // steps, so that no start slips in between a check and its exit.
        let asked = self
            .request(Method::POST, "/v1/shutdown?if_idle=true", None)
            .await;
        if let Err(CliError::Usage(_)) = asked {
            let names = self.busy_names().await?;
            if names.is_empty() {
                return Err(CliError::Usage(format!(
                    "the daemon for {} is busy (a start or stop is in progress); \
                     try again when it is done",
                    other.display()
                )));
            }
            let owner = harness_store::Owner::Another(other.clone());
            let (from, stop) = owner.from_and_stop().unwrap_or_default();
            return Err(self.busy_elsewhere(&from, &stop, &names));
        }
        asked?;
        eprintln!(
            "harness: this folder's daemon served {}, where nothing runs; it now serves {}",
            other.display(),
            self.project.config.display()
        );
        let deadline = Instant::now() + DAEMON_START_TIMEOUT;
        while running(info.pid) && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        if running(info.pid) {
            return Err(anyhow::anyhow!(
                "the daemon for {} (pid {}) did not exit within {:?}",
                other.display(),
                info.pid,
                DAEMON_START_TIMEOUT
            )
            .into());
        }
        self.start_daemon().await?;
        // Another harness may have started its own daemon at the same
        // moment: make sure the one listening is this file's.
        let now: DaemonInfo = self.json(Method::GET, "/v1/info", None).await?;
        if !harness_store::same_file(std::path::Path::new(&now.config), &self.project.config) {
            return Err(CliError::Usage(format!(
                "a daemon for {} started here at the same moment; try again",
                now.config
            )));
        }
        Ok(())
    }

    /// The services of the daemon's file that have a process or are on
    /// their way to or from one.
    async fn busy_names(&self) -> Result<Vec<String>, CliError> {
        let status: StatusReport = self.json(Method::GET, "/v1/status", None).await?;
        Ok(status
            .services
            .into_iter()
            .filter(|s| {
                s.pid.is_some()
                    || matches!(
                        s.status,
                        Status::Starting | Status::Stopping | Status::Restarting
                    )
            })
            .map(|s| s.name)
            .collect())
    }

    /// A client only if a daemon already runs.
    pub async fn existing(project: &Project) -> Option<Client> {
        UnixStream::connect(project.socket()).await.ok()?;
        Some(Client {
            project: project.clone(),
        })
    }

    async fn start_daemon(&self) -> Result<(), CliError> {
        let mut child = self
            .daemon_command()?
            .spawn()
            .context("cannot start the harness daemon")?;
        let deadline = Instant::now() + DAEMON_START_TIMEOUT;
        let mut pause = Duration::from_millis(1);
        loop {
            if UnixStream::connect(self.project.socket()).await.is_ok() {
                return Ok(());
            }
            if let Ok(Some(status)) = child.try_wait()
                && !self.another_daemon_starts(child.id())
            {
                return Err(anyhow::anyhow!(
                    "the harness daemon exited at start ({status}):\n{}",
                    self.daemon_log_tail(5)
                )
                .into());
            }
            if Instant::now() > deadline {
                return Err(anyhow::anyhow!(
                    "the harness daemon did not start listening within {:?}; see {}",
                    DAEMON_START_TIMEOUT,
                    self.project.daemon_log().display()
                )
                .into());
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(50));
        }
    }

    /// Whether a daemon other than `ours` holds the project's lock: two
    /// commands that found no daemon at the same moment both start one,
    /// the second exits at once, and its command waits for the first to
    /// listen instead of failing.
    fn another_daemon_starts(&self, ours: u32) -> bool {
        std::fs::read_to_string(self.project.lock())
            .ok()
            .and_then(|t| t.trim().parse::<u32>().ok())
            .is_some_and(|pid| pid != ours && running(pid))
    }

    /// `harness -f FILE daemon run`, detached, its output in `daemon.log`.
    fn daemon_command(&self) -> Result<std::process::Command, CliError> {
        harness_store::private::dir(&self.project.state_dir())?;
        let log = harness_store::private::append(&self.project.daemon_log())?;
        let exe = std::env::current_exe().context("cannot find the harness executable")?;
        let mut cmd = std::process::Command::new(exe);
        cmd.arg("-f")
            .arg(&self.project.config)
            .args(["daemon", "run"])
            .current_dir(&self.project.root)
            .stdin(std::process::Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log);
        // A session of its own: no controlling terminal, so closing the
        // terminal that started it (SIGHUP) or Ctrl-C there never reaches
        // the daemon or the services.
        // SAFETY: setsid is async-signal-safe and touches no memory.
        unsafe {
            cmd.pre_exec(|| {
                if libc::setsid() == -1 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        Ok(cmd)
    }

    /// The last `n` lines of `daemon.log`.
    fn daemon_log_tail(&self, n: usize) -> String {
        let text = std::fs::read_to_string(self.project.daemon_log()).unwrap_or_default();
        let mut last: Vec<&str> = text.lines().rev().take(n).collect();
        last.reverse();
        last.join("\n")
    }

    /// Sends a request; returns the response with its body still streaming.
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        body: Option<String>,
    ) -> Result<Response<Incoming>, CliError> {
        let stream = UnixStream::connect(self.project.socket())
            .await
            .with_context(|| {
                format!(
                    "cannot reach the harness daemon at {}",
                    self.project.socket().display()
                )
            })?;
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .context("daemon handshake")?;
        tokio::spawn(conn);
        let req = Request::builder()
            .method(method)
            .uri(path)
            .header(hyper::header::HOST, "harness")
            .header(hyper::header::CONTENT_TYPE, "application/json")
            .header(CONFIG_HEADER, config_header(&self.project.config))
            .body(Full::new(Bytes::from(body.unwrap_or_default())))
            .context("build request")?;
        let resp = sender.send_request(req).await.context("daemon request")?;
        if resp.status() != StatusCode::OK {
            let bytes = resp
                .into_body()
                .collect()
                .await
                .context("read error")?
                .to_bytes();
            let e: ApiError = serde_json::from_slice(&bytes).unwrap_or(ApiError {
                error: String::from_utf8_lossy(&bytes).into_owned(),
                kind: ApiErrorKind::Internal,
            });
            return Err(match e.kind {
                ApiErrorKind::Usage => CliError::Usage(e.error),
                ApiErrorKind::Config => CliError::Config(e.error),
                ApiErrorKind::Refused => CliError::Refused(e.error),
                ApiErrorKind::Internal | ApiErrorKind::Busy | ApiErrorKind::Changed => {
                    CliError::Internal(anyhow::anyhow!(e.error))
                }
            });
        }
        Ok(resp)
    }

    /// A request whose whole answer is JSON.
    pub async fn json<T: serde::de::DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<String>,
    ) -> Result<T, CliError> {
        let resp = self.request(method, path, body).await?;
        let bytes = resp
            .into_body()
            .collect()
            .await
            .context("read answer")?
            .to_bytes();
        Ok(serde_json::from_slice(&bytes).context("decode answer")?)
    }
}

/// A path as the config header carries it: percent-encoded bytes, so any
/// path (not only ASCII, not only UTF-8) goes through intact.
fn config_header(path: &std::path::Path) -> String {
    use std::os::unix::ffi::OsStrExt;
    const KEEP: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'/')
        .remove(b'.')
        .remove(b'-')
        .remove(b'_');
    percent_encoding::percent_encode(path.as_os_str().as_bytes(), KEEP).to_string()
}

/// Whether process `pid` still runs. A zombie has exited: it only waits
/// for its parent (for a daemon, whoever inherited it) to reap it, which
/// some inits do late.
pub fn running(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            let (_, rest) = stat.rsplit_once(')')?;
            rest.split_whitespace().next().map(|state| state != "Z")
        })
        .unwrap_or(false)
}

/// Reads Server-Sent Events from a response body: `(event, data)` pairs.
pub struct SseReader {
    body: Incoming,
    buf: Vec<u8>,
}

impl SseReader {
    /// Wraps a streaming body.
    pub fn new(resp: Response<Incoming>) -> Self {
        SseReader {
            body: resp.into_body(),
            buf: Vec::new(),
        }
    }

    /// The next event, or `None` at the end of the stream.
    pub async fn next(&mut self) -> Result<Option<(String, String)>, CliError> {
        loop {
            if let Some(pos) = self.buf.windows(2).position(|w| w == b"\n\n") {
                let block: Vec<u8> = self.buf.drain(..pos + 2).collect();
                let text = String::from_utf8_lossy(&block);
                let (mut event, mut data) = (String::new(), String::new());
                for line in text.lines() {
                    if let Some(v) = line.strip_prefix("event:") {
                        event = v.trim().to_string();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push_str(v.strip_prefix(' ').unwrap_or(v));
                    }
                }
                if event.is_empty() && data.is_empty() {
                    continue; // keep-alive comment
                }
                return Ok(Some((event, data)));
            }
            match self.body.frame().await {
                None => return Ok(None),
                Some(frame) => {
                    let frame = frame.context("event stream")?;
                    if let Ok(data) = frame.into_data() {
                        self.buf.extend_from_slice(&data);
                    }
                }
            }
        }
    }
}
