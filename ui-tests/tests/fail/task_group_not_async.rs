// task_group! is awaited in place, so it only works in async code.

fn main() {
    let _ = tether::task_group!(|tg| {
        tg.create_task(async {});
    });
}
