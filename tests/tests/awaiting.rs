//! What each waiting task awaits: `TaskInfo::awaiting` and the lines of `dump_tasks`.

use std::time::Duration;

use tether::Runtime;
use tether::queue::Queue;
use tether::sync::{Barrier, BoundedSemaphore, Condition, Event, Lock, Semaphore};
use tether::task::{Awaiting, Builder, SyncKind, TaskInfo};

fn tracked() -> Runtime {
    Runtime::builder()
        .track_waits(true)
        .start_paused(true)
        .build()
}

fn find(name: &str) -> TaskInfo {
    tether::all_tasks()
        .into_iter()
        .find(|t| t.name == name)
        .unwrap_or_else(|| panic!("no task {name}"))
}

#[test]
fn each_kind_of_wait_is_recorded() {
    tracked().run(async {
        static DB: Lock = Lock::named("db");
        let event = Event::named("go");
        let semaphore = Semaphore::new(0);
        let queue: Queue<u8> = Queue::named(0, "jobs");
        let promise = tether::Promise::<()>::new();
        let resolver = promise.resolver();
        let held = DB.lock().await;
        let me = tether::current_task().unwrap().id;

        let sleeper = Builder::new()
            .name("sleeper")
            .create_task(tether::sleep(Duration::from_secs(30)));
        let waiter = Builder::new()
            .name("locker")
            .create_task(async { drop(DB.lock().await) });
        tether::task_group!(|tg| {
            let (event, semaphore, queue) = (&event, &semaphore, &queue);
            let a = tg.create_task(async move { event.wait().await });
            a.set_name("event");
            let b = tg.create_task(async move { drop(semaphore.acquire().await) });
            b.set_name("semaphore");
            let c = tg.create_task(async move { queue.get().await.unwrap() });
            c.set_name("queue");
            let d = tg.create_task(promise);
            d.set_name("promise");
            tether::yield_now().await;

            assert_eq!(
                find("locker").awaiting,
                Some(Awaiting::Sync {
                    kind: SyncKind::Lock,
                    name: Some("db"),
                    object: std::ptr::from_ref(&DB).addr(),
                    held_by: Some(me),
                })
            );
            assert!(matches!(
                find("sleeper").awaiting,
                Some(Awaiting::Timer { .. })
            ));
            let kind = |name| match find(name).awaiting {
                Some(Awaiting::Sync { kind, name, .. }) => (kind, name),
                other => panic!("{other:?}"),
            };
            assert_eq!(kind("event"), (SyncKind::Event, Some("go")));
            assert_eq!(kind("semaphore"), (SyncKind::Semaphore, None));
            assert_eq!(kind("queue"), (SyncKind::Queue, Some("jobs")));
            assert_eq!(find("promise").awaiting, Some(Awaiting::Promise));

            let tree = tether::dump_tasks();
            assert!(
                tree.contains("locker (Task-")
                    && tree.contains("awaiting Lock \"db\" held by Task-"),
                "{tree}"
            );
            assert!(tree.contains("awaiting a timer due in 30s"), "{tree}");
            assert!(tree.contains("awaiting Event \"go\""), "{tree}");
            assert!(tree.contains("awaiting Semaphore at 0x"), "{tree}");
            assert!(tree.contains("awaiting Queue \"jobs\""), "{tree}");

            event.set();
            semaphore.release();
            queue.put(1).await.unwrap();
            resolver.set_result(()).unwrap();
        })
        .unwrap();
        drop(held);
        waiter.await.unwrap();
        // A finished wait leaves no record behind.
        assert_eq!(find("sleeper").awaiting.map(|_| ()), Some(()));
        drop(sleeper);
    });
}

#[test]
fn awaiting_a_task_names_it() {
    tracked().run(async {
        let inner = Builder::new()
            .name("inner")
            .create_task(tether::sleep(Duration::from_secs(1)));
        let inner_id = inner.id();
        let outer = Builder::new().name("outer").create_task(inner);
        tether::yield_now().await;
        assert_eq!(
            find("outer").awaiting,
            Some(Awaiting::Task { id: inner_id })
        );
        let tree = tether::dump_tasks();
        assert!(tree.contains("awaiting task inner (Task-"), "{tree}");
        outer.await.unwrap().unwrap();
    });
}

#[test]
fn nothing_is_recorded_unless_asked() {
    Runtime::new().run(async {
        let event = Event::new();
        let waiter = Builder::new()
            .name("w")
            .create_task(async move { event.wait().await });
        tether::yield_now().await;
        assert_eq!(find("w").awaiting, None);
        drop(waiter);
    });
}

#[test]
fn conditions_and_barriers_are_recorded_with_their_names() {
    tracked().run(async {
        static JOBS: Condition = Condition::named("jobs");
        let buffer = Lock::named("buffer");
        let not_full = Condition::with_lock_named(&buffer, "not full");
        let start = Barrier::named(3, "start line");
        let pool = BoundedSemaphore::named(0, "db pool");
        let anonymous = Barrier::new(2);
        tether::task_group!(|tg| {
            let (not_full, start, anonymous, pool) = (&not_full, &start, &anonymous, &pool);
            let e = tg.create_task(async move { drop(pool.acquire().await) });
            e.set_name("pool user");
            let a = tg.create_task(async {
                let guard = JOBS.lock().await;
                drop(JOBS.wait(guard).await);
            });
            a.set_name("jobs waiter");
            let b = tg.create_task(async move {
                let guard = not_full.lock().await;
                drop(not_full.wait(guard).await);
            });
            b.set_name("buffer waiter");
            let c = tg.create_task(async move { assert!(start.wait().await.is_err()) });
            c.set_name("runner");
            let d = tg.create_task(async move { assert!(anonymous.wait().await.is_err()) });
            d.set_name("anonymous");
            tether::yield_now().await;

            assert_eq!(
                find("jobs waiter").awaiting,
                Some(Awaiting::Sync {
                    kind: SyncKind::Condition,
                    name: Some("jobs"),
                    object: std::ptr::from_ref(&JOBS).addr(),
                    held_by: None,
                })
            );
            let kind = |name| match find(name).awaiting {
                Some(Awaiting::Sync { kind, name, .. }) => (kind, name),
                other => panic!("{other:?}"),
            };
            assert_eq!(
                kind("buffer waiter"),
                (SyncKind::Condition, Some("not full"))
            );
            assert_eq!(kind("runner"), (SyncKind::Barrier, Some("start line")));
            assert_eq!(kind("anonymous"), (SyncKind::Barrier, None));
            assert_eq!(kind("pool user"), (SyncKind::Semaphore, Some("db pool")));
            let tree = tether::dump_tasks();
            assert!(tree.contains("awaiting Condition \"jobs\""), "{tree}");
            assert!(tree.contains("awaiting Condition \"not full\""), "{tree}");
            assert!(tree.contains("awaiting Barrier \"start line\""), "{tree}");
            assert!(tree.contains("awaiting Barrier at 0x"), "{tree}");

            // Notified while another task holds the lock: the waiter now waits for the
            // condition's lock, which `Condition::named` named after it.
            let guard = JOBS.lock().await;
            JOBS.notify(&guard, 1);
            tether::yield_now().await;
            let me = tether::current_task().unwrap().id;
            assert!(
                matches!(
                    find("jobs waiter").awaiting,
                    Some(Awaiting::Sync {
                        kind: SyncKind::Lock,
                        name: Some("jobs"),
                        held_by: Some(holder),
                        ..
                    }) if holder == me
                ),
                "{:?}",
                find("jobs waiter").awaiting
            );
            drop(guard);
            not_full.notify_all(&not_full.lock().await);
            start.abort();
            anonymous.abort();
            e.cancel();
        })
        .unwrap();
    });
}

#[test]
fn awaiting_a_group_childs_handle_names_the_child() {
    tracked().run(async {
        tether::task_group!(|tg| {
            let child = tg.create_task(tether::sleep(Duration::from_secs(5)));
            child.set_name("child");
            let child_id = child.id();
            let watcher = tg.create_task(async move { child.await.unwrap() });
            watcher.set_name("watcher");
            tether::yield_now().await;
            assert_eq!(
                find("watcher").awaiting,
                Some(Awaiting::Task { id: child_id })
            );
            let tree = tether::dump_tasks();
            assert!(tree.contains("awaiting task child (Task-"), "{tree}");
        })
        .unwrap();
    });
}

/// A runtime that records waits on the real clock (the sockets below are real).
fn tracked_real_time() -> Runtime {
    Runtime::builder().track_waits(true).build()
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot open sockets")]
fn io_waits_name_the_socket_and_the_direction() {
    use futures::io::{AsyncReadExt, AsyncWriteExt};
    use std::os::fd::AsRawFd;
    use tether::net::{TcpListener, TcpStream, UdpSocket};
    use tether::task::IoDirection;

    tracked_real_time().run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let acceptor = Builder::new()
            .name("acceptor")
            .create_task(async move { listener.accept().await.unwrap().0 });
        tether::yield_now().await;
        let Some(Awaiting::Io {
            direction,
            resource,
            local,
            peer,
            ..
        }) = find("acceptor").awaiting
        else {
            panic!("{:?}", find("acceptor").awaiting)
        };
        assert_eq!(
            (direction, resource, local, peer),
            (IoDirection::Readable, "TCP listener", Some(addr), None)
        );
        let tree = tether::dump_tasks();
        assert!(
            tree.contains(&format!("awaiting readable on TCP listener {addr} (fd ")),
            "{tree}"
        );

        let mut client = TcpStream::connect(addr).await.unwrap();
        let server = acceptor.await.unwrap();
        let client_addr = client.local_addr().unwrap();
        let fd = server.as_raw_fd();
        let reader = Builder::new().name("reader").create_task(async move {
            let mut server = server;
            let mut buf = [0; 4];
            server.read_exact(&mut buf).await.unwrap();
            (server, buf)
        });
        tether::yield_now().await;
        assert!(
            matches!(
                find("reader").awaiting,
                Some(Awaiting::Io {
                    direction: IoDirection::Readable,
                    resource: "TCP stream",
                    local: Some(local),
                    peer: Some(peer),
                    fd: found,
                    ..
                }) if (local, peer, found) == (addr, client_addr, fd)
            ),
            "{:?}",
            find("reader").awaiting
        );
        let tree = tether::dump_tasks();
        assert!(
            tree.contains(&format!(
                "awaiting readable on TCP stream {addr} (peer {client_addr}, fd {fd})"
            )),
            "{tree}"
        );
        client.write_all(b"ping").await.unwrap();
        let (server, got) = reader.await.unwrap();
        assert_eq!(&got, b"ping");
        // The waits this task made (on the acceptor, the connect, the reader) are over: none is
        // left recorded.
        let me = tether::current_task().unwrap().id;
        let mine = tether::all_tasks()
            .into_iter()
            .find(|t| t.id == me)
            .unwrap();
        assert_eq!(mine.awaiting, None);

        // A writer parks once the peer, which reads nothing, has let the buffers fill up: in
        // its first poll, since every write before that completes at once.
        let writer = Builder::new().name("writer").create_task(async move {
            let chunk = vec![0u8; 1 << 16];
            loop {
                client.write_all(&chunk).await.unwrap();
            }
        });
        tether::yield_now().await;
        assert!(
            matches!(
                find("writer").awaiting,
                Some(Awaiting::Io {
                    direction: IoDirection::Writable,
                    resource: "TCP stream",
                    local: Some(local),
                    peer: Some(peer),
                    ..
                }) if (local, peer) == (client_addr, addr)
            ),
            "{:?}",
            find("writer").awaiting
        );
        assert!(tether::dump_tasks().contains("awaiting writable on TCP stream"));
        drop(writer);
        drop(server);

        let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let udp_addr = socket.local_addr().unwrap();
        let receiver = Builder::new().name("receiver").create_task(async move {
            let mut buf = [0; 8];
            socket.recv_from(&mut buf).await.unwrap().0
        });
        tether::yield_now().await;
        assert!(
            matches!(
                find("receiver").awaiting,
                Some(Awaiting::Io {
                    direction: IoDirection::Readable,
                    resource: "UDP socket",
                    local: Some(local),
                    peer: None,
                    ..
                }) if local == udp_addr
            ),
            "{:?}",
            find("receiver").awaiting
        );
        let sender = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        sender.send_to(b"hi", udp_addr).await.unwrap();
        assert_eq!(receiver.await.unwrap(), 2);
    });
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot open sockets")]
fn an_abandoned_read_is_shown_until_a_newer_wait_and_forgotten_when_its_socket_closes() {
    use futures::io::AsyncReadExt;
    use tether::net::{TcpListener, TcpStream};

    tracked().run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (server, _) = listener.accept().await.unwrap();
        let (next, closed) = (Event::named("next"), Event::new());
        tether::task_group!(|tg| {
            let (next, closed) = (&next, &closed);
            let reader = tg.create_task(async move {
                let mut server = server;
                let mut buf = [0; 1];
                // The read is dropped by its timeout: its waker, and its record, stay with
                // the socket until the socket is ready or closed.
                let read = tether::timeout(Duration::from_secs(1), server.read(&mut buf)).await;
                assert!(read.is_err(), "nothing was sent");
                next.wait().await;
                drop(server);
                closed.set();
                std::future::pending::<()>().await
            });
            reader.set_name("reader");
            tether::sleep(Duration::from_secs(2)).await;
            // The newer wait is the one shown.
            assert!(matches!(
                find("reader").awaiting,
                Some(Awaiting::Sync {
                    kind: SyncKind::Event,
                    name: Some("next"),
                    ..
                })
            ));
            next.set();
            closed.wait().await;
            // The socket is closed: no record of the abandoned read is left behind.
            assert_eq!(find("reader").awaiting, None);
            reader.cancel();
        })
        .unwrap();
        drop(client);
    });
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot install signal handlers")]
fn a_signal_listener_awaits_the_signal_pipe() {
    tracked_real_time().run(async {
        let mut signals = tether::signal::unix::signal(libc::SIGUSR2).unwrap();
        let listener = Builder::new()
            .name("listener")
            .create_task(async move { signals.recv().await });
        tether::yield_now().await;
        assert!(
            matches!(
                find("listener").awaiting,
                Some(Awaiting::Io {
                    direction: tether::task::IoDirection::Readable,
                    resource: "signal pipe",
                    local: None,
                    peer: None,
                    ..
                })
            ),
            "{:?}",
            find("listener").awaiting
        );
        assert!(tether::dump_tasks().contains("awaiting readable on signal pipe (fd "));
        // SAFETY: sending a signal to this process, whose handler `signal` installed.
        assert_eq!(unsafe { libc::kill(libc::getpid(), libc::SIGUSR2) }, 0);
        assert_eq!(listener.await.unwrap(), Some(()));
    });
}
