//! `hk`: fixture programs for harness's tests, benchmarks and examples.
//!
//! - `hk serve PORT [--after MS] [--fail-health]` — after MS ms, listen on
//!   127.0.0.1:PORT and answer every HTTP request 200 (503 with
//!   `--fail-health`).
//! - `hk listen PORT [--after MS]` — after MS ms, listen on 127.0.0.1:PORT,
//!   print `listening on PORT`, and accept connections only to close them:
//!   enough for a TCP check, with nothing said.
//! - `hk lines N` — print N numbered lines as fast as possible, then sleep.
//! - `hk flood N SIZE` — print N lines of SIZE bytes (every tenth to
//!   stderr, the rest to stdout, each through an 8 KiB buffer), then
//!   `flood_ns=…` (how long the writing took, on stderr) and exit: how
//!   fast a service can log, the log path's throughput.
//! - `hk ignore-term` — ignore SIGTERM and sleep (needs SIGKILL).
//! - `hk crash [MS]` — exit 1 after MS ms (default 0).
//! - `hk notify [MS] [--exit]` — after MS ms, print `ready_ns=…` and send
//!   `READY=1` to `$NOTIFY_SOCKET` (systemd's sd_notify), then sleep; with
//!   `--exit`, exit at once instead, as `systemd-notify --ready` does.
//! - `hk activated NAME [--after MS]` — a socket-activated server: takes
//!   its listener from fd 3 (checking `LISTEN_FDS` and `LISTEN_PID` as
//!   `sd_listen_fds` does), after MS ms sends `READY=1` to
//!   `$NOTIFY_SOCKET`, and answers every request `NAME`. On SIGTERM it
//!   stops accepting, finishes the request in hand and exits 0 — what a
//!   server that hands its port over gracefully does.

use std::io::{Read, Write};
use std::time::Duration;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| args.get(i).map(String::as_str).unwrap_or("");
    let flag = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse::<u64>().ok())
    };
    match arg(0) {
        "serve" => serve(
            arg(1).parse().unwrap_or(8080),
            flag("--after").unwrap_or(0),
            args.iter().any(|a| a == "--fail-health"),
        ),
        "listen" => listen(arg(1).parse().unwrap_or(8080), flag("--after").unwrap_or(0)),
        "lines" => {
            let n: u64 = arg(1).parse().unwrap_or(1000);
            let mut out = std::io::stdout().lock();
            for i in 1..=n {
                let _ = writeln!(out, "line {i}");
            }
            let _ = out.flush();
            sleep_forever();
        }
        "flood" => {
            let n: u64 = arg(1).parse().unwrap_or(300_000);
            let size: usize = arg(2).parse().unwrap_or(100);
            let t0 = std::time::Instant::now();
            let mut out = std::io::BufWriter::with_capacity(8192, std::io::stdout().lock());
            let mut err = std::io::BufWriter::with_capacity(8192, std::io::stderr().lock());
            let body = "x".repeat(size.saturating_sub(12));
            for i in 0..n {
                let w: &mut dyn Write = if i % 10 == 9 { &mut err } else { &mut out };
                let _ = writeln!(w, "{i:>10} {body}");
            }
            let _ = out.flush();
            let _ = err.flush();
            let took = t0.elapsed().as_nanos();
            let _ = writeln!(err, "flood_ns={took}");
            let _ = err.flush();
        }
        "ignore-term" => {
            // SAFETY: SIG_IGN is a valid disposition for SIGTERM.
            unsafe { libc::signal(libc::SIGTERM, libc::SIG_IGN) };
            println!("ignoring SIGTERM");
            sleep_forever();
        }
        "notify" => {
            println!("started_ns={}", now_ns());
            std::thread::sleep(Duration::from_millis(arg(1).parse().unwrap_or(0)));
            let path = std::env::var("NOTIFY_SOCKET").unwrap_or_default();
            let sock = std::os::unix::net::UnixDatagram::unbound().expect("socket");
            println!("ready_ns={}", now_ns());
            if let Err(e) = sock.send_to(b"STATUS=serving\nREADY=1\n", &path) {
                eprintln!("cannot notify {path:?}: {e}");
                std::process::exit(1);
            }
            if args.iter().any(|a| a == "--exit") {
                return;
            }
            sleep_forever();
        }
        "activated" => activated(arg(1), flag("--after").unwrap_or(0)),
        "crash" => {
            std::thread::sleep(Duration::from_millis(arg(1).parse().unwrap_or(0)));
            eprintln!("crashing on purpose");
            std::process::exit(1);
        }
        _ => {
            eprintln!(
                "usage: hk serve PORT [--after MS] [--fail-health] | listen PORT [--after MS] | lines N | ignore-term | crash [MS] | notify [MS] [--exit] | activated NAME [--after MS]"
            );
            std::process::exit(2);
        }
    }
}

fn sleep_forever() -> ! {
    loop {
        std::thread::sleep(Duration::from_secs(3600));
    }
}

/// Wall-clock nanoseconds, for measuring hand-offs across processes.
fn now_ns() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}

fn listen(port: u16, after_ms: u64) -> ! {
    std::thread::sleep(Duration::from_millis(after_ms));
    let listener = match std::net::TcpListener::bind(("127.0.0.1", port)) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("cannot listen on 127.0.0.1:{port}: {e}");
            std::process::exit(1);
        }
    };
    println!("listening on {port}");
    // Accepted and closed at once: a check that connects again and again
    // never fills the backlog.
    for stream in listener.incoming() {
        drop(stream);
    }
    sleep_forever()
}

fn serve(port: u16, after_ms: u64, fail: bool) {
    println!("started_ns={}", now_ns());
    std::thread::sleep(Duration::from_millis(after_ms));
    let listener = match std::net::TcpListener::bind(("127.0.0.1", port)) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("cannot listen on 127.0.0.1:{port}: {e}");
            std::process::exit(1);
        }
    };
    println!("listening on 127.0.0.1:{port} listening_ns={}", now_ns());
    for stream in listener.incoming().flatten() {
        let mut stream = stream;
        let mut buf = [0u8; 1024];
        let _ = stream.set_read_timeout(Some(Duration::from_millis(200)));
        let _ = stream.read(&mut buf);
        let status = if fail {
            "503 Service Unavailable"
        } else {
            "200 OK"
        };
        let _ = write!(
            stream,
            "HTTP/1.1 {status}\r\ncontent-length: 3\r\nconnection: close\r\n\r\nok\n"
        );
    }
}

static TERM: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

extern "C" fn on_term(_: libc::c_int) {
    TERM.store(true, std::sync::atomic::Ordering::SeqCst);
}

fn activated(name: &str, after_ms: u64) {
    use std::os::fd::FromRawFd;
    let pid_ok = std::env::var("LISTEN_PID").ok() == Some(std::process::id().to_string());
    let fds_ok = std::env::var("LISTEN_FDS").ok().as_deref() == Some("1");
    if !pid_ok || !fds_ok {
        eprintln!(
            "not socket-activated: LISTEN_FDS={:?} LISTEN_PID={:?} (my pid {})",
            std::env::var("LISTEN_FDS"),
            std::env::var("LISTEN_PID"),
            std::process::id()
        );
        std::process::exit(1);
    }
    // SAFETY: LISTEN_FDS=1 for this pid: fd 3 is the listener handed over.
    let listener = unsafe { std::net::TcpListener::from_raw_fd(3) };
    let _ = listener.set_nonblocking(true);
    // SAFETY: the handler only stores to an atomic.
    unsafe { libc::signal(libc::SIGTERM, on_term as *const () as libc::sighandler_t) };
    std::thread::sleep(Duration::from_millis(after_ms));
    let path = std::env::var("NOTIFY_SOCKET").unwrap_or_default();
    let sock = std::os::unix::net::UnixDatagram::unbound().expect("socket");
    let _ = sock.send_to(b"READY=1\n", &path);
    println!("{name} serving (pid {})", std::process::id());
    let fd = 3;
    while !TERM.load(std::sync::atomic::Ordering::SeqCst) {
        let mut pfd = libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        unsafe { libc::poll(&mut pfd, 1, 20) };
        match listener.accept() {
            Ok((mut stream, _)) => {
                let _ = stream.set_nonblocking(false);
                // Long enough for a client that a loaded machine has not
                // scheduled yet: answering before its request came, then
                // closing, would reset its connection.
                let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
                let mut buf = [0u8; 1024];
                let _ = stream.read(&mut buf);
                let body = format!("{name}\n");
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => eprintln!("accept: {e}"),
        }
    }
    println!("{name} stopping: SIGTERM");
}
