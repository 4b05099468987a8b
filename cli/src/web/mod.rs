//! `tether web`: a live page about the target, served on 127.0.0.1 by hyper on tether's own
//! loop (the tool runs on the runtime it inspects).
//!
//! One task samples the target every second on the blocking pool (`tether::to_thread`: reading
//! another process's memory is blocking work) and keeps the latest snapshot and the history of
//! every task seen; each connection is a task of a `TaskSet`. Endpoints:
//!
//! - `/`: the page (HTML, CSS and script in the binary; nothing loaded from elsewhere): the
//!   task tree, filterable, with links from each wait to the task it waits on, and a timeline
//!   of task lifetimes;
//! - `/snapshot.json`: the latest snapshot (`cli/SCHEMA.md`);
//! - `/history.json`: every task seen since the tool started, with when it started and ended;
//! - `/cycles.json`: the await cycles of the latest snapshot, as `pstree` finds them
//!   (`{"taken_ns": .., "cycles": [[task id, ...], ...], "more": false}`).

mod history;
mod server;

use std::cell::RefCell;
use std::io::Write as _;
use std::rc::Rc;
use std::time::Duration;

use futures::FutureExt as _;
use history::History;

use crate::model::Snapshot;

/// How often the target is sampled.
const SAMPLE_EVERY: Duration = Duration::from_secs(1);

/// What the sampler keeps and the handlers serve.
#[derive(Debug, Default)]
struct Shared {
    /// The latest snapshot's JSON.
    latest: String,
    /// Its await cycles, as `/cycles.json` serves them.
    cycles: String,
    /// Why the last sample failed (the target may have exited), if it did.
    error: Option<String>,
    history: History,
}

impl Shared {
    fn record(&mut self, sample: Result<Snapshot, String>) {
        match sample {
            Ok(snapshot) => {
                self.latest = serde_json::to_string(&snapshot).expect("a snapshot is plain data");
                let (cycles, more) = crate::render::cycles(&snapshot);
                let cycles = serde_json::json!({
                    "taken_ns": snapshot.taken_ns,
                    "cycles": cycles,
                    "more": more,
                });
                self.cycles = cycles.to_string();
                self.history.record(&snapshot);
                self.error = None;
            }
            Err(error) => self.error = Some(error),
        }
    }
}

/// Serves the page until Ctrl-C. The first snapshot is taken before the socket listens, so a
/// target that cannot be read is reported at once, and the page never starts empty.
pub fn serve(
    args: &crate::Args,
    mut take: impl FnMut() -> Result<Snapshot, String> + Send + 'static,
) -> Result<(), String> {
    let first = take()?;
    let shared = Rc::new(RefCell::new(Shared::default()));
    shared.borrow_mut().record(Ok(first));
    let port = args.port;
    tether::run(async move {
        let listener = tether::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .map_err(|error| format!("cannot listen on 127.0.0.1:{port}: {error}"))?;
        let addr = listener
            .local_addr()
            .map_err(|error| format!("cannot read the listening address: {error}"))?;
        println!("serving http://{addr}/");
        std::io::stdout()
            .flush()
            .map_err(|error| format!("cannot write to stdout: {error}"))?;
        let sampling = sample(take, shared.clone());
        let serving = server::accept(listener, shared);
        tether::select! {
            () = sampling.fuse() => Ok(()),
            served = serving.fuse() => served,
            stopped = tether::signal::ctrl_c().fuse() => {
                stopped.map_err(|error| format!("cannot watch for Ctrl-C: {error}"))
            }
        }
    })
}

/// Takes a snapshot every second, on the blocking pool, forever.
async fn sample(
    mut take: impl FnMut() -> Result<Snapshot, String> + Send + 'static,
    shared: Rc<RefCell<Shared>>,
) {
    loop {
        tether::sleep(SAMPLE_EVERY).await;
        // The closure goes to the pool and comes back with the snapshot.
        let taken = tether::to_thread(move || {
            let sample = take();
            (take, sample)
        })
        .await;
        let Ok((back, sample)) = taken else {
            shared.borrow_mut().error = Some("the sampling thread panicked".to_owned());
            return;
        };
        take = back;
        shared.borrow_mut().record(sample);
    }
}
