//! tokio-tungstenite on tether, natively: `accept_async` and `client_async` take tether streams
//! (tokio's traits, feature `tokio`); 10,000 messages echoed.

use futures::{SinkExt, StreamExt};
use tether::net::{TcpListener, TcpStream};
use tether_ecosystem::{flavours, no_fd_leaked};
use tokio_tungstenite::tungstenite::Message;

#[test]
fn ten_thousand_messages_echoed() {
    for runtime in flavours() {
        no_fd_leaked(|| {
            runtime.run(async {
                let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                let addr = listener.local_addr().unwrap();
                let server = tether::spawn(async move {
                    let (stream, _) = listener.accept().await.unwrap();
                    let mut socket = tokio_tungstenite::accept_async(stream).await.unwrap();
                    let mut echoed = 0;
                    while let Some(message) = socket.next().await {
                        match message.unwrap() {
                            message @ (Message::Text(_) | Message::Binary(_)) => {
                                socket.send(message).await.unwrap();
                                echoed += 1;
                            }
                            Message::Close(_) => break,
                            _ => {}
                        }
                    }
                    echoed
                });
                let stream = TcpStream::connect(addr).await.unwrap();
                let (mut socket, response) =
                    tokio_tungstenite::client_async(format!("ws://{addr}/echo"), stream)
                        .await
                        .unwrap();
                assert_eq!(response.status(), 101);
                let (mut sink, mut source) = socket.split();
                let sending = async {
                    for i in 0..10_000u32 {
                        sink.feed(Message::text(format!("message {i}")))
                            .await
                            .unwrap();
                    }
                    sink.flush().await.unwrap();
                };
                let receiving = async {
                    let mut received = 0u32;
                    while received < 10_000 {
                        let message = source.next().await.unwrap().unwrap();
                        assert_eq!(message.into_text().unwrap(), format!("message {received}"));
                        received += 1;
                    }
                };
                tether::gather!(sending, receiving);
                socket = sink.reunite(source).unwrap();
                socket.close(None).await.unwrap();
                assert_eq!(server.await.unwrap(), 10_000);
            });
        });
    }
}

#[test]
fn garbage_instead_of_a_handshake_is_an_error() {
    no_fd_leaked(|| {
        tether::run(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let server = tether::create_task(async move {
                let (stream, _) = listener.accept().await.unwrap();
                tokio_tungstenite::accept_async(stream).await.map(drop)
            });
            let mut client = TcpStream::connect(addr).await.unwrap();
            use futures::io::AsyncWriteExt;
            client.write_all(b"NOT HTTP AT ALL\r\n\r\n").await.unwrap();
            let error = server.await.unwrap().unwrap_err();
            assert!(!error.to_string().is_empty());
        });
    });
}
