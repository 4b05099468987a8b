fn main() {
    let _ = tether::select! {
        n = futures::FutureExt::fuse(futures::future::ready(1)) => n,
        default => 0,
        default => 1,
    };
}
