async fn body() {
    let _ = tether::gather!(try async { 1 }, async { Ok::<_, ()>(2) });
}

fn main() {
    let _ = body();
}
