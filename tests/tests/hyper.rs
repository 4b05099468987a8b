//! hyper 1.x on tether's own loop (the runtime's `hyper` feature): a server whose connections
//! are tasks owned by a set, a client, keep-alive, the header-read timeout on tether's timer,
//! and the executor's ownership of what it runs. Real sockets on 127.0.0.1, bounded in time.

use std::convert::Infallible;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::Incoming;
use hyper::rt::Executor as _;
use hyper::{Request, Response};
use tether::net::{TcpListener, TcpStream};

const DEADLINE: Duration = Duration::from_secs(10);

async fn hello(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let body = format!("hello from {}", request.uri().path());
    Ok(Response::new(Full::new(Bytes::from(body))))
}

/// Serves `connections` connections, each a task owned by a set, then waits for them.
async fn serve(listener: TcpListener, connections: usize) -> Vec<Result<(), hyper::Error>> {
    let mut set = tether::TaskSet::new();
    for _ in 0..connections {
        let (stream, _) = listener.accept().await.unwrap();
        set.create_task(
            hyper::server::conn::http1::Builder::new()
                .timer(tether::hyper::Timer)
                .serve_connection(stream, hyper::service::service_fn(hello)),
        );
    }
    set.join_all()
        .await
        .into_iter()
        .map(|outcome| outcome.unwrap())
        .collect()
}

async fn get(addr: SocketAddr, paths: &[&str]) -> Vec<String> {
    let stream = TcpStream::connect(addr).await.unwrap();
    let (mut sender, connection) = hyper::client::conn::http1::handshake(stream).await.unwrap();
    let connection = tether::create_task(connection);
    let mut bodies = Vec::new();
    // Several requests on one kept-alive connection.
    for path in paths {
        let request = Request::get(*path).body(Empty::<Bytes>::new()).unwrap();
        let response = sender.send_request(request).await.unwrap();
        assert_eq!(response.status(), 200);
        let body = response.into_body().collect().await.unwrap().to_bytes();
        bodies.push(String::from_utf8(body.to_vec()).unwrap());
    }
    drop(sender);
    connection.await.unwrap().unwrap();
    bodies
}

async fn a_server_and_clients_talk_http1() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tether::create_task(serve(listener, 4));
    let clients: Vec<_> = (0..4)
        .map(|c| {
            tether::create_task(async move {
                let paths = [format!("/{c}/a"), format!("/{c}/b")];
                let paths: Vec<&str> = paths.iter().map(String::as_str).collect();
                get(addr, &paths).await
            })
        })
        .collect();
    tether::timeout(DEADLINE, async {
        for (c, client) in clients.into_iter().enumerate() {
            assert_eq!(
                client.await.unwrap(),
                [format!("hello from /{c}/a"), format!("hello from /{c}/b")]
            );
        }
        for served in server.await.unwrap() {
            served.unwrap();
        }
    })
    .await
    .expect("the exchange finished in time");
}

#[cfg(not(miri))]
tether_tests::on_both_flavors!(a_server_and_clients_talk_http1);

#[tether::test]
#[cfg_attr(miri, ignore = "Miri cannot open sockets")]
async fn the_header_read_timeout_closes_a_silent_connection() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let timeout = Duration::from_millis(100);
    // A client on a plain thread that sends half a request line and then nothing.
    let client = std::thread::spawn(move || {
        let mut stream = std::net::TcpStream::connect(addr).unwrap();
        stream.set_read_timeout(Some(DEADLINE)).unwrap();
        stream.write_all(b"GET / HTTP/1.1\r\n").unwrap();
        let mut rest = Vec::new();
        // The server gives up on the headers and closes (after a 408, or at once).
        stream.read_to_end(&mut rest).unwrap();
        String::from_utf8_lossy(&rest).into_owned()
    });
    let (stream, _) = listener.accept().await.unwrap();
    let started = std::time::Instant::now();
    let served = tether::timeout(
        DEADLINE,
        hyper::server::conn::http1::Builder::new()
            .timer(tether::hyper::Timer)
            .header_read_timeout(timeout)
            .serve_connection(stream, hyper::service::service_fn(hello)),
    )
    .await
    .expect("the timeout ended the connection");
    let error = served.unwrap_err();
    assert!(error.is_timeout(), "{error}");
    assert!(started.elapsed() >= timeout);
    let reply = tether::to_thread(move || client.join().unwrap())
        .await
        .unwrap();
    assert!(
        !reply.contains("200"),
        "no response to half a request: {reply}"
    );
}

#[tether::test]
async fn the_executor_owns_what_it_runs() {
    let executor = tether::hyper::Executor::new();
    let (sent, received) = futures::channel::oneshot::channel();
    executor.execute(async move { sent.send("ran").unwrap() });
    assert_eq!(received.await, Ok("ran"));

    // A future still running when the last clone goes is cancelled: its destructor runs.
    let (dropped_tx, dropped_rx) = futures::channel::oneshot::channel::<()>();
    let clone = executor.clone();
    clone.execute(async move {
        let _guard = dropped_tx; // dropped with the future: the receiver sees Canceled
        futures::future::pending::<()>().await;
    });
    tether::yield_now().await;
    drop(executor);
    drop(clone);
    assert!(dropped_rx.await.is_err(), "the pending future was dropped");
}
