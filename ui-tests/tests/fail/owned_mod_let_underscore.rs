// On an inline module, `#[tether::owned]` checks every function in it: a helper returning a
// `Task`, one returning `Option<Task<_>>`, and a `TaskSet` (dropping it cancels its tasks).

#[tether::owned]
mod server {
    pub fn start() -> tether::Task<u32> {
        tether::create_task(async { 1 })
    }

    pub fn maybe_start(yes: bool) -> Option<tether::Task<u32>> {
        yes.then(start)
    }

    pub async fn run() {
        let _ = start();
        let _ = maybe_start(true);
        let _ = {
            let mut set = tether::TaskSet::new();
            set.create_task(async { 2 });
            set
        };
    }
}

fn main() {
    tether::run(server::run());
}
