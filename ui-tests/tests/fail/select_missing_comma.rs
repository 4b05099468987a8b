async fn no_comma() -> i32 {
    tether::select! {
        n = futures::FutureExt::fuse(futures::future::ready(1)) => n + 1
        n = futures::FutureExt::fuse(futures::future::ready(2)) => n,
    }
}

fn main() {
    drop(no_comma());
}
