//! The echo server of `examples/echo_server.rs` on real loopback sockets: tether tasks on
//! `tether::net`, the connection limit, and a graceful shutdown that leaves nothing running.
//!
//! These run on the real clock (sockets do not follow a virtual one) and are bounded: every wait
//! has a deadline of a few seconds, and the whole file takes well under a second when healthy.

#[path = "../../examples/echo.rs"]
mod echo;

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures::{AsyncReadExt, AsyncWriteExt};
use tether::net::{TcpListener, TcpStream};
use tether::sync::{Event, Semaphore};

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
    let limit = Arc::new(Semaphore::new(16));
    let stop = Event::new();
    let report = tether::task_group!(|tg| {
        let server = tg.create_task(echo::serve(
            listener,
            limit.clone(),
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
            cancelled: 0
        }
    );
    assert_eq!(
        limit.available_permits(),
        16,
        "every connection gave its permit back"
    );
}

#[tether::test]
#[cfg_attr(miri, ignore = "Miri cannot open sockets")]
async fn a_client_over_the_limit_waits_until_a_connection_closes() {
    let (listener, addr) = listen().await;
    let limit = Arc::new(Semaphore::new(2));
    let stop = Event::new();
    tether::task_group!(|tg| {
        let server = tg.create_task(echo::serve(
            listener,
            limit.clone(),
            Duration::from_secs(1),
            stop.wait(),
        ));
        let mut a = TcpStream::connect(addr).await.unwrap();
        let mut b = TcpStream::connect(addr).await.unwrap();
        assert_eq!(round_trip(&mut a, b"a").await, b"a");
        assert_eq!(round_trip(&mut b, b"b").await, b"b");
        assert_eq!(limit.available_permits(), 0, "both slots are taken");

        // The kernel completes c's handshake (backlog), but the server does not accept it.
        let mut c = TcpStream::connect(addr).await.unwrap();
        c.write_all(b"c").await.unwrap();
        let mut byte = [0];
        // A bounded look for an echo that must not come: this can only pass wrongly on a
        // very slow machine, never fail wrongly.
        let early = tether::timeout(Duration::from_millis(200), c.read_exact(&mut byte)).await;
        assert!(
            early.is_err(),
            "c was served while two connections were open"
        );

        drop(a); // closes a: its task ends and hands its slot on
        let late = tether::timeout(DEADLINE, c.read_exact(&mut byte)).await;
        late.expect("c is served once a slot frees").unwrap();
        assert_eq!(&byte, b"c");
        assert_eq!(round_trip(&mut b, b"still here").await, b"still here");

        drop((b, c));
        stop.set();
        let report = server.await.unwrap().unwrap();
        assert_eq!(report.accepted, 3);
        assert_eq!(report.cancelled, 0);
    })
    .unwrap();
    assert_eq!(limit.available_permits(), 2);
}

#[tether::test]
#[cfg_attr(miri, ignore = "Miri cannot open sockets")]
async fn shutdown_stops_accepting_then_cancels_connections_after_the_grace_period() {
    let (listener, addr) = listen().await;
    let limit = Arc::new(Semaphore::new(4));
    let stop = Event::new();
    let grace = Duration::from_millis(300);
    tether::task_group!(|tg| {
        let server = tg.create_task(echo::serve(listener, limit.clone(), grace, stop.wait()));
        let mut idle = TcpStream::connect(addr).await.unwrap();
        assert_eq!(round_trip(&mut idle, b"hi").await, b"hi");

        let stopped_at = std::time::Instant::now();
        stop.set();
        // The listener closes at once: new clients are refused ...
        tether::timeout(DEADLINE, async {
            while TcpStream::connect(addr).await.is_ok() {
                tether::sleep(Duration::from_millis(5)).await;
            }
        })
        .await
        .expect("the listener closed");
        // ... while the open connection is still served during the grace period.
        assert_eq!(round_trip(&mut idle, b"in grace").await, b"in grace");

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
                cancelled: 1
            },
            "nothing accepted after the stop; the idle connection was cancelled"
        );

        // Its task is gone, so its socket is closed: the client reads end-of-file.
        let mut rest = Vec::new();
        let eof = tether::timeout(DEADLINE, idle.read_to_end(&mut rest)).await;
        assert_eq!(eof.expect("closed in time").unwrap(), 0);
    })
    .unwrap();
    assert_eq!(limit.available_permits(), 4, "no connection task is left");
}
