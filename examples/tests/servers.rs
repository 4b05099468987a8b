//! Runs the `echo_server` and `http_server` examples as a user would: each prints its address
//! only once it listens (the server is started with `tg.start`), serves a client on that
//! address, shuts down gracefully on SIGTERM with its report, and turns a failed bind into a
//! clear error and exit status 1 instead of a hang.
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
        "shut down: 1 connections accepted, 1 finished, 0 cancelled",
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
