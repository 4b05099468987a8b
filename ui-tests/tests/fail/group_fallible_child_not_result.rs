fn main() {
    tether::run(async {
        tether::task_group!(try |tg| {
            tg.create_task(async { Ok::<i32, String>(1) });
            // A fallible group's children return `Result<T, E>`, with the group's `E`.
            tg.create_task(async { 2 });
        })
        .unwrap();
    });
}
