//! The echo server of `examples/echo_server.rs` on real loopback sockets: tether tasks on
//! `tether::net`, the limit on its connection set, and a graceful shutdown that leaves nothing
//! running: idle connections close at once, one in the middle of an echo finishes it, and one
//! that cannot finish is cancelled at the grace deadline.
//!
//! These run on the real clock (sockets do not follow a virtual one) and are bounded: every wait
//! has a deadline of a few seconds, and the whole file takes a few seconds when healthy.

#[path = "../../examples/echo.rs"]
mod echo;

use std::io::{ErrorKind, Read, Write};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use futures::{AsyncReadExt, AsyncWriteExt};
use tether::net::{TcpListener, TcpStream};
use tether::sync::Event;

/// How long any single step may take before the test fails instead of hanging.
const DEADLINE: Duration = Duration::from_secs(5);

async fn listen() -> (TcpListener, SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    (listener, addr)
}

/// Sends `message` and reads the echo back, within the deadline.
async fn round_trip(stream: &mut TcpStream, message: &[u8]) -> Vec<u8> {
    tether::timeout(DEADLINE, async {
        stream.write_all(message).await.unwrap();
        let mut echoed = vec![0; message.len()];
        stream.read_exact(&mut echoed).await.unwrap();
        echoed
    })
    .await
    .expect("the echo came back in time")
}

#[tether::test]
#[cfg_attr(miri, ignore = "Miri cannot open sockets")]
async fn several_clients_get_their_bytes_back() {
    let (listener, addr) = listen().await;
    let stop = Event::new();
    let report = tether::task_group!(|tg| {
        let server = tg.create_task(echo::serve(
            listener,
            16,
            Duration::from_secs(1),
            stop.wait(),
        ));
        // Five async clients, driven by tether tasks, all at once.
        let clients: Vec<_> = (0..5)
            .map(|c| {
                tg.create_task(async move {
                    let mut stream = TcpStream::connect(addr).await.unwrap();
                    for m in 0..20 {
                        let message = format!("client {c} message {m}\n");
                        let echoed = round_trip(&mut stream, message.as_bytes()).await;
                        assert_eq!(echoed, message.as_bytes());
                    }
                })
            })
            .collect();
        // And one blocking client on a plain thread, with a large message in several chunks.
        let blocking = std::thread::spawn(move || {
            let mut stream = std::net::TcpStream::connect(addr).unwrap();
            stream.set_read_timeout(Some(DEADLINE)).unwrap();
            let message: Vec<u8> = (0..200_000u32).map(|i| i as u8).collect();
            stream.write_all(&message).unwrap();
            let mut echoed = vec![0; message.len()];
            stream.read_exact(&mut echoed).unwrap();
            echoed == message
        });
        for client in clients {
            client.await.unwrap();
        }
        while !blocking.is_finished() {
            tether::sleep(Duration::from_millis(1)).await;
        }
        assert!(
            blocking.join().unwrap(),
            "the large message came back intact"
        );
        stop.set();
        server.await.unwrap().unwrap()
    })
    .unwrap();
    assert_eq!(
        report,
        echo::Report {
            accepted: 6,
            finished: 6,
            shed: 0,
            cancelled: 0
        }
    );
}

#[tether::test]
#[cfg_attr(miri, ignore = "Miri cannot open sockets")]
async fn a_client_over_the_limit_takes_the_slot_of_the_connection_idle_longest() {
    let (listener, addr) = listen().await;
    let stop = Event::new();
    tether::task_group!(|tg| {
        let server = tg.create_task(echo::serve(
            listener,
            2,
            Duration::from_secs(1),
            stop.wait(),
        ));
        let mut a = TcpStream::connect(addr).await.unwrap();
        let mut b = TcpStream::connect(addr).await.unwrap();
        assert_eq!(round_trip(&mut a, b"a").await, b"a");
        assert_eq!(round_trip(&mut b, b"b").await, b"b");

        // Both slots are taken by idle connections: c is served at once, in the slot of a,
        // idle longest, which the server closes.
        let mut c = TcpStream::connect(addr).await.unwrap();
        assert_eq!(round_trip(&mut c, b"c").await, b"c");
        let mut rest = Vec::new();
        let eof = tether::timeout(DEADLINE, a.read_to_end(&mut rest)).await;
        assert_eq!(eof.expect("a was closed").unwrap(), 0);
        assert_eq!(round_trip(&mut b, b"still here").await, b"still here");

        // Busy connections are never shed: with b and c in the middle of an echo (the server
        // waits to write to them), d waits for a slot.
        fill_until_the_server_waits_to_write(&mut b).await;
        fill_until_the_server_waits_to_write(&mut c).await;
        let mut d = TcpStream::connect(addr).await.unwrap();
        d.write_all(b"d").await.unwrap();
        let mut byte = [0];
        // A bounded look for an echo that must not come: this can only pass wrongly on a
        // very slow machine, never fail wrongly.
        let early = tether::timeout(Duration::from_millis(200), d.read_exact(&mut byte)).await;
        assert!(early.is_err(), "d was served while b and c were busy");
        drop(b); // b's echo fails, its connection ends, and d gets its slot
        let late = tether::timeout(DEADLINE, d.read_exact(&mut byte)).await;
        late.expect("d is served once b closes").unwrap();
        assert_eq!(&byte, b"d");

        drop((c, d));
        stop.set();
        let report = server.await.unwrap().unwrap();
        assert_eq!(
            report,
            echo::Report {
                accepted: 4,
                finished: 3,
                shed: 1,
                cancelled: 0
            }
        );
    })
    .unwrap();
}

#[tether::test]
#[cfg_attr(miri, ignore = "Miri cannot open sockets")]
async fn a_silent_connection_is_closed_after_the_idle_timeout_and_a_chatty_one_is_not() {
    let (listener, addr) = listen().await;
    let stop = Event::new();
    let idle_timeout = Duration::from_millis(300);
    let options = echo::Options {
        limit: 4,
        grace: Duration::from_secs(1),
        idle_timeout,
        inspect: |_| {},
    };
    tether::task_group!(|tg| {
        let server = tg.create_task(echo::serve_with(listener, options, stop.wait()));
        let mut silent = TcpStream::connect(addr).await.unwrap();
        let mut chatty = TcpStream::connect(addr).await.unwrap();
        let start = Instant::now();
        assert_eq!(round_trip(&mut silent, b"hi").await, b"hi");
        // A message every 100 ms for a second: never idle for 300 ms.
        for _ in 0..10 {
            assert_eq!(round_trip(&mut chatty, b"tick").await, b"tick");
            tether::sleep(Duration::from_millis(100)).await;
        }
        // The silent one was closed once idle for the timeout (end-of-file, nothing more).
        let mut rest = Vec::new();
        let eof = tether::timeout(DEADLINE, silent.read_to_end(&mut rest)).await;
        assert_eq!(eof.expect("the silent connection was closed").unwrap(), 0);
        assert!(start.elapsed() >= idle_timeout);
        assert_eq!(round_trip(&mut chatty, b"still here").await, b"still here");
        drop(chatty);
        stop.set();
        let report = server.await.unwrap().unwrap();
        assert_eq!(
            report,
            echo::Report {
                accepted: 2,
                finished: 1,
                shed: 1,
                cancelled: 0
            }
        );
    })
    .unwrap();
}

#[cfg(not(miri))]
tether_tests::on_both_flavors!(a_connection_that_panics_ends_alone_and_the_server_goes_on);

/// A handler that panics on one input: each such connection ends (its socket closed, its slot
/// freed), while a connection open throughout and new ones are served as before.
#[cfg_attr(miri, allow(dead_code))]
async fn a_connection_that_panics_ends_alone_and_the_server_goes_on() {
    let (listener, addr) = listen().await;
    let stop = std::sync::Arc::new(Event::new());
    let options = echo::Options {
        limit: 4,
        grace: Duration::from_secs(1),
        idle_timeout: Duration::from_secs(60),
        inspect: |message| assert!(message != b"panic", "asked to panic"),
    };
    let server = tether::create_task(echo::serve_with(listener, options, {
        let stop = stop.clone();
        async move { stop.wait().await }
    }));
    let mut bystander = TcpStream::connect(addr).await.unwrap();
    assert_eq!(round_trip(&mut bystander, b"before").await, b"before");
    // More panics than slots: a slot that a panic did not free would lock the server.
    for _ in 0..10 {
        let mut client = TcpStream::connect(addr).await.unwrap();
        client.write_all(b"panic").await.unwrap();
        let mut rest = Vec::new();
        let closed = tether::timeout(DEADLINE, client.read_to_end(&mut rest))
            .await
            .expect("the panicking connection was closed");
        // End-of-file, or a reset (the socket closed with our bytes unread): nothing echoed.
        assert!(closed.is_err() || rest.is_empty(), "echoed {rest:?}");
    }
    assert_eq!(round_trip(&mut bystander, b"after").await, b"after");
    let mut late = TcpStream::connect(addr).await.unwrap();
    assert_eq!(
        round_trip(&mut late, b"still serving").await,
        b"still serving"
    );
    drop((bystander, late));
    stop.set();
    let report = tether::timeout(DEADLINE, server)
        .await
        .expect("the server shut down")
        .unwrap()
        .unwrap();
    // The ten that panicked are in none of the counts.
    assert_eq!(
        report,
        echo::Report {
            accepted: 12,
            finished: 2,
            shed: 0,
            cancelled: 0
        }
    );
}

#[tether::test]
#[cfg_attr(miri, ignore = "Miri cannot open sockets")]
async fn shutdown_closes_the_listener_and_idle_connections_at_once() {
    let (listener, addr) = listen().await;
    let stop = Event::new();
    // Far longer than the test may take: closing an idle connection does not wait for it.
    let grace = Duration::from_secs(60);
    tether::task_group!(|tg| {
        let server = tg.create_task(echo::serve(listener, 4, grace, stop.wait()));
        let mut idle = TcpStream::connect(addr).await.unwrap();
        assert_eq!(round_trip(&mut idle, b"hi").await, b"hi");

        stop.set();
        // The connection waits for a message: asked to stop, it closes at once (end-of-file).
        let mut rest = Vec::new();
        let eof = tether::timeout(DEADLINE, idle.read_to_end(&mut rest)).await;
        assert_eq!(eof.expect("the idle connection closed").unwrap(), 0);
        // The listener is closed: new clients are refused.
        let refused = TcpStream::connect(addr).await;
        assert!(refused.is_err(), "the listener was still open");

        let report = tether::timeout(DEADLINE, server)
            .await
            .expect("the server ended without waiting for the grace period")
            .unwrap()
            .unwrap();
        assert_eq!(
            report,
            echo::Report {
                accepted: 1,
                finished: 1,
                shed: 0,
                cancelled: 0
            },
            "the idle connection said goodbye on its own"
        );
    })
    .unwrap();
}

#[tether::test]
#[cfg_attr(miri, ignore = "Miri cannot open sockets")]
async fn a_connection_in_the_middle_of_an_echo_finishes_it_then_closes() {
    let (listener, addr) = listen().await;
    let stop = Event::new();
    let grace = Duration::from_secs(60);
    tether::task_group!(|tg| {
        let server = tg.create_task(echo::serve(listener, 4, grace, stop.wait()));
        let mut client = TcpStream::connect(addr).await.unwrap();
        let sent = fill_until_the_server_waits_to_write(&mut client).await;

        stop.set();
        // The server is inside its write: it finishes it once we read, then closes.
        let received = read_echo_until_closed(&mut client).await;
        assert!(received > 0 && received <= sent, "{received} of {sent}");
        let report = tether::timeout(DEADLINE, server)
            .await
            .expect("the server ended without waiting for the grace period")
            .unwrap()
            .unwrap();
        assert_eq!(
            report,
            echo::Report {
                accepted: 1,
                finished: 1,
                shed: 0,
                cancelled: 0
            },
            "the connection finished its echo and closed on its own"
        );
    })
    .unwrap();
}

#[tether::test]
#[cfg_attr(miri, ignore = "Miri cannot open sockets")]
async fn a_connection_that_cannot_finish_is_cancelled_at_the_grace_deadline() {
    let (listener, addr) = listen().await;
    let stop = Event::new();
    let grace = Duration::from_millis(300);
    tether::task_group!(|tg| {
        let server = tg.create_task(echo::serve(listener, 4, grace, stop.wait()));
        let mut client = TcpStream::connect(addr).await.unwrap();
        let sent = fill_until_the_server_waits_to_write(&mut client).await;

        let stopped_at = Instant::now();
        stop.set();
        // We never read, so the server's write cannot finish: it is dropped at the deadline.
        let report = tether::timeout(DEADLINE, server)
            .await
            .expect("the server ended")
            .unwrap()
            .unwrap();
        assert!(
            stopped_at.elapsed() >= grace,
            "it waited for the grace period"
        );
        assert_eq!(
            report,
            echo::Report {
                accepted: 1,
                finished: 0,
                shed: 0,
                cancelled: 1
            }
        );
        // Its task is gone, so its socket is closed: what it echoed, then the end.
        let received = read_echo_until_closed(&mut client).await;
        assert!(received <= sent, "{received} of {sent}");
    })
    .unwrap();
}

/// The echo test's byte stream: byte `i` is `i % 251`, so any stretch of it can be checked.
fn pattern(at: u64, len: usize) -> impl Iterator<Item = u8> {
    (at..at + len as u64).map(|i| (i % 251) as u8)
}

/// Sends the pattern without reading the echo until the server cannot go on: the echo fills
/// our receive buffer, so the server waits inside its write, and stops reading, so our writes
/// wait too. A write that stays pending for a second while the server, on this same loop, is
/// free to run shows it. Returns how many bytes were sent.
async fn fill_until_the_server_waits_to_write(client: &mut TcpStream) -> u64 {
    const CHUNK: usize = 251 * 256;
    let chunk: Vec<u8> = pattern(0, 2 * CHUNK).collect();
    let mut sent = 0u64;
    while sent < 1 << 30 {
        let from = (sent % 251) as usize; // the chunk from here continues the pattern
        let write = client.write(&chunk[from..from + CHUNK]);
        match tether::timeout(Duration::from_secs(1), write).await {
            Ok(written) => sent += written.unwrap() as u64,
            Err(_) => return sent,
        }
    }
    panic!("1 GiB went through without the buffers filling up");
}

/// Reads the echo until the server closes the connection (end-of-file, or a reset, as the
/// server closes with our unread bytes in its buffer), checking every byte; returns the count.
async fn read_echo_until_closed(client: &mut TcpStream) -> u64 {
    let mut buf = vec![0; 64 * 1024];
    let mut received = 0u64;
    loop {
        let read = tether::timeout(DEADLINE, client.read(&mut buf))
            .await
            .expect("the server closed the connection in time");
        match read {
            Ok(0) => return received,
            Ok(n) => {
                assert!(
                    buf[..n].iter().copied().eq(pattern(received, n)),
                    "the echo at byte {received} is not what was sent"
                );
                received += n as u64;
            }
            Err(err) if err.kind() == ErrorKind::ConnectionReset => return received,
            Err(err) => panic!("reading the echo: {err}"),
        }
    }
}
