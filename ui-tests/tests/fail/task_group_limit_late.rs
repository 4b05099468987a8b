fn main() {
    tether::run(async {
        let _ = tether::task_group!(send limit = 2, |tg| {
            tg.create_task(async {});
        });
    });
}
