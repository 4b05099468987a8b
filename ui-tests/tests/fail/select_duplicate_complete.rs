async fn twice() -> i32 {
    tether::select! {
        n = futures::FutureExt::fuse(futures::future::ready(1)) => n,
        complete => 0,
        complete => 1,
    }
}

fn main() {
    drop(twice());
}
