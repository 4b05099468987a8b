//! No file descriptor outlives its socket: cancelled reads and accepts, dropped streams,
//! listeners and split halves, on both flavours, leave `/proc/self/fd` as they found it.
//!
//! One test in its own binary, so no other test opens or closes descriptors meanwhile.

#![cfg(target_os = "linux")]

use std::time::Duration;

use futures::io::{AsyncReadExt, AsyncWriteExt};
use tether::net::{TcpListener, TcpStream, UdpSocket};

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

async fn churn() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    // An accept cancelled while waiting.
    assert!(
        tether::timeout(Duration::from_millis(5), listener.accept())
            .await
            .is_err()
    );
    for _ in 0..20 {
        let mut client = TcpStream::connect(addr).await.unwrap();
        let (server, _) = listener.accept().await.unwrap();
        let (mut reader, writer) = server.into_split();
        // A read cancelled while waiting, then one that gets the data.
        let mut buf = [0; 4];
        assert!(
            tether::timeout(Duration::from_millis(1), reader.read(&mut buf))
                .await
                .is_err()
        );
        client.write_all(b"data").await.unwrap();
        reader.read_exact(&mut buf).await.unwrap();
        drop(writer);
        // A task blocked in a read, cancelled by dropping its handle.
        let blocked = tether::create_task(async move {
            let mut buf = [0; 1];
            let _ = reader.read(&mut buf).await;
        });
        tether::yield_now().await;
        drop(blocked);
    }
    // A connect that fails, and a socket that is never used.
    drop(listener);
    assert!(TcpStream::connect(addr).await.is_err());
    drop(UdpSocket::bind("127.0.0.1:0").await.unwrap());
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot open sockets")]
fn sockets_leave_no_descriptor_behind() {
    // A first run, so that whatever the process opens once (the blocking pool's threads,
    // std's lazies) is open before counting.
    tether::run(churn());
    let before = open_fds();
    tether::run(churn());
    tether::Runtime::builder().workers(2).build().run(churn());
    assert_eq!(open_fds(), before, "descriptors leaked");
}
