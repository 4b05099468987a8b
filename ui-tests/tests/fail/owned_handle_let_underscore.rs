// `Handle::spawn_threadsafe` returns `Result<Task<T>, LoopClosed>`: `let _ =` drops the `Task`
// inside, which cancels the task.

#[tether::owned]
fn from_another_thread(handle: tether::Handle) {
    let _ = handle.spawn_threadsafe(async {});
}

fn main() {
    tether::run(async {
        let handle = tether::Handle::current();
        std::thread::spawn(move || from_another_thread(handle))
            .join()
            .unwrap();
    });
}
