use futures::FutureExt;

fn not_async() -> i32 {
    tether::select! {
        n = futures::future::ready(1).fuse() => n,
    }
}

fn main() {
    not_async();
}
