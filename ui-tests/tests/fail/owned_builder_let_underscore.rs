// A `Task` made through `tether::task::Builder` is owned the same way.

use tether::task::Builder;

#[tether::owned]
async fn start_named() {
    let _ = Builder::new().name("indexer").create_task(async {});
    let _ = Builder::new().name("checksum").spawn(async {});
}

fn main() {
    tether::run(start_named());
}
