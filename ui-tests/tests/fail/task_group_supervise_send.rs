fn main() {
    tether::run(async {
        let _ = tether::task_group!(supervise send |tg| {
            tg.create_task(async { 1 });
        });
    });
}
