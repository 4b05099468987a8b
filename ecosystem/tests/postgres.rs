//! tokio-postgres on tether, natively: its `runtime` feature off, `Config::connect_raw` over a
//! `tether::net::TcpStream` (tokio's I/O traits, feature `tokio`), the connection future owned
//! by a `TaskSet`. Against the PostgreSQL server that `scripts/ecosystem.sh` starts.

use std::time::{Duration, Instant};

use tether::TaskSet;
use tether::net::{TcpListener, TcpStream};
use tether_ecosystem::{flavours, no_fd_leaked, server};
use tokio_postgres::error::SqlState;
use tokio_postgres::{Client, Config, NoTls};

/// A client on a fresh connection; its connection future runs in `connections`, which owns it.
async fn connect(connections: &mut TaskSet<()>) -> Client {
    let config: Config = server("TETHER_ECO_PG").parse().unwrap();
    let stream = TcpStream::connect(server("TETHER_ECO_PG_ADDR"))
        .await
        .unwrap();
    let (client, connection) = config.connect_raw(stream, NoTls).await.unwrap();
    connections.create_task(async move {
        // Ends when the client is dropped or the server goes away; the error then reaches
        // the client's calls too.
        let _ = connection.await;
    });
    client
}

#[test]
fn schema_ten_thousand_rows_in_one_transaction_and_a_hundred_concurrent_queries() {
    for runtime in flavours() {
        no_fd_leaked(|| {
            runtime.run(async {
                let mut connections = TaskSet::new();
                let mut client = connect(&mut connections).await;
                client
                    .batch_execute(
                        "DROP TABLE IF EXISTS items;
                         CREATE TABLE items (id integer PRIMARY KEY, name text NOT NULL)",
                    )
                    .await
                    .unwrap();

                // 10,000 rows in one transaction, the inserts pipelined on the connection.
                let transaction = client.transaction().await.unwrap();
                let insert = transaction
                    .prepare("INSERT INTO items (id, name) VALUES ($1, $2)")
                    .await
                    .unwrap();
                for chunk in (0..10_000i32).collect::<Vec<_>>().chunks(500) {
                    let inserts = chunk.iter().map(|id| {
                        let name = format!("item {id}");
                        let (transaction, insert) = (&transaction, &insert);
                        async move { transaction.execute(insert, &[id, &name]).await }
                    });
                    for inserted in tether::gather(inserts).await {
                        assert_eq!(inserted.unwrap(), 1);
                    }
                }
                transaction.commit().await.unwrap();
                let row = client
                    .query_one("SELECT count(*), sum(id) FROM items", &[])
                    .await
                    .unwrap();
                assert_eq!(row.get::<_, i64>(0), 10_000);
                assert_eq!(row.get::<_, i64>(1), (0..10_000i64).sum());

                // 100 queries at once from a task group, over the one pipelined connection:
                // the children borrow the client.
                let client = &client;
                let names = tether::task_group!(|tg| {
                    let handles: Vec<_> = (0..100i32)
                        .map(|i| {
                            tg.create_task(async move {
                                let row = client
                                    .query_one("SELECT name FROM items WHERE id = $1", &[&(i * 97)])
                                    .await
                                    .unwrap();
                                row.get::<_, String>(0)
                            })
                        })
                        .collect();
                    handles
                })
                .unwrap();
                for (i, handle) in names.into_iter().enumerate() {
                    assert_eq!(handle.await.unwrap(), format!("item {}", i as i32 * 97));
                }
                client.batch_execute("DROP TABLE items").await.unwrap();
            });
        });
    }
}

#[test]
fn a_query_cancelled_by_a_timeout_leaves_the_connection_usable() {
    no_fd_leaked(|| {
        tether::run(async {
            let mut connections = TaskSet::new();
            let client = connect(&mut connections).await;
            let started = Instant::now();
            let slow = tether::timeout(
                Duration::from_millis(50),
                client.query_one("SELECT pg_sleep(60)", &[]),
            )
            .await;
            assert!(slow.is_err(), "the sleep finished: {slow:?}");
            // The request is on the server: cancel it there too (PostgreSQL's cancel request,
            // on a second connection), as a timeout in a real service would.
            let cancel = client.cancel_token();
            let stream = TcpStream::connect(server("TETHER_ECO_PG_ADDR"))
                .await
                .unwrap();
            cancel.cancel_query_raw(stream, NoTls).await.unwrap();
            // The connection is usable, at once rather than after the sleep.
            let row = client.query_one("SELECT 40 + 2", &[]).await.unwrap();
            assert_eq!(row.get::<_, i32>(0), 42);
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "{:?}",
                started.elapsed()
            );
        });
    });
}

#[test]
fn a_server_restarted_mid_run_gives_a_clear_error_and_a_reconnect_works() {
    no_fd_leaked(|| {
        tether::run(async {
            let mut connections = TaskSet::new();
            let client = connect(&mut connections).await;
            assert_eq!(
                client
                    .query_one("SELECT 1", &[])
                    .await
                    .unwrap()
                    .get::<_, i32>(0),
                1
            );
            // Restart the server (a fast shutdown: it terminates every session).
            let restarted = tether::to_thread(|| {
                std::process::Command::new(server("TETHER_ECO_PG_RESTART")).status()
            })
            .await
            .unwrap()
            .unwrap();
            assert!(restarted.success());
            let error = client.query_one("SELECT 1", &[]).await.unwrap_err();
            let terminated = error
                .as_db_error()
                .is_some_and(|db| db.code() == &SqlState::ADMIN_SHUTDOWN);
            assert!(
                error.is_closed() || terminated,
                "not a clear error: {error:?}"
            );
            // The old connection's task has ended; a new connection works.
            let client = connect(&mut connections).await;
            assert_eq!(
                client
                    .query_one("SELECT 2", &[])
                    .await
                    .unwrap()
                    .get::<_, i32>(0),
                2
            );
        });
    });
}

#[test]
fn a_wrong_password_is_the_clients_error() {
    no_fd_leaked(|| {
        tether::run(async {
            let mut config: Config = server("TETHER_ECO_PG").parse().unwrap();
            config.password("not-the-password");
            let stream = TcpStream::connect(server("TETHER_ECO_PG_ADDR"))
                .await
                .unwrap();
            let error = config.connect_raw(stream, NoTls).await.err().unwrap();
            let refused = error.as_db_error().expect("the server's refusal");
            assert_eq!(refused.code(), &SqlState::INVALID_PASSWORD, "{refused:?}");
            assert!(
                refused.message().contains("password authentication failed"),
                "{refused:?}"
            );
        });
    });
}

#[test]
fn a_server_that_sends_garbage_or_hangs_up_mid_query_gives_errors_not_hangs() {
    no_fd_leaked(|| {
        tether::run(async {
            let config: Config = server("TETHER_ECO_PG").parse().unwrap();
            // A "server" that answers the startup message with garbage.
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let fake = tether::create_task(async move {
                use futures::io::{AsyncReadExt, AsyncWriteExt};
                let (mut stream, _) = listener.accept().await.unwrap();
                let mut startup = [0u8; 64];
                let _ = stream.read(&mut startup).await;
                stream
                    .write_all(b"\x00\xffnot the PostgreSQL protocol\x00\x00")
                    .await
                    .unwrap();
                // Then the first half of a valid message, and a hang-up.
                stream.write_all(b"R\x00\x00").await.unwrap();
            });
            let stream = TcpStream::connect(addr).await.unwrap();
            let outcome =
                tether::timeout(Duration::from_secs(10), config.connect_raw(stream, NoTls)).await;
            let error = outcome.expect("the client hung on garbage").err().unwrap();
            assert!(!error.to_string().is_empty());
            fake.await.unwrap();

            // A real server, and the connection cut under a query.
            let mut connections = TaskSet::new();
            let client = connect(&mut connections).await;
            let pid: i32 = client
                .query_one("SELECT pg_backend_pid()", &[])
                .await
                .unwrap()
                .get(0);
            let killer = connect(&mut connections).await;
            let (slow, killed) =
                tether::gather!(client.query_one("SELECT pg_sleep(30)", &[]), async {
                    tether::sleep(Duration::from_millis(100)).await;
                    killer
                        .query_one("SELECT pg_terminate_backend($1)", &[&pid])
                        .await
                        .unwrap()
                        .get::<_, bool>(0)
                });
            assert!(killed);
            let error = slow.unwrap_err();
            let terminated = error
                .as_db_error()
                .is_some_and(|db| db.code() == &SqlState::ADMIN_SHUTDOWN);
            assert!(terminated || error.is_closed(), "{error:?}");
        });
    });
}
