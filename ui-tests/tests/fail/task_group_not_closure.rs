async fn work() {}

async fn body() {
    let _ = tether::task_group!(work());
}

fn main() {
    let _ = body();
}
