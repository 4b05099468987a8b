use futures::FutureExt;

async fn by_path() {
    let work = async { tether::yield_now().await }.fuse();
    tether::select! {
        () = work => {}
        () = futures::future::ready(()).fuse() => {}
    }
}

fn main() {
    drop(by_path());
}
