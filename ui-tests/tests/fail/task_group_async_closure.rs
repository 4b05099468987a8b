async fn work() {}

async fn body() {
    let _ = tether::task_group!(async |tg| {
        tg.create_task(work());
    });
}

fn main() {
    let _ = body();
}
