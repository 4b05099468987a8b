//! tokio-util's codecs on tether streams, natively: a line protocol with `Framed` and
//! `LinesCodec`.

use futures::{SinkExt, StreamExt};
use tether::net::UnixStream;
use tether_ecosystem::no_fd_leaked;
use tokio_util::codec::{Framed, LinesCodec, LinesCodecError};

#[test]
fn lines_both_ways_and_an_overlong_line_is_the_codecs_error() {
    no_fd_leaked(|| {
        tether::run(async {
            let (a, b) = UnixStream::pair().unwrap();
            let mut server = Framed::new(a, LinesCodec::new_with_max_length(64));
            let mut client = Framed::new(b, LinesCodec::new());
            let serving = tether::create_task(async move {
                while let Some(line) = server.next().await {
                    match line {
                        Ok(line) => server.send(line.to_uppercase()).await.unwrap(),
                        Err(LinesCodecError::MaxLineLengthExceeded) => {
                            server.send("too long").await.unwrap();
                        }
                        Err(error) => panic!("{error}"),
                    }
                }
            });
            for word in ["alpha", "beta", "gamma"] {
                client.send(word).await.unwrap();
                assert_eq!(client.next().await.unwrap().unwrap(), word.to_uppercase());
            }
            client.send("x".repeat(1000)).await.unwrap();
            assert_eq!(client.next().await.unwrap().unwrap(), "too long");
            drop(client);
            serving.await.unwrap();
        });
    });
}
