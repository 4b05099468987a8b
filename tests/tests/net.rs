//! `tether::net` on real loopback sockets (127.0.0.1 only), on both flavours: connect and
//! accept, reads, writes, end of file and half-close, errors that name their address, many
//! connections at once, cancelled reads and accepts that lose nothing, and wake-ups from other
//! threads while the loop sits in its poller.
//!
//! Real sockets follow the real clock: every wait is bounded by `DEADLINE`, and a healthy run of
//! the whole file takes well under a second.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::time::Duration;

use futures::io::{AsyncReadExt, AsyncWriteExt};
use tether::net::{TcpListener, TcpStream, UdpSocket};

/// How long any single step may take before the test fails instead of hanging: generous,
/// since the machine may be loaded (a thousand connects at once can overflow the listen
/// backlog, and the kernel then retries a SYN only after a second or more). A healthy run of
/// the whole file takes about two seconds.
const DEADLINE: Duration = Duration::from_secs(60);

async fn bounded<T>(future: impl Future<Output = T>) -> T {
    tether::timeout(DEADLINE, future)
        .await
        .expect("the step finished in time")
}

async fn listen() -> (TcpListener, SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    (listener, addr)
}

/// A connected pair: (client, server).
async fn pair() -> (TcpStream, TcpStream) {
    let (listener, addr) = listen().await;
    let client = tether::create_task(async move { TcpStream::connect(addr).await.unwrap() });
    let (server, peer) = bounded(listener.accept()).await.unwrap();
    let client = client.await.unwrap();
    assert_eq!(peer, client.local_addr().unwrap());
    assert_eq!(server.local_addr().unwrap(), client.peer_addr().unwrap());
    (client, server)
}

async fn accept_and_connect() {
    let (listener, addr) = listen().await;
    assert!(addr.ip().is_loopback() && addr.port() != 0);
    let client = tether::create_task(async move { TcpStream::connect(addr).await });
    let (server, peer) = bounded(listener.accept()).await.unwrap();
    let client = client.await.unwrap().unwrap();
    assert_eq!(peer, client.local_addr().unwrap());
    assert_eq!(server.peer_addr().unwrap(), peer);
    client.set_nodelay(true).unwrap();
    assert!(client.nodelay().unwrap());
}

async fn read_write_eof_and_half_close() {
    let (mut client, mut server) = pair().await;
    client.write_all(b"request").await.unwrap();
    client.shutdown(Shutdown::Write).unwrap();
    // The server reads up to the client's half-close...
    let mut got = Vec::new();
    bounded(server.read_to_end(&mut got)).await.unwrap();
    assert_eq!(got, b"request");
    // ...and end of file stays end of file.
    assert_eq!(server.read(&mut [0; 8]).await.unwrap(), 0);
    // The other direction is still open.
    server.write_all(b"response").await.unwrap();
    drop(server);
    let mut got = Vec::new();
    bounded(client.read_to_end(&mut got)).await.unwrap();
    assert_eq!(got, b"response");
}

async fn large_transfers_in_both_directions_at_once() {
    // More than the socket buffers hold, so writes block and resume on writability.
    const LEN: usize = 4 << 20;
    let (client, server) = pair().await;
    let (mut client_read, mut client_write) = client.into_split();
    let echo = tether::create_task(async move {
        let (mut reader, mut writer) = server.into_split();
        futures::io::copy(&mut reader, &mut writer).await.unwrap()
    });
    let data: Vec<u8> = (0..LEN).map(|i| (i % 251) as u8).collect();
    let sender = {
        let data = data.clone();
        tether::create_task(async move {
            client_write.write_all(&data).await.unwrap();
            // Dropping the write half half-closes: the echo's copy ends.
        })
    };
    let mut echoed = Vec::with_capacity(LEN);
    bounded(client_read.read_to_end(&mut echoed)).await.unwrap();
    sender.await.unwrap();
    assert_eq!(echo.await.unwrap(), LEN as u64);
    assert!(echoed == data, "the echo came back intact");
}

async fn a_thousand_connections_at_once() {
    // 2,000 sockets in this process (both ends); the soft limit must allow them.
    const CONNECTIONS: usize = 1000;
    raise_fd_limit(2 * CONNECTIONS as u64 + 256);
    let (listener, addr) = listen().await;
    let server = tether::create_task(async move {
        let mut connections = tether::TaskSet::new();
        for _ in 0..CONNECTIONS {
            let (mut stream, _) = listener.accept().await.unwrap();
            connections.create_task(async move {
                let mut buf = [0; 8];
                stream.read_exact(&mut buf).await.unwrap();
                stream.write_all(&buf).await.unwrap();
            });
        }
        while let Some(done) = connections.join_next().await {
            done.unwrap();
        }
    });
    let clients: Vec<_> = (0..CONNECTIONS)
        .map(|i| {
            tether::create_task(async move {
                let mut stream = TcpStream::connect(addr).await.unwrap();
                let message = (i as u64).to_le_bytes();
                stream.write_all(&message).await.unwrap();
                let mut echoed = [0; 8];
                stream.read_exact(&mut echoed).await.unwrap();
                assert_eq!(echoed, message);
            })
        })
        .collect();
    bounded(async {
        for client in clients {
            client.await.unwrap();
        }
        server.await.unwrap();
    })
    .await;
}

async fn a_cancelled_read_loses_no_data() {
    let (mut client, mut server) = pair().await;
    // Nothing to read yet: the read is cancelled by its timeout.
    let mut buf = [0; 16];
    let cancelled = tether::timeout(Duration::from_millis(20), server.read(&mut buf)).await;
    assert!(cancelled.is_err(), "nothing was sent yet");
    client.write_all(b"first").await.unwrap();
    // A read cancelled after data arrived but before it was polled takes nothing either.
    {
        let read = server.read(&mut buf);
        drop(read);
    }
    client.write_all(b" second").await.unwrap();
    let mut got = [0; 12];
    bounded(server.read_exact(&mut got)).await.unwrap();
    assert_eq!(&got, b"first second");
}

async fn a_cancelled_accept_loses_no_connection() {
    let (listener, addr) = listen().await;
    let cancelled = tether::timeout(Duration::from_millis(20), listener.accept()).await;
    assert!(cancelled.is_err(), "nobody connected yet");
    let mut client = TcpStream::connect(addr).await.unwrap();
    // The connection waits in the backlog while no accept runs, and is not lost to a dropped
    // accept future either.
    drop(listener.accept());
    let (mut server, _) = bounded(listener.accept()).await.unwrap();
    client.write_all(b"x").await.unwrap();
    let mut byte = [0];
    bounded(server.read_exact(&mut byte)).await.unwrap();
    assert_eq!(&byte, b"x");
}

async fn a_refused_connection_names_its_address() {
    // A port that was just free: bind, note it, close.
    let (listener, addr) = listen().await;
    drop(listener);
    let error = TcpStream::connect(addr).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::ConnectionRefused);
    let message = error.to_string();
    assert!(message.contains(&addr.to_string()), "{message}");
    assert!(message.starts_with("could not connect to"), "{message}");
}

async fn a_port_in_use_names_its_address() {
    let (_listener, addr) = listen().await;
    let error = TcpListener::bind(addr).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::AddrInUse);
    let message = error.to_string();
    assert!(message.contains(&addr.to_string()), "{message}");
    assert!(message.contains("could not bind"), "{message}");
}

async fn another_thread_wakes_the_loop_in_its_poller() {
    // The loop's only task waits for a wake-up from a plain thread, so the loop blocks in its
    // poller; the thread's blocking socket and its channel message both must get through.
    let (listener, addr) = listen().await;
    let (sent, received) = futures::channel::oneshot::channel();
    let thread = std::thread::spawn(move || {
        let mut stream = std::net::TcpStream::connect(addr).unwrap();
        stream.write_all(b"from a thread").unwrap();
        sent.send(()).unwrap();
        let mut reply = [0; 5];
        stream.read_exact(&mut reply).unwrap();
        reply
    });
    let (mut server, _) = bounded(listener.accept()).await.unwrap();
    bounded(received).await.unwrap();
    let mut got = [0; 13];
    bounded(server.read_exact(&mut got)).await.unwrap();
    assert_eq!(&got, b"from a thread");
    server.write_all(b"reply").await.unwrap();
    let reply = tether::to_thread(move || thread.join().unwrap())
        .await
        .unwrap();
    assert_eq!(&reply, b"reply");
}

async fn a_send_task_keeps_its_socket_wakeups_wherever_it_runs() {
    // Connections accepted here, served by `Send` tasks that any worker may run.
    let (listener, addr) = listen().await;
    let server = tether::spawn(async move {
        let mut handlers = Vec::new();
        for _ in 0..8 {
            let (mut stream, _) = listener.accept().await.unwrap();
            handlers.push(tether::spawn(async move {
                let mut buf = [0; 4];
                for _ in 0..50 {
                    stream.read_exact(&mut buf).await.unwrap();
                    stream.write_all(&buf).await.unwrap();
                    tether::yield_now().await;
                }
            }));
        }
        for handler in handlers {
            handler.await.unwrap();
        }
    });
    let clients: Vec<_> = (0..8u32)
        .map(|c| {
            tether::spawn(async move {
                let mut stream = TcpStream::connect(addr).await.unwrap();
                for m in 0..50u32 {
                    let message = (c * 1000 + m).to_le_bytes();
                    stream.write_all(&message).await.unwrap();
                    let mut echoed = [0; 4];
                    stream.read_exact(&mut echoed).await.unwrap();
                    assert_eq!(echoed, message);
                }
            })
        })
        .collect();
    bounded(async {
        for client in clients {
            client.await.unwrap();
        }
        server.await.unwrap();
    })
    .await;
}

async fn udp_datagrams_go_both_ways() {
    let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let (a_addr, b_addr) = (a.local_addr().unwrap(), b.local_addr().unwrap());
    a.send_to(b"ping", b_addr).await.unwrap();
    let mut buf = [0; 16];
    let (n, from) = bounded(b.recv_from(&mut buf)).await.unwrap();
    assert_eq!((&buf[..n], from), (&b"ping"[..], a_addr));
    b.connect(a_addr).await.unwrap();
    b.send(b"pong").await.unwrap();
    let n = bounded(a.recv(&mut buf)).await.unwrap();
    assert_eq!(&buf[..n], b"pong");
}

async fn names_resolve_on_the_blocking_pool() {
    let addrs: Vec<_> = tether::net::lookup_host(("127.0.0.1", 80))
        .await
        .unwrap()
        .collect();
    assert_eq!(addrs, ["127.0.0.1:80".parse::<SocketAddr>().unwrap()]);
    let addrs: Vec<_> = tether::net::lookup_host("localhost:80")
        .await
        .unwrap()
        .collect();
    assert!(!addrs.is_empty() && addrs.iter().all(|addr| addr.ip().is_loopback()));
}

#[cfg(unix)]
async fn unix_streams_and_datagrams() {
    use tether::net::{UnixDatagram, UnixListener, UnixStream};
    let dir = std::env::temp_dir().join(format!(
        "tether-net-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("stream.sock");
    let listener = UnixListener::bind(&path).unwrap();
    let error = UnixListener::bind(&path).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::AddrInUse);
    assert!(error.to_string().contains("stream.sock"), "{error}");
    let mut client = UnixStream::connect(&path).await.unwrap();
    let (mut server, _) = bounded(listener.accept()).await.unwrap();
    client.write_all(b"over unix").await.unwrap();
    client.shutdown(Shutdown::Write).unwrap();
    let mut got = String::new();
    bounded(server.read_to_string(&mut got)).await.unwrap();
    assert_eq!(got, "over unix");

    let (a, b) = UnixDatagram::pair().unwrap();
    a.send(b"datagram").await.unwrap();
    let mut buf = [0; 16];
    let n = bounded(b.recv(&mut buf)).await.unwrap();
    assert_eq!(&buf[..n], b"datagram");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Raises this process's soft limit on open files to at least `wanted` (up to the hard limit).
fn raise_fd_limit(wanted: u64) {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `limit` is a valid, writable rlimit.
    let got = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) };
    assert_eq!(got, 0);
    if limit.rlim_cur >= wanted as libc::rlim_t {
        return;
    }
    assert!(
        limit.rlim_max >= wanted as libc::rlim_t,
        "this test needs {wanted} open files; the hard limit is {}",
        limit.rlim_max
    );
    limit.rlim_cur = wanted as libc::rlim_t;
    // SAFETY: `limit` is a valid rlimit within the hard limit.
    let set = unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) };
    assert_eq!(set, 0);
}

/// The workers share one poller, so a socket's readiness reaches whichever worker is idle: a
/// connection accepted on worker 0 is served by a `Send` task on worker 1 while worker 0 is
/// blocked (with a poller per worker, the socket's events waited for the accepting worker).
#[test]
#[cfg_attr(miri, ignore = "Miri cannot open sockets")]
fn a_connection_accepted_on_a_blocked_worker_is_served_by_the_other() {
    const ROUND_TRIPS: u32 = 100;
    tether::Runtime::builder().workers(2).build().run(async {
        let (listener, addr) = listen().await;
        let (done, finished) = std::sync::mpsc::channel();
        // A plain thread with a blocking socket: it needs no worker to make progress.
        let client = std::thread::spawn(move || {
            let mut stream = std::net::TcpStream::connect(addr).unwrap();
            for m in 0..ROUND_TRIPS {
                stream.write_all(&m.to_le_bytes()).unwrap();
                let mut echoed = [0; 4];
                stream.read_exact(&mut echoed).unwrap();
                assert_eq!(u32::from_le_bytes(echoed), m);
            }
            done.send(()).unwrap();
        });
        // The main task is worker 0's: the connection is accepted there.
        let (mut stream, _) = bounded(listener.accept()).await.unwrap();
        let handler = tether::spawn(async move {
            let mut buf = [0; 4];
            for _ in 0..ROUND_TRIPS {
                stream.read_exact(&mut buf).await.unwrap();
                stream.write_all(&buf).await.unwrap();
            }
        });
        // Worker 0 blocks until the client has all its echoes: only worker 1 can serve them.
        finished
            .recv_timeout(DEADLINE)
            .expect("worker 1 served the connection accepted on the blocked worker 0");
        client.join().unwrap();
        bounded(handler).await.unwrap();
    });
}

#[cfg(not(miri))]
tether_tests::on_both_flavors!(
    accept_and_connect,
    read_write_eof_and_half_close,
    large_transfers_in_both_directions_at_once,
    a_thousand_connections_at_once,
    a_cancelled_read_loses_no_data,
    a_cancelled_accept_loses_no_connection,
    a_refused_connection_names_its_address,
    a_port_in_use_names_its_address,
    another_thread_wakes_the_loop_in_its_poller,
    a_send_task_keeps_its_socket_wakeups_wherever_it_runs,
    udp_datagrams_go_both_ways,
    names_resolve_on_the_blocking_pool,
    unix_streams_and_datagrams,
);

/// On the virtual clock, time jumps only when no socket is ready: a read whose data is already
/// there wins against its timeout, and one with nothing coming times out at once. (No step here
/// has a deadline timer: on the virtual clock it would jump as soon as the loop waits on I/O.)
#[tether::test(start_paused)]
#[cfg_attr(miri, ignore = "Miri cannot open sockets")]
async fn the_virtual_clock_jumps_only_when_no_socket_is_ready() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let client = tether::create_task(async move { TcpStream::connect(addr).await.unwrap() });
    let (mut server, _) = listener.accept().await.unwrap();
    let mut client = client.await.unwrap();

    let start = tether::time::Instant::now();
    let mut buf = [0; 4];
    let idle = tether::timeout(Duration::from_secs(3600), server.read(&mut buf)).await;
    assert!(idle.is_err(), "nothing was sent");
    assert!(start.elapsed() >= Duration::from_secs(3600));

    client.write_all(b"data").await.unwrap();
    // Wait (without a timer) for the first byte: then the rest is in the socket already.
    server.read_exact(&mut buf[..1]).await.unwrap();
    let before = tether::time::Instant::now();
    let got = tether::timeout(Duration::from_secs(3600), server.read_exact(&mut buf[1..])).await;
    assert!(got.is_ok(), "the data was already there");
    assert_eq!(&buf, b"data");
    assert_eq!(before.elapsed(), Duration::ZERO, "the clock did not move");
}
