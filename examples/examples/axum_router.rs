//! An axum `Router` served by hyper on tether's own loop and sockets, with no tokio runtime.
//!
//! axum's `serve` needs tokio's sockets (its `tokio` feature); without that feature a `Router`
//! is still a tower `Service` of HTTP requests, and hyper serves any such service on tether's
//! `TcpStream`. Handlers are ordinary async functions that may use anything of tether (here a
//! `sleep` and a `Lock`), extractors included. The server runs as a task group child started
//! with `tg.start` (it reports its address once bound), each connection a task of a `TaskSet`;
//! the client part sends three requests and then the group cancels the server.
//!
//! Run with `cargo run -p tether-examples --example axum_router`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::get;
use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::Request;
use tether::TaskSet;
use tether::net::{TcpListener, TcpStream};
use tether::sync::Lock;
use tower_service::Service;

/// The handlers' shared state: how many greetings were given, and a lock that lets one
/// handler at a time take its turn.
#[derive(Clone, Default)]
struct Greeter {
    turn: Arc<Lock>,
    given: Arc<AtomicU32>,
}

async fn greet(Path(name): Path<String>, State(greeter): State<Greeter>) -> String {
    // Anything of tether's works in a handler: its timers, its locks, its tasks.
    let _turn = greeter.turn.lock().await;
    tether::sleep(Duration::from_millis(5)).await;
    let count = greeter.given.fetch_add(1, Ordering::Relaxed) + 1;
    format!("hello, {name} (greeting {count})")
}

/// Accepts connections until cancelled, each served by hyper in a task of the set.
async fn serve(listener: TcpListener, app: Router) {
    let mut connections = TaskSet::new();
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let app = app.clone();
        connections.create_task(async move {
            let service =
                hyper::service::service_fn(move |request: Request<hyper::body::Incoming>| {
                    let mut app = app.clone();
                    async move { app.call(request.map(axum::body::Body::new)).await }
                });
            let _ = hyper::server::conn::http1::Builder::new()
                .timer(tether::hyper::Timer)
                .serve_connection(stream, service)
                .await;
        });
    }
}

async fn get_text(addr: std::net::SocketAddr, path: &str) -> String {
    let stream = TcpStream::connect(addr).await.expect("connect");
    let (mut sender, connection) = hyper::client::conn::http1::handshake(stream)
        .await
        .expect("handshake");
    let connection = tether::create_task(connection);
    let request = Request::get(path)
        .body(Empty::<Bytes>::new())
        .expect("request");
    let response = sender.send_request(request).await.expect("response");
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    drop(sender);
    let _ = connection.await;
    format!("{status} {}", String::from_utf8_lossy(&body))
        .trim_end()
        .to_owned()
}

#[tether::main]
async fn main() {
    let app = Router::new()
        .route("/hello/{name}", get(greet))
        .with_state(Greeter::default());
    let result = tether::task_group!(|tg| {
        let addr = tg
            .start(|ready| async move {
                let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
                ready.started(listener.local_addr().expect("address"));
                serve(listener, app).await;
            })
            .await
            .expect("the server starts");
        for name in ["ada", "grace", "barbara"] {
            println!("{}", get_text(addr, &format!("/hello/{name}")).await);
        }
        println!("{}", get_text(addr, "/nowhere").await);
        tg.cancel();
    });
    // The group ended by its own `cancel`, which is no failure of a child.
    if let Err(error) = result {
        assert!(error.is_cancelled(), "{error}");
    }
}
