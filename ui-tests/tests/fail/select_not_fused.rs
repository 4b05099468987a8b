async fn not_fused() {
    tether::select! {
        () = futures::future::ready(()) => {}
        () = tether::yield_now() => {}
    }
}

fn main() {
    drop(not_fused());
}
