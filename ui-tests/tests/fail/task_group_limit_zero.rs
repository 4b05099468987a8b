fn main() {
    tether::run(async {
        let _ = tether::task_group!(limit = 0, |tg| {
            tg.create_task(async {});
        });
    });
}
