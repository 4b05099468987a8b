//! redis-rs on tether, natively: `MultiplexedConnection::new` takes the caller's stream (a
//! `tether::net::TcpStream`, tokio's traits under the `tokio` feature) and hands back its driver
//! future, which a `TaskSet` owns. Pub/sub over RESP3 pushes, on the same kind of connection.
//!
//! Two settings keep redis-rs off tokio's runtime: no response timeout (redis-rs would time
//! requests with `tokio::time`; `tether::timeout` does it instead), and pub/sub through a push
//! sender rather than `aio::PubSub`, which spawns its driver with `tokio::spawn`.

use std::time::Duration;

use futures::StreamExt;
use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, ProtocolVersion, PushInfo, RedisConnectionInfo};
use tether::TaskSet;
use tether::net::TcpStream;
use tether_ecosystem::{flavours, no_fd_leaked, server};

async fn connect(
    connections: &mut TaskSet<()>,
    config: AsyncConnectionConfig,
) -> redis::RedisResult<MultiplexedConnection> {
    let stream = TcpStream::connect(server("TETHER_ECO_REDIS")).await?;
    let info = RedisConnectionInfo::default().set_protocol(ProtocolVersion::RESP3);
    let config = config.set_response_timeout(None);
    let (connection, driver) =
        MultiplexedConnection::new_with_config(&info, stream, config).await?;
    connections.create_task(driver);
    Ok(connection)
}

#[test]
fn pipelined_set_and_get_of_ten_thousand_keys() {
    for runtime in flavours() {
        no_fd_leaked(|| {
            runtime.run(async {
                let mut connections = TaskSet::new();
                let mut redis = connect(&mut connections, AsyncConnectionConfig::new())
                    .await
                    .unwrap();
                let mut set = redis::pipe();
                for i in 0..10_000 {
                    set.set(format!("tether:key:{i}"), i).ignore();
                }
                set.exec_async(&mut redis).await.unwrap();
                let mut get = redis::pipe();
                for i in 0..10_000 {
                    get.get(format!("tether:key:{i}"));
                }
                let values: Vec<i64> = get.query_async(&mut redis).await.unwrap();
                assert_eq!(values, (0..10_000).collect::<Vec<i64>>());
                // Many tasks on one multiplexed connection.
                let sums = tether::task_group!(|tg| {
                    (0..50)
                        .map(|task| {
                            let mut redis = redis.clone();
                            tg.create_task(async move {
                                let mut sum = 0i64;
                                for i in (task * 200)..(task * 200 + 200) {
                                    let value: i64 = redis::cmd("GET")
                                        .arg(format!("tether:key:{i}"))
                                        .query_async(&mut redis)
                                        .await
                                        .unwrap();
                                    sum += value;
                                }
                                sum
                            })
                        })
                        .collect::<Vec<_>>()
                })
                .unwrap();
                let mut total = 0;
                for sum in sums {
                    total += sum.await.unwrap();
                }
                assert_eq!(total, (0..10_000i64).sum());
                let _: () = redis::cmd("FLUSHDB").query_async(&mut redis).await.unwrap();
            });
        });
    }
}

#[test]
fn pub_sub_between_two_tasks() {
    no_fd_leaked(|| {
        tether::run(async {
            let mut connections = TaskSet::new();
            let (pushes, mut received) = futures::channel::mpsc::unbounded::<PushInfo>();
            let mut subscriber = connect(
                &mut connections,
                AsyncConnectionConfig::new()
                    .set_push_sender(move |push: PushInfo| pushes.unbounded_send(push)),
            )
            .await
            .unwrap();
            subscriber.subscribe("tether:news").await.unwrap();
            let mut publisher = connect(&mut connections, AsyncConnectionConfig::new())
                .await
                .unwrap();
            let publishing = tether::create_task(async move {
                for i in 0..100 {
                    let _: i64 = redis::cmd("PUBLISH")
                        .arg("tether:news")
                        .arg(format!("message {i}"))
                        .query_async(&mut publisher)
                        .await
                        .unwrap();
                }
            });
            let mut messages = Vec::new();
            while messages.len() < 100 {
                let push = tether::timeout(Duration::from_secs(10), received.next())
                    .await
                    .expect("a published message did not arrive")
                    .unwrap();
                if push.kind == redis::PushKind::Message {
                    let payload: String = redis::from_redis_value(push.data[1].clone()).unwrap();
                    messages.push(payload);
                }
            }
            assert_eq!(
                messages,
                (0..100).map(|i| format!("message {i}")).collect::<Vec<_>>()
            );
            publishing.await.unwrap();
        });
    });
}

#[test]
fn a_closed_port_and_a_dead_server_are_errors() {
    no_fd_leaked(|| {
        tether::run(async {
            // Nobody listens there: the connect fails with the address in the message.
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let addr = listener.local_addr().unwrap();
            drop(listener);
            let error = TcpStream::connect(addr).await.unwrap_err();
            assert!(error.to_string().contains(&addr.to_string()), "{error}");
            // A server that hangs up at once: the handshake fails, nothing hangs.
            let listener = tether::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let hang_up = tether::create_task(async move {
                let (stream, _) = listener.accept().await.unwrap();
                drop(stream);
            });
            let stream = TcpStream::connect(addr).await.unwrap();
            let info = RedisConnectionInfo::default().set_protocol(ProtocolVersion::RESP3);
            let config = AsyncConnectionConfig::new().set_response_timeout(None);
            let outcome = tether::timeout(
                Duration::from_secs(10),
                MultiplexedConnection::new_with_config(&info, stream, config),
            )
            .await
            .expect("the handshake hung on a closed connection");
            assert!(outcome.is_err());
            hang_up.await.unwrap();
        });
    });
}
