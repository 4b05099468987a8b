fn main() {
    tether::run(async {
        let _ = tether::task_group!(limit = 2, limit = 3, |tg| {
            tg.create_task(async {});
        });
    });
}
