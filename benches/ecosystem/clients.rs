//! The tokio ecosystem's clients on tether and on tokio, side by side: tokio-postgres
//! queries/s, Redis GETs/s, WebSocket messages/s (tokio's traits natively on tether), and
//! reqwest requests/s (through tether's tokio bridge). Loopback, the servers of
//! `scripts/ecosystem.sh`; each round runs every workload on tether and on tokio's
//! current-thread runtime, interleaved; the medians are printed with the CPU time per operation
//! of this process (user + system, from getrusage).
//!
//! ```sh
//! scripts/ecosystem.sh --bench            # ROUNDS=5 by default
//! ONLY=reqwest SIDE=tether scripts/ecosystem.sh --bench   # one workload, one side (to profile)
//! ```

use std::convert::Infallible;
use std::future::Future;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use http_body_util::Full;
use hyper::{Request, Response};
use tokio_postgres::{Config, NoTls};
use tokio_tungstenite::tungstenite::Message;

const POSTGRES_QUERIES: usize = 5_000;
const REDIS_GETS: usize = 10_000;
const WS_MESSAGES: usize = 20_000;
const HTTP_REQUESTS: usize = 2_000;

/// One measurement: how long, and how much CPU this process spent.
#[derive(Clone, Copy)]
struct Sample {
    wall: Duration,
    cpu: Duration,
}

fn cpu_time() -> Duration {
    // SAFETY: `getrusage` writes the whole `rusage` it is given; zeroed is a valid start.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    let micros = |t: libc::timeval| t.tv_sec as u64 * 1_000_000 + t.tv_usec as u64;
    Duration::from_micros(micros(usage.ru_utime) + micros(usage.ru_stime))
}

fn measure(run: impl FnOnce()) -> Sample {
    let (cpu, start) = (cpu_time(), Instant::now());
    run();
    Sample {
        wall: start.elapsed(),
        cpu: cpu_time() - cpu,
    }
}

fn env(variable: &str) -> String {
    std::env::var(variable)
        .unwrap_or_else(|_| panic!("{variable}: run through scripts/ecosystem.sh --bench"))
}

fn tokio_rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

// --- tokio-postgres: a prepared query, one round trip each ---------------------------------

async fn postgres_queries<S, F>(
    connect: impl FnOnce() -> F,
    spawn: impl FnOnce(tokio_postgres::Connection<S, tokio_postgres::tls::NoTlsStream>),
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
    F: Future<Output = S>,
{
    let config: Config = env("TETHER_ECO_PG").parse().unwrap();
    let (client, connection) = config.connect_raw(connect().await, NoTls).await.unwrap();
    spawn(connection);
    let statement = client.prepare("SELECT $1::int4 + 1").await.unwrap();
    for i in 0..POSTGRES_QUERIES as i32 {
        let row = client.query_one(&statement, &[&i]).await.unwrap();
        assert_eq!(row.get::<_, i32>(0), i + 1);
    }
}

fn postgres_tether() -> Sample {
    measure(|| {
        tether::run(async {
            let mut set = tether::TaskSet::new();
            postgres_queries(
                || async {
                    tether::net::TcpStream::connect(env("TETHER_ECO_PG_ADDR"))
                        .await
                        .unwrap()
                },
                |connection| {
                    set.create_task(async move {
                        let _ = connection.await;
                    });
                },
            )
            .await;
        })
    })
}

fn postgres_tokio() -> Sample {
    measure(|| {
        tokio_rt().block_on(postgres_queries(
            || async {
                tokio::net::TcpStream::connect(env("TETHER_ECO_PG_ADDR"))
                    .await
                    .unwrap()
            },
            |connection| {
                tokio::spawn(connection);
            },
        ))
    })
}

// --- Redis: GET after GET on a multiplexed connection ----------------------------------------

async fn redis_gets<S>(
    stream: S,
    spawn: impl FnOnce(std::pin::Pin<Box<dyn Future<Output = ()> + Send>>),
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let info = redis::RedisConnectionInfo::default();
    let config = redis::AsyncConnectionConfig::new().set_response_timeout(None);
    let (mut redis, driver) =
        redis::aio::MultiplexedConnection::new_with_config(&info, stream, config)
            .await
            .unwrap();
    spawn(Box::pin(driver));
    let _: () = redis::cmd("SET")
        .arg("tether:bench")
        .arg(7)
        .query_async(&mut redis)
        .await
        .unwrap();
    for _ in 0..REDIS_GETS {
        let value: i64 = redis::cmd("GET")
            .arg("tether:bench")
            .query_async(&mut redis)
            .await
            .unwrap();
        assert_eq!(value, 7);
    }
}

fn redis_tether() -> Sample {
    measure(|| {
        tether::run(async {
            let mut set = tether::TaskSet::new();
            let stream = tether::net::TcpStream::connect(env("TETHER_ECO_REDIS"))
                .await
                .unwrap();
            redis_gets(stream, |driver| {
                set.create_task(driver);
            })
            .await;
        })
    })
}

fn redis_tokio() -> Sample {
    measure(|| {
        tokio_rt().block_on(async {
            let stream = tokio::net::TcpStream::connect(env("TETHER_ECO_REDIS"))
                .await
                .unwrap();
            redis_gets(stream, |driver| {
                tokio::spawn(driver);
            })
            .await;
        })
    })
}

// --- WebSocket: an echo server and a client on the same runtime ------------------------------

async fn ws_echo<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(stream: S) {
    let mut socket = tokio_tungstenite::accept_async(stream).await.unwrap();
    while let Some(Ok(message)) = socket.next().await {
        if message.is_close() {
            break;
        }
        socket.send(message).await.unwrap();
    }
}

async fn ws_client<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(
    stream: S,
    url: String,
) {
    let (socket, _) = tokio_tungstenite::client_async(url, stream).await.unwrap();
    let (mut sink, mut source) = socket.split();
    let send = async {
        for i in 0..WS_MESSAGES {
            sink.feed(Message::text(i.to_string())).await.unwrap();
            if i % 64 == 63 {
                sink.flush().await.unwrap();
            }
        }
        sink.flush().await.unwrap();
    };
    let receive = async {
        for _ in 0..WS_MESSAGES {
            source.next().await.unwrap().unwrap();
        }
    };
    futures::join!(send, receive);
    let mut socket = sink.reunite(source).unwrap();
    socket.close(None).await.unwrap();
}

fn ws_tether() -> Sample {
    measure(|| {
        tether::run(async {
            let listener = tether::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let server = tether::create_task(async move {
                let (stream, _) = listener.accept().await.unwrap();
                ws_echo(stream).await;
            });
            let stream = tether::net::TcpStream::connect(addr).await.unwrap();
            ws_client(stream, format!("ws://{addr}/")).await;
            server.await.unwrap();
        })
    })
}

fn ws_tokio() -> Sample {
    measure(|| {
        tokio_rt().block_on(async {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let server = tokio::spawn(async move {
                let (stream, _) = listener.accept().await.unwrap();
                ws_echo(stream).await;
            });
            let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
            ws_client(stream, format!("ws://{addr}/")).await;
            server.await.unwrap();
        })
    })
}

// --- reqwest: GETs against a hyper server on the same runtime --------------------------------

async fn hello(_: Request<hyper::body::Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(Response::new(Full::new(Bytes::from_static(b"hello"))))
}

async fn reqwest_gets(addr: std::net::SocketAddr) {
    let client = reqwest::Client::new();
    for _ in 0..HTTP_REQUESTS {
        let body = client
            .get(format!("http://{addr}/"))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        assert_eq!(&body[..], b"hello");
    }
}

fn reqwest_tether() -> Sample {
    measure(|| {
        tether::Runtime::builder().tokio(true).build().run(async {
            let listener = tether::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let _server = tether::create_task(async move {
                let mut connections = tether::TaskSet::new();
                loop {
                    let (stream, _) = listener.accept().await.unwrap();
                    connections.create_task(async move {
                        let _ = hyper::server::conn::http1::Builder::new()
                            .serve_connection(stream, hyper::service::service_fn(hello))
                            .await;
                    });
                }
            });
            reqwest_gets(addr).await;
        })
    })
}

fn reqwest_tokio() -> Sample {
    measure(|| {
        tokio_rt().block_on(async {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let server = tokio::spawn(async move {
                loop {
                    let (stream, _) = listener.accept().await.unwrap();
                    tokio::spawn(async move {
                        let _ = hyper::server::conn::http1::Builder::new()
                            .serve_connection(
                                hyper_util::rt::TokioIo::new(stream),
                                hyper::service::service_fn(hello),
                            )
                            .await;
                    });
                }
            });
            reqwest_gets(addr).await;
            server.abort();
        })
    })
}

type Workload = (&'static str, usize, fn() -> Sample, fn() -> Sample);

fn main() {
    let rounds: usize = std::env::var("ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(5);
    let workloads: [Workload; 4] = [
        (
            "tokio-postgres queries/s (native)",
            POSTGRES_QUERIES,
            postgres_tether,
            postgres_tokio,
        ),
        (
            "Redis GETs/s (native)",
            REDIS_GETS,
            redis_tether,
            redis_tokio,
        ),
        (
            "WebSocket messages/s (native, echoed)",
            WS_MESSAGES,
            ws_tether,
            ws_tokio,
        ),
        (
            "reqwest requests/s (tether: the bridge)",
            HTTP_REQUESTS,
            reqwest_tether,
            reqwest_tokio,
        ),
    ];
    // To profile one workload on one side: `ONLY=<part of its name>`, `SIDE=tether|tokio`.
    let only = std::env::var("ONLY").unwrap_or_default();
    let side = std::env::var("SIDE").unwrap_or_default();
    let skipped = || Sample {
        wall: Duration::from_secs(1),
        cpu: Duration::from_secs(1),
    };
    let mut samples = vec![(Vec::new(), Vec::new()); workloads.len()];
    for round in 0..rounds {
        for (i, (name, _, tether_run, tokio_run)) in workloads.iter().enumerate() {
            if !name.contains(only.as_str()) {
                continue;
            }
            let tether_run = || {
                if side == "tokio" {
                    skipped()
                } else {
                    tether_run()
                }
            };
            let tokio_run = || {
                if side == "tether" {
                    skipped()
                } else {
                    tokio_run()
                }
            };
            // Alternate which goes first, so neither always runs on a warmer machine.
            if round % 2 == 0 {
                samples[i].0.push(tether_run());
                samples[i].1.push(tokio_run());
            } else {
                samples[i].1.push(tokio_run());
                samples[i].0.push(tether_run());
            }
        }
        eprintln!("round {} of {rounds} done", round + 1);
    }
    let median = |samples: &[Sample], key: fn(&Sample) -> Duration| {
        let mut values: Vec<Duration> = samples.iter().map(key).collect();
        values.sort_unstable();
        values[values.len() / 2]
    };
    println!(
        "| workload ({rounds} interleaved rounds, medians) | tether ops/s | tokio current_thread ops/s | throughput ratio | tether CPU µs/op | tokio CPU µs/op | CPU ratio |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    for ((name, ops, _, _), (tether_samples, tokio_samples)) in workloads.iter().zip(&samples) {
        if tether_samples.is_empty() {
            continue;
        }
        let rate = |wall: Duration| *ops as f64 / wall.as_secs_f64();
        let cpu = |cpu: Duration| cpu.as_secs_f64() * 1e6 / *ops as f64;
        let (tether_wall, tokio_wall) = (
            median(tether_samples, |s| s.wall),
            median(tokio_samples, |s| s.wall),
        );
        let (tether_cpu, tokio_cpu) = (
            median(tether_samples, |s| s.cpu),
            median(tokio_samples, |s| s.cpu),
        );
        println!(
            "| {name} | {:.0} | {:.0} | {:.2}x | {:.1} | {:.1} | {:.2}x |",
            rate(tether_wall),
            rate(tokio_wall),
            rate(tether_wall) / rate(tokio_wall),
            cpu(tether_cpu),
            cpu(tokio_cpu),
            cpu(tether_cpu) / cpu(tokio_cpu),
        );
    }
}
