//! Runs the `echo_server` and `http_server` examples as a user would: each prints its address
//! only once it listens (the server is started with `tg.start`), serves a client on that
//! address, shuts down gracefully on SIGTERM with its report, and turns a failed bind into a
//! clear error and exit status 1 instead of a hang.
//!
//! At scale: the echo server holds 10,000 connections at once on both flavours, echoes on every
//! one, and is back to the file descriptors it started with once they close.
//!
//! Real sockets on 127.0.0.1 only; every wait is bounded by a generous deadline, so a broken
//! server fails the test instead of hanging it.

// Shared with `examples_behave`; this file uses only `binary`, `lines_of` and `matches`.
#[allow(dead_code)]
mod support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use support::{binary, lines_of, matches};

#[path = "../fd_limit.rs"]
mod fd_limit;

/// How long any single step may take before the test fails instead of hanging.
const DEADLINE: Duration = Duration::from_secs(20);

/// A running example, its stdout read line by line on a thread.
struct Server {
    name: &'static str,
    child: Child,
    lines: Receiver<String>,
}

impl Server {
    fn start(name: &'static str, args: &[&str]) -> Server {
        let mut child = Command::new(binary(name))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|err| panic!("could not run {name}: {err}"));
        let lines = lines_of(child.stdout.take().unwrap());
        Server { name, child, lines }
    }

    /// The next line on stdout; `None` once stdout is closed.
    fn next_line(&self) -> Option<String> {
        match self.lines.recv_timeout(DEADLINE) {
            Ok(line) => Some(line),
            Err(mpsc::RecvTimeoutError::Disconnected) => None,
            Err(mpsc::RecvTimeoutError::Timeout) => panic!("{} printed nothing in time", self.name),
        }
    }

    /// The address from the first line, which must match `pattern` (`#` a digit, `*` any text).
    fn listening(&self, pattern: &str) -> SocketAddr {
        let line = self.next_line().expect("a first line");
        assert!(matches(pattern, &line), "{}: got {line:?}", self.name);
        let start = line.find("127.0.0.1:").expect("an address on 127.0.0.1");
        let addr: String = line[start..]
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '.' || *c == ':')
            .collect();
        addr.parse().unwrap()
    }

    /// Asks the server to shut down, as `kill` or a service manager would.
    fn terminate(&self) {
        let pid = libc::pid_t::try_from(self.child.id()).unwrap();
        // SAFETY: `kill` only sends a signal; `pid` is our own child, not yet waited for, so
        // the id cannot have been reused by another process.
        let sent = unsafe { libc::kill(pid, libc::SIGTERM) };
        assert_eq!(sent, 0, "could not signal {}", self.name);
    }

    /// Waits for the process to exit (within the deadline) and returns its status, its
    /// remaining stdout lines and its stderr.
    fn wait(mut self) -> (ExitStatus, Vec<String>, String) {
        let start = Instant::now();
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if start.elapsed() > DEADLINE {
                self.child.kill().unwrap();
                panic!("{} did not exit in time", self.name);
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        let rest = std::iter::from_fn(|| self.next_line()).collect();
        let mut stderr = String::new();
        self.child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        (status, rest, stderr)
    }

    /// Sends SIGTERM and checks the shutdown: `client`'s idle connection is closed (end of
    /// file), and the server exits successfully, printing only `report` from then on and
    /// nothing on stderr.
    fn terminate_expecting(self, mut client: TcpStream, report: &str) {
        self.terminate();
        let mut rest = Vec::new();
        assert_eq!(client.read_to_end(&mut rest).unwrap(), 0);
        let (status, lines, stderr) = self.wait();
        assert!(status.success(), "{status}; stderr: {stderr}");
        assert_eq!(lines, [report]);
        assert_eq!(stderr, "");
    }
}

fn connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(DEADLINE)).unwrap();
    stream
}

#[test]
fn the_echo_server_serves_once_listening_and_shuts_down_gracefully_on_sigterm() {
    // A grace period longer than the deadline: an idle connection must close without it.
    let server = Server::start("echo_server", &["--max-conns", "1", "--grace", "60"]);
    let addr =
        server.listening("echo server listening on 127.0.0.1:#* (at most 1 connections at once)");
    let mut client = connect(addr);
    client.write_all(b"ping").unwrap();
    let mut echoed = [0; 4];
    client.read_exact(&mut echoed).unwrap();
    assert_eq!(&echoed, b"ping");

    // The idle connection is closed at once: end-of-file.
    server.terminate_expecting(
        client,
        "shut down: 1 connections accepted, 1 finished, 0 shed, 0 cancelled",
    );
}

#[test]
fn the_http_server_serves_once_listening_and_shuts_down_gracefully_on_sigterm() {
    let server = Server::start("http_server", &["--max-conns", "2"]);
    let addr = server.listening("http server listening on http://127.0.0.1:#*/");
    let mut client = connect(addr);
    client
        .write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .unwrap();
    // The response ends with its 13-byte body; the connection stays open (keep-alive).
    let mut response = Vec::new();
    let mut byte = [0];
    while !response.ends_with(b"Hello, world!") {
        client.read_exact(&mut byte).unwrap();
        response.push(byte[0]);
    }
    assert!(response.starts_with(b"HTTP/1.1 200 OK\r\n"));

    // hyper's graceful shutdown closes the idle keep-alive connection.
    server.terminate_expecting(
        client,
        "shut down: 1 connections accepted, 1 closed gracefully, 0 cancelled",
    );
}

#[test]
fn the_http_server_closes_idle_and_stuck_connections_and_sheds_the_oldest_when_full() {
    let server = Server::start("http_server", &["--max-conns", "2", "--idle-timeout", "1"]);
    let addr = server.listening("http server listening on http://127.0.0.1:#*/");
    let get = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    let read_response = |client: &mut TcpStream| {
        let mut response = Vec::new();
        let mut byte = [0];
        while !response.ends_with(b"Hello, world!") {
            client.read_exact(&mut byte).unwrap();
            response.push(byte[0]);
        }
    };
    let closed = |client: &mut TcpStream| {
        let mut rest = Vec::new();
        matches!(client.read_to_end(&mut rest), Ok(0))
    };

    // Full: a keep-alive connection after its request, and one stuck in its headers.
    let start = Instant::now();
    let mut idle = connect(addr);
    idle.write_all(get).unwrap();
    read_response(&mut idle);
    let mut stuck = connect(addr);
    stuck.write_all(b"GET / HTTP/1.1\r\nHost: 127.0").unwrap();
    std::thread::sleep(Duration::from_millis(100));
    // A third client is served at once, in the slot of `idle`, idle longest.
    let mut third = connect(addr);
    third.write_all(get).unwrap();
    read_response(&mut third);
    assert!(
        start.elapsed() < Duration::from_secs(1),
        "served before any idle timeout"
    );
    assert!(closed(&mut idle), "the connection idle longest was shed");
    // Then the idle timeout closes the stuck one and the third, idle after its answer.
    assert!(
        closed(&mut stuck),
        "the connection stuck in its headers was closed"
    );
    assert!(
        closed(&mut third),
        "the idle keep-alive connection was closed"
    );
    assert!(start.elapsed() >= Duration::from_secs(1));

    server.terminate();
    let (status, lines, stderr) = server.wait();
    assert!(status.success(), "{status}; stderr: {stderr}");
    assert_eq!(
        lines,
        ["shut down: 3 connections accepted, 3 closed gracefully, 0 cancelled"]
    );
}

#[test]
fn a_server_that_cannot_bind_says_why_and_exits() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    for name in ["echo_server", "http_server"] {
        let (status, lines, stderr) = Server::start(name, &[&port]).wait();
        assert_eq!(status.code(), Some(1), "{name}: {status}");
        assert!(lines.is_empty(), "{name} printed {lines:?}");
        let want = format!(
            "{name}: 1 task of the group failed: * server returned an error: could not bind a TCP \
             listener on 127.0.0.1:{port}: *"
        );
        assert!(matches(&want, stderr.trim_end()), "{name}: {stderr:?}");
    }
}

/// How many connections the scale test opens: 10,000, or fewer where the hard limit on open
/// files is too low for them (this process holds the client ends; the server, a child process,
/// raises its own soft limit to the same hard limit for the server ends).
const SCALE: usize = 10_000;

/// Raises this process's soft limit on open files to the hard limit; returns how many
/// connections fit under it (with room for the test's other descriptors).
fn connections_that_fit() -> usize {
    let limit = fd_limit::raise_fd_limit().expect("the limit on open files can be raised");
    let fit = usize::try_from(limit)
        .unwrap_or(usize::MAX)
        .saturating_sub(256);
    if fit < SCALE {
        eprintln!(
            "the hard limit on open files is {limit}: opening {fit} connections, not {SCALE}"
        );
    }
    fit.min(SCALE)
}

/// The server's open file descriptors.
fn fds_of(server: &Server) -> usize {
    std::fs::read_dir(format!("/proc/{}/fd", server.child.id()))
        .unwrap()
        .count()
}

/// Waits (within the deadline) until the server has exactly `want` descriptors open.
fn wait_for_fds(server: &Server, want: usize) {
    let start = Instant::now();
    while fds_of(server) != want {
        assert!(
            start.elapsed() < DEADLINE,
            "the server holds {} descriptors, {want} before the clients came",
            fds_of(server)
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
#[cfg(target_os = "linux")]
fn ten_thousand_connections_echo_at_once_on_both_flavours_and_leave_no_fd() {
    let n = connections_that_fit();
    for flavour in [&[][..], &["--workers", "2"][..]] {
        let mut args = vec!["--max-conns", "10240"];
        args.extend_from_slice(flavour);
        let server = Server::start("echo_server", &args);
        let addr = server.listening("echo server listening on 127.0.0.1:#* *");
        let before = fds_of(&server);
        // One client first: the server opens nothing lazily that it keeps.
        let mut first = connect(addr);
        first.write_all(b"warm").unwrap();
        first.read_exact(&mut [0; 4]).unwrap();
        drop(first);
        wait_for_fds(&server, before);
        let start = Instant::now();

        // Each client echoes once as it connects, so the server has accepted it before the
        // next connects (the backlog never overflows), and all stay open.
        let mut clients = Vec::with_capacity(n);
        for i in 0..n {
            let mut client = connect(addr);
            let message = u32::try_from(i).unwrap().to_le_bytes();
            client.write_all(&message).unwrap();
            let mut echoed = [0; 4];
            client.read_exact(&mut echoed).unwrap();
            assert_eq!(echoed, message);
            clients.push(client);
        }
        assert_eq!(fds_of(&server), before + n, "one descriptor per connection");
        // All open at once: a second echo on every one, in reverse order.
        for (i, client) in clients.iter_mut().enumerate().rev() {
            let message = u32::try_from(i).unwrap().to_be_bytes();
            client.write_all(&message).unwrap();
            let mut echoed = [0; 4];
            client.read_exact(&mut echoed).unwrap();
            assert_eq!(echoed, message);
        }
        drop(clients);
        wait_for_fds(&server, before);
        let took = start.elapsed();

        server.terminate();
        let (status, lines, stderr) = server.wait();
        assert!(status.success(), "{status}; stderr: {stderr}");
        let report = format!(
            "shut down: {} connections accepted, {} finished, 0 shed, 0 cancelled",
            n + 1,
            n + 1
        );
        assert_eq!(lines, [report]);
        println!(
            "{n} connections, flavour {flavour:?}: {:.2} s",
            took.as_secs_f64()
        );
    }
}
