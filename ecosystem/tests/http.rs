//! HTTP clients on tether: reqwest through the tokio bridge (it needs tokio's runtime for its
//! connection pool and timers), and hyper's client natively; both against tether's own hyper
//! server.

use std::convert::Infallible;
use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Request, Response};
use tether::TaskSet;
use tether::net::{TcpListener, TcpStream};
use tether_ecosystem::no_fd_leaked;

/// Serves `GET /n` with `n + 1`, until the task running it is dropped: the set that owns the
/// connections goes with it.
async fn serve(listener: TcpListener) {
    let mut connections = TaskSet::new();
    loop {
        let (stream, _) = listener.accept().await.unwrap();
        connections.create_task(async move {
            let answer =
                hyper::service::service_fn(|request: Request<hyper::body::Incoming>| async move {
                    let n: u64 = request.uri().path()[1..].parse().unwrap_or(0);
                    Ok::<_, Infallible>(Response::new(Full::new(Bytes::from((n + 1).to_string()))))
                });
            let _ = hyper::server::conn::http1::Builder::new()
                .timer(tether::hyper::Timer)
                .serve_connection(stream, answer)
                .await;
        });
    }
}

async fn server() -> (SocketAddr, tether::Task<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    (addr, tether::create_task(serve(listener)))
}

#[test]
fn reqwest_through_the_bridge() {
    no_fd_leaked(|| {
        tether::run(async {
            let (addr, server) = server().await;
            let bodies = tether::compat::tokio(async move {
                let client = reqwest::Client::new();
                let mut bodies = Vec::new();
                for n in 0..100u64 {
                    let response = client.get(format!("http://{addr}/{n}")).send().await?;
                    assert!(response.status().is_success());
                    bodies.push(response.text().await?);
                }
                Ok::<_, reqwest::Error>(bodies)
            })
            .await
            .unwrap();
            assert_eq!(bodies, (1..=100).map(|n| n.to_string()).collect::<Vec<_>>());
            // A refused connection is reqwest's own error.
            let closed = std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap();
            let error =
                tether::compat::tokio(
                    async move { reqwest::get(format!("http://{closed}/")).await },
                )
                .await
                .unwrap_err();
            assert!(error.is_connect(), "{error}");
            drop(server);
        });
    });
}

#[test]
fn reqwest_with_the_runtime_wide_switch() {
    no_fd_leaked(|| {
        tether::Runtime::builder()
            .tokio(true)
            .workers(2)
            .build()
            .run(async {
                let (addr, server) = server().await;
                // No call site wrapped: every loop thread is in the bridge's context.
                let client = reqwest::Client::new();
                let mut set = TaskSet::new();
                for n in 0..20u64 {
                    let client = client.clone();
                    set.spawn(async move {
                        client
                            .get(format!("http://{addr}/{n}"))
                            .send()
                            .await?
                            .text()
                            .await
                    });
                }
                let mut answers = Vec::new();
                while let Some(answer) = set.join_next().await {
                    answers.push(answer.unwrap().unwrap().parse::<u64>().unwrap());
                }
                answers.sort_unstable();
                assert_eq!(answers, (1..=20).collect::<Vec<_>>());
                drop(server);
            });
    });
}

#[test]
fn hyper_client_natively() {
    no_fd_leaked(|| {
        tether::run(async {
            let (addr, server) = server().await;
            let stream = TcpStream::connect(addr).await.unwrap();
            let (mut sender, connection) =
                hyper::client::conn::http1::handshake(stream).await.unwrap();
            let connection = tether::create_task(connection);
            for n in 0..100u64 {
                let request = Request::get(format!("/{n}"))
                    .body(http_body_util::Empty::<Bytes>::new())
                    .unwrap();
                let response = sender.send_request(request).await.unwrap();
                let body = response.into_body().collect().await.unwrap().to_bytes();
                assert_eq!(body, (n + 1).to_string());
            }
            drop(sender);
            connection.await.unwrap().unwrap();
            drop(server);
        });
    });
}
