//! Runtime-agnostic I/O crates work inside tether: `async-net` (over `async-io`, whose reactor
//! runs on a thread of its own and wakes tether's wakers from there, through the loop's
//! cross-thread wake path) serves and connects on both flavours.

use std::time::Duration;

use async_net::{TcpListener, TcpStream};
use futures::io::{AsyncReadExt, AsyncWriteExt};

const DEADLINE: Duration = Duration::from_secs(10);

async fn async_net_echoes_inside_tether() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tether::create_task(async move {
        let mut connections = tether::TaskSet::new();
        for _ in 0..3 {
            let (stream, _) = listener.accept().await.unwrap();
            connections.create_task(async move {
                let (mut reader, mut writer) = (stream.clone(), stream);
                futures::io::copy(&mut reader, &mut writer).await.unwrap()
            });
        }
        connections.join_all().await
    });
    let clients: Vec<_> = (0..3u8)
        .map(|c| {
            tether::create_task(async move {
                let mut stream = TcpStream::connect(addr).await.unwrap();
                let message = [c; 1000];
                stream.write_all(&message).await.unwrap();
                stream.shutdown(std::net::Shutdown::Write).unwrap();
                let mut echoed = Vec::new();
                stream.read_to_end(&mut echoed).await.unwrap();
                assert_eq!(echoed, message);
            })
        })
        .collect();
    tether::timeout(DEADLINE, async {
        for client in clients {
            client.await.unwrap();
        }
        let copied = server.await.unwrap();
        assert!(copied.into_iter().all(|bytes| bytes.unwrap() == 1000));
    })
    .await
    .expect("the echo finished in time");
}

#[cfg(not(miri))]
tether_tests::on_both_flavors!(async_net_echoes_inside_tether);
