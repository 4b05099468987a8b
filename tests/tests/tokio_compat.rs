//! tokio's ecosystem on tether: tokio's I/O traits on tether's streams (feature `tokio`), and the
//! bridge to a tokio runtime for crates that need one (feature `tokio-bridge`):
//! `tether::compat::tokio`, `Builder::tokio`, `#[tether::test(tokio)]`.

use std::mem::MaybeUninit;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tether::net::{TcpListener, TcpStream, UnixStream};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader, ReadBuf};

/// Whether this process has a thread with the kernel id `tid`.
fn thread_alive(tid: i32) -> bool {
    std::path::Path::new(&format!("/proc/self/task/{tid}")).exists()
}

/// Whether the thread `tid`, already joined, has left `/proc` within `bound`. A join returns
/// when the kernel clears the thread's id, a moment before it removes the thread's entry: the
/// entry may outlive the join by that moment, on a loaded machine by more.
fn thread_gone_within(tid: i32, bound: Duration) -> bool {
    let start = std::time::Instant::now();
    while thread_alive(tid) {
        if start.elapsed() > bound {
            return false;
        }
        std::thread::yield_now();
    }
    true
}

fn flavours() -> [tether::Runtime; 2] {
    [
        tether::Runtime::new(),
        tether::Runtime::builder().workers(2).build(),
    ]
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot open sockets")]
fn tokio_traits_on_tcp_streams_and_their_halves() {
    for runtime in flavours() {
        runtime.run(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            // An echo server written with tokio's helpers over tether's owned halves.
            let server = tether::spawn(async move {
                let (stream, _) = listener.accept().await.unwrap();
                let (mut reader, mut writer) = stream.into_split();
                let copied = tokio::io::copy(&mut reader, &mut writer).await.unwrap();
                AsyncWriteExt::shutdown(&mut writer).await.unwrap();
                copied
            });
            let mut client = TcpStream::connect(addr).await.unwrap();
            let message: Vec<u8> = (0..200_000u32).map(|i| i as u8).collect();
            let (mut reader, mut writer) = (&client, &client);
            let write = async {
                writer.write_all(&message).await.unwrap();
                AsyncWriteExt::shutdown(&mut writer).await.unwrap();
            };
            let mut echoed = Vec::new();
            let read = reader.read_to_end(&mut echoed);
            let ((), read) = tether::gather!(write, read);
            assert_eq!(read.unwrap(), message.len());
            assert_eq!(echoed, message);
            assert_eq!(server.await.unwrap(), message.len() as u64);
            // The peer has closed: a read reports the end at once.
            assert_eq!(client.read(&mut [0; 8]).await.unwrap(), 0);
        });
    }
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot open sockets")]
fn tokio_reads_fill_uninitialised_buffers_in_place() {
    tether::run(async {
        let (mut a, mut b) = UnixStream::pair().unwrap();
        a.write_all(b"line one\nline two\n").await.unwrap();
        drop(a);
        // An uninitialised buffer: the read writes into it directly.
        let mut storage = [MaybeUninit::<u8>::uninit(); 64];
        let mut buf = ReadBuf::uninit(&mut storage);
        std::future::poll_fn(|cx| {
            tokio::io::AsyncRead::poll_read(std::pin::Pin::new(&mut b), cx, &mut buf)
        })
        .await
        .unwrap();
        assert_eq!(buf.filled(), b"line one\nline two\n");
        assert_eq!(buf.initialized().len(), buf.filled().len());
        // And tokio's buffered reader, line by line, on a fresh pair.
        let (mut c, d) = UnixStream::pair().unwrap();
        c.write_all(b"alpha\nbeta\n").await.unwrap();
        AsyncWriteExt::shutdown(&mut c).await.unwrap();
        let mut lines = BufReader::new(d).lines();
        assert_eq!(lines.next_line().await.unwrap().as_deref(), Some("alpha"));
        assert_eq!(lines.next_line().await.unwrap().as_deref(), Some("beta"));
        assert_eq!(lines.next_line().await.unwrap(), None);
    });
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot open sockets")]
fn a_write_to_a_closed_peer_is_an_error_not_a_panic() {
    tether::run(async {
        let (mut a, b) = UnixStream::pair().unwrap();
        drop(b);
        let mut failed = None;
        for _ in 0..64 {
            if let Err(error) = a.write_all(&[7; 4096]).await {
                failed = Some(error);
                break;
            }
        }
        let error = failed.expect("writes to a closed peer fail");
        assert_eq!(error.kind(), std::io::ErrorKind::BrokenPipe, "{error}");
    });
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot open sockets or run tokio's driver")]
fn the_bridge_runs_tokio_timers_and_sockets_and_stops_with_the_run() {
    for runtime in flavours() {
        let helper = runtime.run(async {
            // Built inside the async block: tokio's constructors look for the context too.
            tether::compat::tokio(async { tokio::time::sleep(Duration::from_millis(2)).await })
                .await;
            // The bridge's thread, as the kernel knows it: where its tasks run. (Other tests of
            // this file run bridges of their own at the same time: counting threads by name
            // would count theirs.)
            let helper = tether::compat::tokio(async {
                tokio::spawn(async {
                    // SAFETY: gettid has no preconditions.
                    unsafe { libc::gettid() }
                })
                .await
                .unwrap()
            })
            .await;
            assert!(thread_alive(helper));
            let name = std::fs::read_to_string(format!("/proc/self/task/{helper}/comm")).unwrap();
            assert_eq!(name.trim(), "tether-tokio");
            // tokio's own sockets, driven by the bridge, awaited by tether tasks.
            let listener =
                tether::compat::tokio(async { tokio::net::TcpListener::bind("127.0.0.1:0").await })
                    .await
                    .unwrap();
            let addr = listener.local_addr().unwrap();
            let server = tether::create_task(tether::compat::tokio(async move {
                let (mut stream, _) = listener.accept().await.unwrap();
                stream.write_all(b"from tokio").await.unwrap();
            }));
            let mut client = TcpStream::connect(addr).await.unwrap();
            let mut got = String::new();
            client.read_to_string(&mut got).await.unwrap();
            assert_eq!(got, "from tokio");
            server.await.unwrap();
            helper
        });
        // The run is over: so is its bridge (joined before `run` returned).
        assert!(thread_gone_within(helper, Duration::from_secs(10)));
    }
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot run tokio's driver")]
fn tether_cancels_a_bridged_future() {
    tether::run(async {
        let dropped = Arc::new(AtomicBool::new(false));
        struct Flag(Arc<AtomicBool>);
        impl Drop for Flag {
            fn drop(&mut self) {
                self.0.store(true, Ordering::SeqCst);
            }
        }
        let flag = Flag(dropped.clone());
        let outcome = tether::timeout(
            Duration::from_millis(5),
            tether::compat::tokio(async move {
                let _flag = flag;
                tokio::time::sleep(Duration::from_secs(3600)).await;
            }),
        )
        .await;
        assert!(outcome.is_err());
        assert!(dropped.load(Ordering::SeqCst));
    });
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot run tokio's driver")]
fn builder_tokio_enters_the_context_on_every_loop_thread() {
    let runtime = tether::Runtime::builder().workers(2).tokio(true).build();
    let unowned_dropped = Arc::new(AtomicBool::new(false));
    let flag = unowned_dropped.clone();
    runtime.run(async move {
        // On whichever worker runs them, `Send` tasks find the context: no call site wrapped.
        let mut set = tether::TaskSet::new();
        for i in 0..8u64 {
            set.spawn(async move {
                tokio::time::sleep(Duration::from_millis(1)).await;
                tokio::spawn(async move { i * 2 }).await.unwrap()
            });
        }
        let mut sum = 0;
        while let Some(doubled) = set.join_next().await {
            sum += doubled.unwrap();
        }
        assert_eq!(sum, 56);
        // The escape the docs name: a task that nobody in tether owns, left running.
        tokio::spawn(async move {
            struct Flag(Arc<AtomicBool>);
            impl Drop for Flag {
                fn drop(&mut self) {
                    self.0.store(true, Ordering::SeqCst);
                }
            }
            let _flag = Flag(flag);
            std::future::pending::<()>().await;
        });
        tokio::task::yield_now().await;
    });
    // ... dropped when the run's bridge shuts down.
    assert!(unowned_dropped.load(Ordering::SeqCst));
}

#[tether::test(tokio)]
#[cfg_attr(miri, ignore = "Miri cannot run tokio's driver")]
async fn the_test_attribute_takes_tokio() {
    let start = std::time::Instant::now();
    tokio::time::sleep(Duration::from_millis(3)).await;
    assert!(start.elapsed() >= Duration::from_millis(3));
}

#[test]
#[should_panic(expected = "tether::compat::tokio was polled outside a running tether loop")]
fn the_bridge_outside_tether_says_what_to_do() {
    let mut bridged = std::pin::pin!(tether::compat::tokio(async {}));
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    let _ = std::future::Future::poll(bridged.as_mut(), &mut cx);
}

#[test]
#[cfg_attr(miri, ignore = "spawns processes")]
fn tokio_traits_on_a_childs_pipes() {
    for runtime in flavours() {
        runtime.run(async {
            use tether::process::{Command, Stdio};
            let mut child = Command::new("cat")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .unwrap();
            let mut stdin = child.stdin.take().unwrap();
            let mut stdout = child.stdout.take().unwrap();
            let input: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
            let write = async {
                stdin.write_all(&input).await.unwrap();
                AsyncWriteExt::shutdown(&mut stdin).await.unwrap();
                drop(stdin); // the end of cat's input
            };
            let mut output = Vec::new();
            let ((), read) = tether::gather!(write, stdout.read_to_end(&mut output));
            assert_eq!(read.unwrap(), input.len());
            assert_eq!(output, input);
            assert!(child.wait().await.unwrap().success());
        });
    }
}
